"""Tests of the task batch generators in altrnn.tasks."""

import numpy as np
import pytest

from altrnn.tasks import GENERATORS, TASKS, USER_TASKS, Task, make_task, masked_mse
from task_checks import check_valid, rng, same

NAMES = sorted(GENERATORS)  # the user tasks (arrays, neurogym) need parameters: tests/test_user_tasks.py
B = 16


# --- generic contract --------------------------------------------------------


def test_registry():
    assert sorted(NAMES) == sorted(["flipflop", "integration", "memorypro", "sinewave", "delayed_discrimination",
                                    "path_integration", "hmm"])
    assert sorted(TASKS) == sorted([*NAMES, *USER_TASKS])
    for name, cls in TASKS.items():
        assert cls.name == name and issubclass(cls, Task)


@pytest.mark.parametrize("name", NAMES)
def test_shapes_and_channels(name):
    task = make_task(name)
    check_valid(task, task.batch(B, rng()), B)
    expected = {"flipflop": (3, 3), "integration": (4, 1), "memorypro": (3, 3), "sinewave": (2, 1),
                "delayed_discrimination": (2, 1), "path_integration": (2, 2), "hmm": (2, 3)}[name]
    assert (task.n_in, task.n_out) == expected


@pytest.mark.parametrize("name", NAMES)
def test_analysis_inputs_fit_the_network(name):
    task = make_task(name)
    inputs = task.analysis_inputs()
    assert inputs and all(u.shape == (task.n_in,) and np.isfinite(u).all() for u in inputs.values())


@pytest.mark.parametrize("name", NAMES)
def test_determinism(name):
    task = make_task(name)
    assert same(task.batch(B, rng(1)), task.batch(B, rng(1)))
    assert not same(task.batch(B, rng(1)), task.batch(B, rng(2)))


@pytest.mark.parametrize("name", NAMES)
def test_accuracy_of_targets_is_one(name):
    task = make_task(name)
    batch = task.batch(B, rng())
    assert task.accuracy(batch.targets, batch) == 1.0
    assert masked_mse(batch.targets, batch) == 0.0
    with pytest.raises(ValueError):
        task.accuracy(batch.targets[:-1], batch)


@pytest.mark.parametrize("name", ["flipflop", "integration"])
def test_accuracy_of_negated_targets_is_zero(name):
    task = make_task(name)
    batch = task.batch(B, rng())
    assert task.accuracy(-batch.targets, batch) == 0.0


def test_memorypro_accuracy_of_opposite_direction_is_zero():
    task = make_task("memorypro")
    batch = task.batch(B, rng())
    rotated = batch.targets.copy()
    rotated[..., 1:] *= -1  # rotation by pi
    assert task.accuracy(rotated, batch) == 0.0


def test_accuracy_rejects_wrong_shape():
    task = make_task("flipflop")
    batch = task.batch(B, rng())
    with pytest.raises(ValueError):
        task.accuracy(batch.targets[:-1], batch)


@pytest.mark.parametrize("name", NAMES)
def test_masked_mse(name):
    task = make_task(name)
    batch = task.batch(B, rng())
    assert masked_mse(batch.targets, batch) == 0.0
    zeros = np.zeros_like(batch.targets)
    total, count = 0.0, 0
    for t, b, k in np.ndindex(batch.mask.shape):
        if batch.mask[t, b, k]:
            total += batch.targets[t, b, k] ** 2
            count += 1
    assert masked_mse(zeros, batch) == pytest.approx(total / count)


@pytest.mark.parametrize("name", NAMES)
def test_ood_variants(name):
    task = make_task(name)
    base = task.batch(4, rng())
    variants = task.ood_variants()
    assert variants
    for key, variant in variants.items():
        assert type(variant) is type(task)
        assert variant.params != task.params, key
        batch = variant.batch(4, rng())
        check_valid(variant, batch, 4)
        if key in ("temporal_x2", "long", "sparse"):
            assert batch.inputs.shape[0] > base.inputs.shape[0]


def test_ood_variant_params():
    ff = make_task("flipflop").ood_variants()
    assert ff["temporal_x2"].params["T"] == 200 and ff["long"].params["T"] == 300
    assert ff["sparse"].params["T"] == 200 and ff["sparse"].params["p_pulse"] == pytest.approx(0.05 / 3)
    assert ff["noisy"].params["input_noise"] == 0.2
    assert make_task("flipflop", {"input_noise": 0.3}).ood_variants()["noisy"].params["input_noise"] == 0.6
    ci = make_task("integration").ood_variants()
    assert ci["noisy"].params["noise_std"] == 1.0 and ci["temporal_x2"].params["T_stim"] == 100
    mp = make_task("memorypro").ood_variants()
    assert (mp["temporal_x2"].params["delay_min"], mp["temporal_x2"].params["delay_max"]) == (40, 80)
    assert mp["noisy"].params["stim_noise"] == 0.2


# task -> (the parameters temporal_x2 doubles, the doubled duration of each trial measured on a batch)
STRETCHED = {
    "flipflop": (["T"], lambda b: np.full(b.n_trials, b.T)),
    "integration": (["T_stim"], lambda b: (b.inputs[..., 0] != 0).sum(axis=0)),  # noisy stream: on while shown
    "memorypro": (["delay_min", "delay_max"], lambda b: b.meta["response_onset"] - 10 - 20),
    "delayed_discrimination": (["delay_min", "delay_max"], lambda b: b.meta["response_onset"] - 5 - 2 * 10),
    "sinewave": (["T_gen"], lambda b: b.mask[..., 0].sum(axis=0) - b.meta["onset"]),
    "path_integration": (["T"], lambda b: np.full(b.n_trials, b.T)),
    "hmm": (["n_steps"], lambda b: np.full(b.n_trials, b.T // 10)),  # hold: 10 steps per HMM step
}


@pytest.mark.parametrize("name", NAMES)
def test_temporal_x2_doubles_the_trial_length(name):
    """Every task has the paper's temporal generalisation test: the trial length (or the delay) x2."""
    task = make_task(name)
    keys, duration = STRETCHED[name]
    variant = task.ood_variants()["temporal_x2"]
    changed = {k for k in task.params if variant.params[k] != task.params[k]}
    assert changed == set(keys)
    assert all(variant.params[k] == 2 * task.params[k] for k in keys)
    base, long = duration(task.batch(64, rng())), duration(variant.batch(64, rng()))
    if "delay_min" in keys:  # a random delay: its drawn range doubles
        p = task.params
        assert p["delay_min"] <= base.min() and base.max() <= p["delay_max"]
        assert 2 * p["delay_min"] <= long.min() and long.max() <= 2 * p["delay_max"] and long.max() > p["delay_max"]
    else:
        assert np.array_equal(long, 2 * base) and base.min() > 0


def test_with_params_leaves_original():
    task = make_task("flipflop")
    other = task.with_params(T=7)
    assert other.params["T"] == 7 and task.params["T"] == 100
    assert other.params["n_bits"] == task.params["n_bits"]


# --- bad parameters ----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_unknown_key(name):
    with pytest.raises(ValueError, match="bogus") as err:
        make_task(name, {"bogus": 1})
    assert name in str(err.value)


@pytest.mark.parametrize(
    "name, key, value",
    [
        ("flipflop", "T", -5),
        ("flipflop", "n_bits", 0),
        ("flipflop", "p_pulse", 1.5),
        ("flipflop", "input_noise", -0.1),
        ("integration", "T_stim", -1),
        ("integration", "T_resp", 2.5),
        ("integration", "coherences", []),
        ("integration", "coherences", [0.1, -0.2]),
        ("integration", "noise_std", -1.0),
        ("memorypro", "T_fix", -10),
        ("memorypro", "delay_min", 50),  # > delay_max
        ("memorypro", "stim_noise", -1.0),
        ("memorypro", "grace", 20),  # >= T_resp
    ],
)
def test_bad_value(name, key, value):
    with pytest.raises(ValueError, match=key):
        make_task(name, {key: value})


def test_unknown_task():
    with pytest.raises(ValueError, match="nope") as err:
        make_task("nope")
    for name in NAMES:
        assert name in str(err.value)


def test_bad_n_trials():
    with pytest.raises(ValueError):
        make_task("flipflop").batch(0, rng())


# --- hand-checked trials -----------------------------------------------------


def test_flipflop_trial_by_hand():
    task = make_task("flipflop", {"p_pulse": 0.1})
    batch = task.batch(8, rng(3))
    x, y, m = batch.inputs[:, 0], batch.targets[:, 0], batch.mask[:, 0]
    assert set(np.unique(x)) <= {-1.0, 0.0, 1.0}
    for bit in range(3):
        state = 0.0
        for t in range(x.shape[0]):
            if x[t, bit] != 0:
                state = x[t, bit]
            assert y[t, bit] == state
            assert m[t, bit] == (1.0 if state != 0 else 0.0)
        assert batch.meta["n_pulses"][0, bit] == np.count_nonzero(x[:, bit])


def test_flipflop_noise_keeps_targets():
    clean = make_task("flipflop").batch(4, rng(5))
    noisy = make_task("flipflop", {"input_noise": 0.2}).batch(4, rng(5))
    assert np.array_equal(clean.targets, noisy.targets)
    assert not np.array_equal(clean.inputs, noisy.inputs)


def test_integration_trials_by_hand():
    task = make_task("integration", {"noise_std": 0.0})
    batch = task.batch(32, rng(4))
    coh, ctx, choice = batch.meta["coherence"], batch.meta["context"], batch.meta["choice"]
    stim, resp = slice(5, 55), slice(55, 65)
    assert set(np.unique(np.abs(coh))) <= {0.05, 0.1, 0.2, 0.4}
    assert set(np.unique(ctx)) == {0, 1}
    for b in range(32):
        assert choice[b] == np.sign(coh[b, ctx[b]])
        assert np.all(batch.targets[resp, b, 0] == choice[b])
        assert np.all(batch.targets[:55, b] == 0)
        assert np.all(batch.mask[resp, b] == 1) and np.all(batch.mask[:55, b] == 0)
        cue = np.zeros(2)
        cue[ctx[b]] = 1.0
        assert np.all(batch.inputs[:, b, 2:] == cue)
        assert np.all(batch.inputs[stim, b, :2] == coh[b])
        assert np.all(batch.inputs[:5, b, :2] == 0) and np.all(batch.inputs[55:, b, :2] == 0)


def test_memorypro_trials_by_hand():
    task = make_task("memorypro")
    batch = task.batch(32, rng(6))
    angle, delay, onset = batch.meta["angle"], batch.meta["delay"], batch.meta["response_onset"]
    assert batch.inputs.shape[0] == 10 + 20 + 40 + 20
    assert np.all((20 <= delay) & (delay <= 40)) and len(np.unique(delay)) > 1
    assert np.all((0 <= angle) & (angle < 2 * np.pi))
    assert np.array_equal(onset, 30 + delay)
    for b in range(32):
        x, y, m, on = batch.inputs[:, b], batch.targets[:, b], batch.mask[:, b], onset[b]
        end = on + 20
        direction = np.array([np.cos(angle[b]), np.sin(angle[b])])
        # fixation goes off exactly at response onset, in input and target
        assert np.all(x[:on, 0] == 1) and np.all(x[on:, 0] == 0)
        assert np.all(y[:on, 0] == 1) and np.all(y[on:, 0] == 0)
        # stimulus only in its epoch
        assert np.allclose(x[10:30, 1:], direction)
        assert np.all(x[:10, 1:] == 0) and np.all(x[30:, 1:] == 0)
        # direction target only during the response
        assert np.all(y[:on, 1:] == 0) and np.allclose(y[on:end, 1:], direction)
        assert np.all(y[end:] == 0)
        # mask: grace steps off for direction channels only, nothing after the response
        assert np.all(m[:end, 0] == 1)
        assert np.all(m[:on, 1:] == 1)
        assert np.all(m[on : on + 3, 1:] == 0)
        assert np.all(m[on + 3 : end, 1:] == 1)
        assert np.all(m[end:] == 0) and np.all(x[end:] == 0)


def test_memorypro_accuracy_tolerance():
    task = make_task("memorypro")
    batch = task.batch(B, rng())
    out = batch.targets.copy()
    for rot, expected in [(0.9 * np.pi / 10, 1.0), (1.1 * np.pi / 10, 0.0)]:
        c, s = np.cos(rot), np.sin(rot)
        turned = out.copy()
        turned[..., 1] = c * out[..., 1] - s * out[..., 2]
        turned[..., 2] = s * out[..., 1] + c * out[..., 2]
        assert task.accuracy(turned, batch) == expected
    # only the response after grace counts: junk before onset, in grace and after the end is ignored
    t = np.arange(batch.T)[:, None]
    onset = batch.meta["response_onset"]
    ignored = (t < onset + task.params["grace"]) | (t >= onset + task.params["T_resp"])
    out[ignored, 1:] = -5.0
    assert task.accuracy(out, batch) == 1.0

"""Task complexity (solution-degeneracy study): N-channel delayed discrimination with an auxiliary output,
N-channel sine waves, 3-D path integration, and memory demand as the delay range."""

import hashlib

import numpy as np
import pytest

from altrnn.io import SavedModel
from altrnn.model import ModelConfig
from altrnn.stages import dynamics, evaluate
from altrnn.tasks import make_task, masked_mse
from altrnn.train import TrainConfig, train
from task_checks import check_valid, rng

# --- existing configurations draw the batches they drew before ---------------

# sha256 (first 16 hex digits) of inputs, mask and metadata of 8 trials at seed 0, computed with the code
# before these parameters existed (targets are functions of those, checked by the hand-checked trials).
OLD_BATCHES = [
    ("delayed_discrimination", {}, "8d937c8a0df02590"),
    ("delayed_discrimination", {"input_noise": 0.1, "deltas": [4.0, 8.0]}, "a4a22b2b22210857"),
    ("sinewave", {}, "507f7732295bbf3d"),
    ("sinewave", {"n_freqs": 0}, "a0e05213a41d51dc"),
    ("path_integration", {}, "2055fe22de01921a"),
    ("path_integration", {"random_start": True, "walls": False}, "3e59c8f7608ce472"),
]


@pytest.mark.parametrize("name, params, digest", OLD_BATCHES)
def test_default_parameters_reproduce_old_batches(name, params, digest):
    batch = make_task(name, params).batch(8, rng(0))
    h = hashlib.sha256()
    for a in (batch.inputs, batch.mask, *[np.asarray(batch.meta[k]) for k in sorted(batch.meta)]):
        h.update(np.ascontiguousarray(a).tobytes())
    assert h.hexdigest()[:16] == digest


# --- bad values ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name, key, value",
    [
        ("delayed_discrimination", "n_channels", 0),
        ("delayed_discrimination", "n_channels", 2.5),
        ("delayed_discrimination", "n_channels", True),
        ("delayed_discrimination", "aux_output", "yes"),
        ("delayed_discrimination", "aux_output", 1),
        ("sinewave", "n_channels", 0),
        ("sinewave", "n_channels", "2"),
        ("path_integration", "n_dims", 1),
        ("path_integration", "n_dims", 4),
        ("path_integration", "n_dims", 2.5),
        ("path_integration", "n_dims", "3"),
        ("path_integration", "n_dims", True),
    ],
)
def test_bad_value(name, key, value):
    with pytest.raises(ValueError, match=key):
        make_task(name, {key: value})


# --- shapes, perfect outputs, variants, analysis inputs ------------------------

VARIANTS = [
    ("delayed_discrimination", {"n_channels": 3}, 4, 3),
    ("delayed_discrimination", {"aux_output": True}, 2, 2),
    ("delayed_discrimination", {"n_channels": 3, "aux_output": True}, 4, 6),
    ("sinewave", {"n_channels": 3}, 4, 3),
    ("path_integration", {"n_dims": 3}, 3, 3),
    ("path_integration", {"n_dims": 3, "random_start": True}, 6, 3),
]


@pytest.mark.parametrize("name, params, n_in, n_out", VARIANTS)
def test_shapes_perfect_output_and_ood(name, params, n_in, n_out):
    task = make_task(name, params)
    assert (task.n_in, task.n_out) == (n_in, n_out)
    batch = task.batch(16, rng())
    check_valid(task, batch, 16)
    assert batch.T == task.T
    assert task.accuracy(batch.targets, batch) == 1.0 and masked_mse(batch.targets, batch) == 0.0
    for key, variant in task.ood_variants().items():
        assert (variant.n_in, variant.n_out) == (n_in, n_out), key
        vb = variant.batch(8, rng())
        check_valid(variant, vb, 8)
        assert variant.accuracy(vb.targets, vb) == 1.0, key
    inputs = task.analysis_inputs()
    assert inputs and all(u.shape == (n_in,) and np.isfinite(u).all() for u in inputs.values())


# --- delayed discrimination ---------------------------------------------------


def test_delayed_discrimination_channels_and_aux_by_hand():
    task = make_task("delayed_discrimination", {"n_channels": 3, "aux_output": True, "deltas": [4.0, 8.0]})
    batch = task.batch(32, rng(1))
    f1, f2, label, delay = (batch.meta[k] for k in ("f1", "f2", "label", "delay"))
    assert f1.shape == f2.shape == label.shape == (32, 3) and delay.shape == (32,)
    assert set(np.abs(f2 - f1).ravel()) == {4.0, 8.0}
    for b in range(32):
        s2 = 15 + delay[b]
        on, end = s2 + 10, s2 + 20
        assert batch.meta["response_onset"][b] == on
        x, y, m = batch.inputs[:, b], batch.targets[:, b], batch.mask[:, b]
        assert np.all(x[:on, 0] == 1) and np.all(x[on:, 0] == 0)
        for c in range(3):
            expected = np.zeros(batch.T)
            expected[5:15] = 0.03 * f1[b, c]
            expected[s2:on] = 0.03 * f2[b, c]
            assert np.allclose(x[:, 1 + c], expected)
            assert label[b, c] == (1.0 if f1[b, c] > f2[b, c] else -1.0)
            assert np.all(y[:on, c] == 0) and np.all(y[on:end, c] == label[b, c]) and np.all(y[end:, c] == 0)
            aux = (f2[b, c] - f1[b, c]) / 8.0  # scaled by the largest delta: in [-1, 1]
            assert np.all(y[:on, 3 + c] == 0) and np.allclose(y[on:end, 3 + c], aux) and np.all(y[end:, 3 + c] == 0)
        for k in range(6):  # every output is scored alike: until the end of the response, grace excepted
            assert np.all(m[:on, k] == 1) and np.all(m[on : on + 2, k] == 0)
            assert np.all(m[on + 2 : end, k] == 1) and np.all(m[end:, k] == 0)


def test_delayed_discrimination_copies_are_independent():
    meta = make_task("delayed_discrimination", {"n_channels": 2}).batch(4000, rng(2)).meta
    assert np.mean(meta["label"][:, 0] == meta["label"][:, 1]) == pytest.approx(0.5, abs=0.03)  # sd 0.008
    assert abs(np.corrcoef(meta["f1"][:, 0], meta["f1"][:, 1])[0, 1]) < 0.05  # sd 0.016


def test_delayed_discrimination_channel_accuracy_and_aux_error():
    task = make_task("delayed_discrimination", {"n_channels": 4, "aux_output": True, "deltas": [2.0, 8.0]})
    batch = task.batch(64, rng(3))
    y = batch.targets
    assert task.extra_metrics(y, batch) == {"aux_error": 0.0}
    one_wrong = y.copy()
    one_wrong[..., 2] *= -1  # one copy answers the opposite
    assert task.accuracy(one_wrong, batch) == pytest.approx(3 / 4)
    # the auxiliary outputs do not enter accuracy; their error is measured over the scored response only
    shifted = y.copy()
    t = np.arange(batch.T)[:, None]
    onset = batch.meta["response_onset"]
    scored = (t >= onset + 2) & (t < onset + 10)
    shifted[..., 4:] += 0.1 * scored[..., None]
    shifted[~scored, 4:] = 7.0  # junk outside the scored response is ignored
    assert task.accuracy(shifted, batch) == 1.0
    assert task.extra_metrics(shifted, batch)["aux_error"] == pytest.approx(0.1)
    plain = make_task("delayed_discrimination")
    plain_batch = plain.batch(8, rng())
    assert plain.extra_metrics(plain_batch.targets, plain_batch) == {}  # no auxiliary output, no aux_error


@pytest.mark.parametrize("delay_min, delay_max", [(0, 0), (7, 7), (0, 40), (50, 120)])
def test_delayed_discrimination_memory_demand(delay_min, delay_max):
    """Any delay range: trial length, drawn delays, masks and accuracy follow it."""
    task = make_task("delayed_discrimination", {"delay_min": delay_min, "delay_max": delay_max, "n_channels": 2})
    batch = task.batch(64, rng(4))
    delay = batch.meta["delay"]
    assert batch.T == 5 + 2 * 10 + delay_max + 10
    assert np.all((delay_min <= delay) & (delay <= delay_max))
    if delay_max - delay_min >= 40:
        assert len(np.unique(delay)) > 10
    assert np.array_equal(batch.meta["response_onset"], 25 + delay)
    scored = batch.mask[..., 0].sum(axis=0)
    assert np.array_equal(scored, 5 + 2 * 10 + delay + 10 - 2)  # every step to the response's end, but grace
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(-batch.targets, batch) == 0.0


def test_delayed_discrimination_analysis_inputs():
    u = make_task("delayed_discrimination", {"n_channels": 3, "aux_output": True}).analysis_inputs()
    assert np.array_equal(u["delay"], [1, 0, 0, 0]) and np.array_equal(u["response"], np.zeros(4))


# --- sine waves ---------------------------------------------------------------


def test_sinewave_channels_by_hand():
    task = make_task("sinewave", {"n_channels": 3, "T_gen": 40})
    p = task.params
    batch = task.batch(16, rng(5))
    freq, onset = batch.meta["frequency"], batch.meta["onset"]
    assert freq.shape == (16, 3) and onset.shape == (16,)
    assert set(np.round(freq.ravel(), 12)) <= set(np.round(np.linspace(0.02, 0.06, 11), 12))
    assert np.mean(freq[:, 0] != freq[:, 1]) > 0.5
    for b in range(16):
        x, y, m, on = batch.inputs[:, b], batch.targets[:, b], batch.mask[:, b], onset[b]
        end = on + 40
        assert np.all(x[:on, 3] == 1) and np.all(x[on:, 3] == 0)
        for c in range(3):
            assert np.all(x[:end, c] == p["input_offset"] + p["input_gain"] * freq[b, c]) and np.all(x[end:, c] == 0)
            assert np.all(y[:on, c] == 0) and np.all(y[end:, c] == 0)
            assert np.allclose(y[on:end, c], [np.sin(2 * np.pi * freq[b, c] * k) for k in range(40)])
            assert np.all(m[:end, c] == 1) and np.all(m[end:, c] == 0)


def test_sinewave_channel_accuracy_and_frequency_error():
    task = make_task("sinewave", {"n_channels": 2})
    batch = task.batch(32, rng(6))
    y = batch.targets
    assert task.extra_metrics(y, batch)["frequency_error"] < 1e-3
    one_wrong = y.copy()
    one_wrong[..., 1] *= -1
    assert task.accuracy(one_wrong, batch) == 0.5
    # channel 0 30% faster: its trials fail, channel 1's still correlate perfectly
    t = np.arange(batch.T)[:, None]
    fast = y.copy()
    on, f = batch.meta["onset"], batch.meta["frequency"][:, 0]
    fast[..., 0] = (batch.inputs[..., 2] == 0) * np.sin(2 * np.pi * 1.3 * f * (t - on)) * batch.mask[..., 0]
    assert task.accuracy(fast, batch) < 0.6
    assert task.correlations(fast, batch).reshape(32, 2)[:, 1] == pytest.approx(np.ones(32))


def test_sinewave_analysis_inputs():
    task = make_task("sinewave", {"n_channels": 2})
    u = task.analysis_inputs()
    assert np.allclose(u["f_mid"], [task.level(0.04), task.level(0.04), 0.0])
    assert np.allclose(u["f_min"][:2], task.level(0.02)) and u["f_max"][2] == 0.0


# --- 3-D path integration -----------------------------------------------------


@pytest.mark.parametrize("walls", [True, False])
def test_path_integration_3d_target_is_integrated_velocity(walls):
    task = make_task("path_integration", {"n_dims": 3, "walls": walls, "speed": 0.1})
    batch = task.batch(64, rng(7))
    assert np.allclose(batch.targets, np.cumsum(batch.inputs, axis=0) / 10.0, atol=1e-12)
    assert (np.abs(batch.targets).max() > 1.0) != walls  # walls keep the walker in the cube
    assert np.all(batch.mask == 1)
    v = batch.inputs / 10.0
    for k in range(3):  # every axis moves, at the stationary speed (before reflections)
        assert 0.07 < v[..., k].std() < 0.13


def test_path_integration_3d_random_start():
    task = make_task("path_integration", {"n_dims": 3, "random_start": True, "T_cue": 4})
    batch = task.batch(32, rng(8))
    start = batch.meta["start"]
    assert start.shape == (32, 3) and batch.T == 104
    assert np.all(np.abs(start) <= 1.0) and np.all(start.std(axis=0) > 0.3)
    assert np.all(batch.inputs[:4, :, :3] == 0) and np.all(batch.inputs[:4, :, 3:] == start)
    assert np.all(batch.inputs[4:, :, 3:] == 0)
    assert np.all(batch.mask[:4] == 0) and np.all(batch.mask[4:] == 1)
    assert np.allclose(batch.targets[4:], start + np.cumsum(batch.inputs[4:, :, :3], axis=0) / 10, atol=1e-12)


def test_path_integration_3d_accuracy_tolerance():
    task = make_task("path_integration", {"n_dims": 3})  # side 2, tolerance 0.1: errors below 0.2 count
    batch = task.batch(16, rng(9))
    offset = np.array([2.0, 3.0, 6.0]) / 7.0  # unit vector
    assert task.accuracy(batch.targets + 0.19 * offset, batch) == 1.0
    assert task.accuracy(batch.targets + 0.21 * offset, batch) == 0.0
    v = task.ood_variants()
    assert v["temporal_x2"].params["T"] == 200 and v["temporal_x2"].params["n_dims"] == 3


# --- a tiny network trains on each --------------------------------------------

SMALL = [
    ("delayed_discrimination", {"n_channels": 2, "aux_output": True, "deltas": [4.0, 8.0],
                                "delay_min": 2, "delay_max": 6}),
    ("sinewave", {"n_channels": 2, "T_gen": 30}),
    ("path_integration", {"n_dims": 3, "random_start": True, "T": 30}),
]


@pytest.mark.parametrize("name, params", SMALL)
def test_tiny_network_trains_evaluates_and_has_fixed_points(name, params):
    task = make_task(name, params)
    cfg = ModelConfig(n_in=task.n_in, n_rec=12, n_out=task.n_out, dtype="float64")
    result = train(task, cfg, TrainConfig(batch_size=16, lr=0.01, max_iters=40, log_every=5), g=1.0, seed=0)
    loss = result.log["task_loss"].to_numpy()
    assert np.isfinite(loss).all() and loss[-1] < 0.8 * loss[0]
    saved = SavedModel(result.params, cfg, {})
    ev = evaluate.evaluate(saved, task, n_trials=8, seed=0)
    assert list(ev["condition"]) == ["in_distribution", *task.ood_variants()]
    assert ev["loss"].notna().all() and ev["accuracy"].between(0, 1).all()
    if task.params.get("aux_output"):
        assert ev["aux_error"].notna().all()
    points, _ = dynamics.fixed_point_analysis(saved, task, {"n_trials": 4, "n_initial": 8, "max_iters": 100})
    assert set(points["condition"]) <= set(task.analysis_inputs())

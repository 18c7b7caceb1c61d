"""Tests of the sine-wave, delayed-discrimination, path-integration and HMM-emulation tasks."""

import itertools
import math

import numpy as np
import pytest

from altrnn.tasks import make_task
from altrnn.tasks.hmm import (
    analytic_statistics,
    bootstrap_distances,
    compare_statistics,
    emission_statistics,
    inverse_cdf,
    sequence_counts,
    stationary_distribution,
    statistics_from_counts,
)
from altrnn.tasks.sinewave import fit_frequency
from task_checks import check_valid, rng

NEW = ["sinewave", "delayed_discrimination", "path_integration", "hmm"]
B = 16


# --- shared contract ---------------------------------------------------------


@pytest.mark.parametrize("name", NEW)
def test_shapes_and_channels(name):
    task = make_task(name)
    batch = task.batch(B, rng())
    check_valid(task, batch, B)
    expected = {"sinewave": (2, 1), "delayed_discrimination": (2, 1), "path_integration": (2, 2), "hmm": (2, 3)}
    assert (task.n_in, task.n_out) == expected[name]
    assert batch.T == task.T


@pytest.mark.parametrize("name", NEW)
def test_unknown_key(name):
    with pytest.raises(ValueError, match="bogus") as err:
        make_task(name, {"bogus": 1})
    assert name in str(err.value)


@pytest.mark.parametrize(
    "name, key, value",
    [
        ("sinewave", "T_gen", 0),
        ("sinewave", "fix_min", 20),  # > fix_max
        ("sinewave", "f_min", 0.0),
        ("sinewave", "f_max", 0.6),  # above Nyquist
        ("sinewave", "f_min", 0.07),  # > f_max
        ("sinewave", "n_freqs", -1),
        ("sinewave", "n_freqs", 1),  # a single frequency needs f_min == f_max
        ("sinewave", "input_gain", "big"),
        ("sinewave", "input_gain", 0),
        ("sinewave", "min_correlation", 1.5),
        ("delayed_discrimination", "T_stim", 0),
        ("delayed_discrimination", "delay_min", 40),  # > delay_max
        ("delayed_discrimination", "grace", 10),  # >= T_resp
        ("delayed_discrimination", "f1_values", []),
        ("delayed_discrimination", "f1_values", [10, -3]),
        ("delayed_discrimination", "deltas", [12.0]),  # f2 could be <= 0
        ("delayed_discrimination", "deltas", "8"),
        ("delayed_discrimination", "input_gain", 0.0),
        ("delayed_discrimination", "input_noise", -0.1),
        ("path_integration", "T", 0),
        ("path_integration", "arena", 0.0),
        ("path_integration", "speed", -1.0),
        ("path_integration", "persistence", 1.0),
        ("path_integration", "walls", 1),
        ("path_integration", "random_start", "yes"),
        ("path_integration", "tolerance", 0.0),
        ("path_integration", "input_gain", -1.0),
        ("hmm", "n_states", 0),
        ("hmm", "n_steps", 1),
        ("hmm", "grace", 10),  # >= hold
        ("hmm", "noise", "cauchy"),
        ("hmm", "noise_scale", 0.0),
        ("hmm", "transition", [[0.5, 0.5, 0.0], [0.2, 0.2, 0.2], [0.0, 0.0, 1.0]]),  # row 1 sums to 0.6
        ("hmm", "transition", [[0.5, 0.5], [0.5, 0.5]]),  # not n_states x n_states
        ("hmm", "transition", [[1.2, -0.2, 0.0], [0, 1, 0], [0, 0, 1]]),  # negative entry
        ("hmm", "emission", [[0.5, 0.5]]),  # one row for three states
        ("hmm", "emission", "identity"),
        ("hmm", "initial", [0.5, 0.5]),
    ],
)
def test_bad_value(name, key, value):
    with pytest.raises(ValueError, match=key):
        make_task(name, {key: value})


@pytest.mark.parametrize("name", NEW)
def test_ood_variants_are_valid(name):
    task = make_task(name)
    base = task.batch(4, rng())
    for key, variant in task.ood_variants().items():
        assert type(variant) is type(task)
        assert variant.params != task.params, key
        batch = variant.batch(4, rng())
        check_valid(variant, batch, 4)
        assert variant.accuracy(batch.targets, batch) == 1.0
        if key in ("temporal_x2", "long"):
            assert batch.T > base.T


def test_extra_metrics_default_is_empty():
    task = make_task("flipflop")
    batch = task.batch(4, rng())
    assert task.extra_metrics(batch.targets, batch) == {}


# --- sine wave ---------------------------------------------------------------


def test_sinewave_trials_by_hand():
    task = make_task("sinewave")
    p = task.params
    batch = task.batch(32, rng(3))
    freq, onset = batch.meta["frequency"], batch.meta["onset"]
    assert batch.T == 15 + 100
    assert set(np.round(freq, 12)) <= set(np.round(np.linspace(0.02, 0.06, 11), 12))
    assert np.all((5 <= onset) & (onset <= 15)) and len(np.unique(onset)) > 1
    for b in range(32):
        x, y, m, on = batch.inputs[:, b], batch.targets[:, b, 0], batch.mask[:, b, 0], onset[b]
        end = on + 100
        assert np.all(x[:end, 0] == p["input_offset"] + p["input_gain"] * freq[b]) and np.all(x[end:] == 0)
        assert np.all(x[:on, 1] == 1) and np.all(x[on:, 1] == 0)
        assert np.all(y[:on] == 0) and np.all(y[end:] == 0)
        assert np.allclose(y[on:end], [math.sin(2 * math.pi * freq[b] * k) for k in range(100)])
        assert np.all(m[:end] == 1) and np.all(m[end:] == 0)


def test_sinewave_target_frequency_by_fft_matches_encoded_level():
    task = make_task("sinewave", {"T_gen": 400, "n_freqs": 0})
    batch = task.batch(16, rng(4))
    p = task.params
    n_pad = 1 << 16
    for b in range(16):
        on = batch.meta["onset"][b]
        window = batch.targets[on : on + 400, b, 0]
        spectrum = np.abs(np.fft.rfft(window * np.hanning(400), n_pad))
        f_fft = np.argmax(spectrum) / n_pad
        f_level = (batch.inputs[0, b, 0] - p["input_offset"]) / p["input_gain"]
        assert abs(f_fft - f_level) < 2e-4  # bin width 1.5e-5; Hann window keeps the peak unbiased
        assert f_level == pytest.approx(batch.meta["frequency"][b])


def test_fit_frequency_recovers_sinusoids():
    g = rng(5)
    k = np.arange(100)[:, None]
    f = g.uniform(0.006, 0.45, 200)
    clean = 0.3 + 2.0 * np.sin(2 * np.pi * f * k + g.uniform(0, 2 * np.pi, 200))
    assert np.max(np.abs(fit_frequency(clean) - f)) < 2e-5
    noisy = clean + 0.5 * g.standard_normal(clean.shape)
    assert np.median(np.abs(fit_frequency(noisy) - f)) < 1e-3
    with pytest.raises(ValueError, match="y must be"):
        fit_frequency(np.zeros(10))


def test_sinewave_accuracy_and_frequency_error():
    task = make_task("sinewave")
    batch = task.batch(64, rng(6))
    y = batch.targets
    assert task.extra_metrics(y, batch)["frequency_error"] < 1e-3
    assert task.accuracy(0.5 * y, batch) == 1.0  # amplitude is the loss's business
    assert task.accuracy(-y, batch) == 0.0
    assert task.accuracy(np.zeros_like(y), batch) == 0.0
    # the same wave 30% faster: wrong frequency, poor correlation, fitted error 0.3
    t = np.arange(batch.T)[:, None]
    on, f = batch.meta["onset"], batch.meta["frequency"]
    fast = (batch.inputs[..., 1] == 0) * np.sin(2 * np.pi * 1.3 * f * (t - on)) * batch.mask[..., 0]
    assert task.accuracy(fast[..., None], batch) < 0.2
    assert task.extra_metrics(fast[..., None], batch)["frequency_error"] == pytest.approx(0.3, abs=0.01)
    # only the generation epoch counts
    junk = y.copy()
    junk[batch.inputs[..., 1] == 1] = 3.0
    junk[batch.mask == 0] = -3.0
    assert task.accuracy(junk, batch) == 1.0


def test_sinewave_ood_variants():
    task = make_task("sinewave")
    v = task.ood_variants()
    assert np.allclose(v["interpolated"].frequencies(), np.arange(0.022, 0.06, 0.004))
    assert len(v["interpolated"].frequencies()) == 10
    low, high = v["extrapolated_low"].params, v["extrapolated_high"].params
    assert (low["f_min"], low["f_max"]) == pytest.approx((0.01, 0.02))
    assert (high["f_min"], high["f_max"]) == pytest.approx((0.06, 0.08))
    assert v["temporal_x2"].params["T_gen"] == 200
    for key in ("extrapolated_low", "extrapolated_high"):
        f = v[key].batch(64, rng()).meta["frequency"]
        assert np.all((f >= v[key].params["f_min"]) & (f <= v[key].params["f_max"]))
        assert len(np.unique(f)) == 64  # drawn from the interval, not a grid
    # the encoding is the trained one in every variant
    for variant in v.values():
        assert variant.level(0.05) == task.level(0.05) == pytest.approx(0.7)
    assert "interpolated" not in make_task("sinewave", {"n_freqs": 0}).ood_variants()


# --- delayed discrimination --------------------------------------------------


def test_delayed_discrimination_trials_by_hand():
    task = make_task("delayed_discrimination")
    batch = task.batch(64, rng(7))
    f1, f2, delay, label = (batch.meta[k] for k in ("f1", "f2", "delay", "label"))
    assert batch.T == 5 + 10 + 30 + 10 + 10
    assert set(f1) <= {10.0, 14.0, 18.0, 22.0, 26.0, 30.0, 34.0}
    assert np.all(np.abs(f2 - f1) == 8.0)
    assert set(label) == {-1.0, 1.0} and 16 < np.sum(label > 0) < 48
    assert np.all((10 <= delay) & (delay <= 30))
    for b in range(64):
        x, y, m = batch.inputs[:, b], batch.targets[:, b, 0], batch.mask[:, b, 0]
        s2 = 15 + delay[b]
        on, end = s2 + 10, s2 + 20
        assert label[b] == (1.0 if f1[b] > f2[b] else -1.0)
        expected = np.zeros(batch.T)
        expected[5:15] = 0.03 * f1[b]
        expected[s2:on] = 0.03 * f2[b]
        assert np.allclose(x[:, 1], expected)
        assert np.all(x[:on, 0] == 1) and np.all(x[on:, 0] == 0)
        assert np.all(y[:on] == 0) and np.all(y[on:end] == label[b]) and np.all(y[end:] == 0)
        assert np.all(m[:on] == 1) and np.all(m[on : on + 2] == 0) and np.all(m[on + 2 : end] == 1)
        assert np.all(m[end:] == 0)
        assert batch.meta["response_onset"][b] == on


def test_delayed_discrimination_noise_only_on_stimuli():
    clean = make_task("delayed_discrimination").batch(8, rng(8))
    noisy = make_task("delayed_discrimination", {"input_noise": 0.1}).batch(8, rng(8))
    assert np.array_equal(clean.targets, noisy.targets)
    changed = noisy.inputs[..., 1] != clean.inputs[..., 1]
    assert np.array_equal(changed, clean.inputs[..., 1] != 0)
    assert np.array_equal(noisy.inputs[..., 0], clean.inputs[..., 0])


def test_delayed_discrimination_accuracy():
    task = make_task("delayed_discrimination")
    batch = task.batch(64, rng(9))
    y = batch.targets
    assert task.accuracy(-y, batch) == 0.0
    flipped = y.copy()
    flipped[:, :16] *= -1
    assert task.accuracy(flipped, batch) == pytest.approx(48 / 64)
    junk = y.copy()
    junk[batch.mask == 0] = -5 * np.sign(y[batch.mask == 0] + 0.5)  # grace and after-trial steps say otherwise
    assert task.accuracy(junk, batch) == 1.0


def test_delayed_discrimination_ood_variants():
    task = make_task("delayed_discrimination")
    v = task.ood_variants()
    assert (v["temporal_x2"].params["delay_min"], v["temporal_x2"].params["delay_max"]) == (20, 60)
    assert v["new_pairs"].params["f1_values"] == [12.0, 16.0, 20.0, 24.0, 28.0, 32.0]
    assert v["noisy"].params["input_noise"] == 0.1
    trained = {(a, a + s * d) for a in task.params["f1_values"] for d in task.params["deltas"] for s in (-1, 1)}
    meta = v["new_pairs"].batch(64, rng()).meta
    assert not {(a, b) for a, b in zip(meta["f1"], meta["f2"])} & trained


# --- path integration --------------------------------------------------------


@pytest.mark.parametrize("walls", [True, False])
def test_path_integration_target_is_integrated_velocity(walls):
    task = make_task("path_integration", {"walls": walls, "speed": 0.1})
    batch = task.batch(64, rng(10))
    assert task.params["input_gain"] == 10.0
    assert np.allclose(batch.targets, np.cumsum(batch.inputs, axis=0) / 10.0, atol=1e-12)
    outside = np.abs(batch.targets).max() > 1.0
    assert outside != walls  # walls keep the walker in; without them it leaves at this speed
    assert np.all(batch.mask == 1)


def test_path_integration_walls_reflect():
    """With walls, the velocity is the free walk's until a step would leave the arena; that step is reversed."""
    free = make_task("path_integration", {"walls": False, "speed": 0.1}).batch(32, rng(11))
    walled = make_task("path_integration", {"speed": 0.1}).batch(32, rng(11))
    v_free, v_wall = free.inputs, walled.inputs
    n_flips = 0
    for b, k in itertools.product(range(32), range(2)):
        differ = np.flatnonzero(v_free[:, b, k] != v_wall[:, b, k])
        if not len(differ):
            assert np.abs(free.targets[:, b, k]).max() <= 1.0  # never reached a wall
            continue
        t = differ[0]
        n_flips += 1
        assert v_wall[t, b, k] == -v_free[t, b, k]
        assert abs(free.targets[t, b, k]) > 1.0 >= np.abs(free.targets[:t, b, k]).max(initial=0.0)
    assert n_flips > 10


def test_path_integration_velocity_statistics():
    task = make_task("path_integration", {"walls": False, "T": 400, "speed": 0.05, "persistence": 0.8})
    v = task.batch(200, rng(12)).inputs / 10.0  # 160k samples per component, correlation time ~ 9 steps
    assert v.std() == pytest.approx(0.05, rel=0.03)
    lag1 = np.mean(v[1:] * v[:-1]) / np.mean(v**2)
    assert lag1 == pytest.approx(0.8, abs=0.01)


def test_path_integration_input_gain_scales_inputs_only():
    plain = make_task("path_integration", {"input_gain": 1.0}).batch(8, rng(19))
    scaled = make_task("path_integration", {"input_gain": 10.0}).batch(8, rng(19))
    assert np.allclose(scaled.inputs, 10 * plain.inputs) and np.array_equal(scaled.targets, plain.targets)


def test_path_integration_random_start():
    task = make_task("path_integration", {"random_start": True, "T_cue": 5})
    batch = task.batch(32, rng(13))
    start = batch.meta["start"]
    assert task.n_in == 4 and batch.T == 105
    assert np.all(np.abs(start) <= 1.0) and np.std(start) > 0.3
    assert np.all(batch.inputs[:5, :, :2] == 0) and np.all(batch.inputs[:5, :, 2:] == start)
    assert np.all(batch.inputs[5:, :, 2:] == 0)
    assert np.all(batch.mask[:5] == 0) and np.all(batch.mask[5:] == 1)
    assert np.allclose(batch.targets[5:], start + np.cumsum(batch.inputs[5:, :, :2], axis=0) / 10, atol=1e-12)


def test_path_integration_accuracy_tolerance():
    task = make_task("path_integration", {"arena": 2.0, "tolerance": 0.1})  # side 4: errors below 0.4 count
    batch = task.batch(16, rng(14))
    y = batch.targets
    offset = np.array([0.6, 0.8])  # unit vector
    assert task.accuracy(y + 0.39 * offset, batch) == 1.0
    assert task.accuracy(y + 0.41 * offset, batch) == 0.0
    assert task.accuracy(np.zeros_like(y), batch) < 0.5


def test_path_integration_ood_variants():
    v = make_task("path_integration").ood_variants()
    assert v["temporal_x2"].params["T"] == 200 and v["fast"].params["speed"] == 0.1


# --- HMM ---------------------------------------------------------------------

ASYM = {
    "transition": [[0.95, 0.04, 0.01], [0.05, 0.90, 0.05], [0.02, 0.08, 0.90]],
    "emission": [[0.9, 0.1, 0.0, 0.0], [0.1, 0.6, 0.3, 0.0], [0.0, 0.1, 0.2, 0.7]],
}


def hmm_by_hand(task, z):
    """States and emissions for held inputs z (n_steps, B, 2), one scalar comparison at a time."""
    P, E = np.array(task.params["transition"]), np.array(task.params["emission"])
    if task.params["noise"] == "uniform":
        to_u = lambda x: min(max((x + 1) / 2, 0.0), 1.0)  # noqa: E731
    else:
        to_u = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731

    def draw(row, u):
        total = 0.0
        for j, p in enumerate(row):
            total += p
            if u < total:
                return j
        return len(row) - 1

    S, nb = z.shape[:2]
    states, symbols = np.zeros((nb, S), int), np.zeros((nb, S), int)
    for b in range(nb):
        s = draw(task.initial, to_u(z[0, b, 0]))
        for k in range(S):
            if k:
                s = draw(P[s], to_u(z[k, b, 0]))
            states[b, k] = s
            symbols[b, k] = draw(E[s], to_u(z[k, b, 1]))
    return states, symbols


@pytest.mark.parametrize("noise, scale", [("uniform", 1.0), ("gaussian", 1.0), ("uniform", 1.5), ("gaussian", 0.7)])
def test_hmm_trials_by_hand(noise, scale):
    task = make_task("hmm", {**ASYM, "n_states": 3, "noise": noise, "noise_scale": scale, "n_steps": 30,
                             "hold": 4, "grace": 1})
    batch = task.batch(20, rng(15))
    hold, grace = 4, 1
    z = batch.inputs[::hold]
    assert np.array_equal(np.repeat(z, hold, axis=0), batch.inputs)
    if noise == "uniform":
        assert np.abs(z).max() <= scale and np.abs(z).max() > 0.9 * scale
    states, symbols = hmm_by_hand(task, z)
    assert np.array_equal(states, batch.meta["states"])
    assert np.array_equal(symbols, batch.meta["symbols"])
    assert np.array_equal(batch.targets, np.repeat(np.eye(4)[symbols.T], hold, axis=0))
    assert np.array_equal(batch.mask[:, 0, 0], np.tile([0.0, 1.0, 1.0, 1.0], 30))
    assert task.n_out == 4 and batch.mask.shape == batch.targets.shape
    assert grace == task.params["grace"]


def test_inverse_cdf_edges():
    cdf = np.array([[0.2, 0.5, 1.0]] * 5)
    assert list(inverse_cdf(cdf, np.array([0.0, 0.19999, 0.2, 0.99, 1.0]))) == [0, 0, 1, 2, 2]


def test_hmm_default_is_sticky_and_stationary():
    task = make_task("hmm")
    P = np.array(task.params["transition"])
    assert np.allclose(np.diag(P), 0.9) and np.allclose(P.sum(axis=1), 1)
    assert np.allclose(task.initial, 1 / 3)
    pi = stationary_distribution(np.array(ASYM["transition"]))
    assert np.allclose(pi @ np.array(ASYM["transition"]), pi) and pi.sum() == pytest.approx(1)


def test_emission_statistics_by_hand():
    s = np.array([[0, 0, 1, 1, 1, 0, 2, 2]]).T  # T = 8, one trial
    st = emission_statistics(s, 4, max_dwell=3)
    assert np.allclose(st["occupancy"], [3 / 8, 3 / 8, 2 / 8, 0])
    assert np.allclose(st["transition"][0], [1 / 3, 1 / 3, 1 / 3, 0])
    assert np.allclose(st["transition"][1], [1 / 3, 2 / 3, 0, 0])
    assert np.allclose(st["transition"][2], [0, 0, 1, 0])
    assert np.isnan(st["transition"][3]).all()
    # complete runs only: (1, 1, 1) of length 3 (last bin) and the single 0
    assert np.allclose(st["dwell"][0], [1, 0, 0]) and np.allclose(st["dwell"][1], [0, 0, 1])
    assert np.isnan(st["dwell"][2]).all() and list(st["runs"]) == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="symbols"):
        emission_statistics(s, 2)
    # pairs 2 apart: (0,1) (0,1) (1,1) (1,0) (1,2) (0,2); 7 apart: (0,2) only
    pairs = emission_statistics(s, 4, max_dwell=3, lags=[2, 7])["pairs"]
    want = np.zeros((2, 4, 4))
    want[0, 0, 1], want[0, 1, 1], want[0, 1, 0], want[0, 1, 2], want[0, 0, 2] = 2 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6
    want[1, 0, 2] = 1.0
    np.testing.assert_allclose(pairs, want)
    for bad in ([0], [8]):
        with pytest.raises(ValueError, match=r"lags must be in \[1, 7\]"):
            emission_statistics(s, 4, lags=bad)


def test_resampled_counts_are_the_statistics_of_the_resampled_sequences():
    """sequence_counts weighted by how often each sequence is drawn give emission_statistics of the
    sequences drawn (the bootstrap's shortcut), here with repeats and a sequence left out."""
    s = np.random.default_rng(0).integers(0, 3, (30, 6))
    s[:, 2] = 1  # one sequence without a complete run
    drawn = np.array([0, 0, 2, 3, 5, 5])
    weights = np.bincount(drawn, minlength=6).astype(float)
    per_sequence = sequence_counts(s, 3, max_dwell=5, lags=[1, 4])
    shortcut = statistics_from_counts(**{k: np.tensordot(weights, v, axes=1) for k, v in per_sequence.items()})
    direct = emission_statistics(s[:, drawn], 3, max_dwell=5, lags=[1, 4])
    assert "pairs" in direct
    for key in direct:
        np.testing.assert_allclose(shortcut[key], direct[key], rtol=1e-12, equal_nan=True, err_msg=key)


def test_bootstrap_intervals_cover_the_population_distance():
    """i.i.d. symbols with probabilities p against a reference q: the occupancy TV of the population is
    0.5 |p - q|_1 = 0.05. Over 100 data sets of 50 sequences the basic bootstrap's 95% intervals hold it
    about 95 times (binomial sd 2.2: at least 85), and an interval from more sequences is narrower."""
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.45, 0.3, 0.25])
    reference = {"occupancy": q, "transition": np.tile(q, (3, 1)), "dwell": np.full((3, 4), np.nan)}
    rng = np.random.default_rng(1)
    hits, widths = 0, []
    for _ in range(100):
        iv = bootstrap_distances(sequence_counts(rng.choice(3, (40, 50), p=p), 3, 4), reference, 200, rng)
        hits += iv["occupancy_tv_lo"] <= 0.05 <= iv["occupancy_tv_hi"]
        widths.append(iv["occupancy_tv_hi"] - iv["occupancy_tv_lo"])
    assert 85 <= hits <= 100
    assert np.isnan(iv["dwell_tv_lo"]) and np.isnan(iv["dwell_tv_hi"])  # no reference dwell rows
    more = bootstrap_distances(sequence_counts(rng.choice(3, (40, 800), p=p), 3, 4), reference, 200, rng)
    assert more["occupancy_tv_hi"] - more["occupancy_tv_lo"] < 0.5 * np.median(widths)  # 1/sqrt(16)


def test_analytic_run_lengths_match_brute_force():
    """Run-length probabilities of a tiny HMM's emissions, by enumerating every state and symbol path."""
    P = np.array([[0.7, 0.3], [0.4, 0.6]])
    E = np.array([[0.8, 0.2], [0.3, 0.7]])
    pi = stationary_distribution(P)
    ref = analytic_statistics(P, E, max_dwell=5, lags=[1, 3])
    for a in range(2):
        rates = []
        for k in range(1, 5):
            total = 0.0
            for path in itertools.product(range(2), repeat=k + 2):
                p = pi[path[0]] * np.prod([P[i, j] for i, j in zip(path[:-1], path[1:])])
                p *= (1 - E[path[0], a]) * np.prod([E[s, a] for s in path[1:-1]]) * (1 - E[path[-1], a])
                total += p
            rates.append(total)
        # normalised over all lengths: compare ratios, which do not need the tail
        assert np.allclose(np.array(rates) / rates[0], ref["dwell"][a, :4] / ref["dwell"][a, 0])
    joint = sum(pi[i] * P[i, j] * np.outer(E[i], E[j]) for i in range(2) for j in range(2))
    assert np.allclose(ref["transition"], joint / joint.sum(axis=1, keepdims=True))
    assert np.allclose(ref["occupancy"], pi @ E)
    # symbol pairs 3 apart: every state path of 4 steps, emissions at its ends
    lag3 = sum(pi[p[0]] * np.prod([P[i, j] for i, j in zip(p[:-1], p[1:])]) * np.outer(E[p[0]], E[p[-1]])
               for p in itertools.product(range(2), repeat=4))
    np.testing.assert_allclose(ref["pairs"], [joint, lag3], rtol=1e-12)


def test_analytic_state_dwell_is_geometric():
    P = np.array(ASYM["transition"])
    st = analytic_statistics(P, np.eye(3), max_dwell=200)
    k = np.arange(1, 200)
    for i in range(3):
        geometric = (1 - P[i, i]) * P[i, i] ** (k - 1)
        assert np.allclose(st["dwell"][i, :-1], geometric)
    assert np.allclose(st["transition"], P)


@pytest.fixture(scope="module")
def long_hmm_batch():
    task = make_task("hmm", {**ASYM, "n_steps": 500, "hold": 1, "grace": 0, "max_dwell": 60})
    return task, task.batch(400, rng(16))  # 200k HMM steps


def test_hmm_state_statistics_converge(long_hmm_batch):
    task, batch = long_hmm_batch
    P = np.array(ASYM["transition"])
    st = emission_statistics(batch.meta["states"].T, 3, max_dwell=60)
    pi = stationary_distribution(P)
    # Occupancy of a sticky chain: effective samples ~ n / (mean dwell); 200k steps -> sd < 0.005
    assert np.allclose(st["occupancy"], pi, atol=0.02)
    assert np.allclose(st["transition"], P, atol=0.01)  # >= 20k transitions per row: sd < 0.003
    for i in range(3):
        lengths = np.arange(1, 60)
        mean = (lengths * st["dwell"][i, :-1]).sum() + st["dwell"][i, -1] * (60 + P[i, i] / (1 - P[i, i]))
        assert mean == pytest.approx(1 / (1 - P[i, i]), rel=0.05)
        geometric = (1 - P[i, i]) * P[i, i] ** (lengths - 1)
        assert 0.5 * np.abs(st["dwell"][i, :-1] - geometric).sum() < 0.05


def test_hmm_emission_statistics_converge(long_hmm_batch):
    task, batch = long_hmm_batch
    st = task.emission_statistics(batch.meta["symbols"].T)
    ref = task.analytic_statistics()
    d = compare_statistics(st, ref)
    assert d["occupancy_tv"] < 0.02 and d["transition_tv"] < 0.02 and d["dwell_tv"] < 0.04
    assert set(d) == {"occupancy_tv", "transition_tv", "dwell_tv"}
    # symbol pairs up to 50 apart; 200k steps: sd of each cell < 0.003
    lags = [1, 5, 20, 50]
    got = emission_statistics(batch.meta["symbols"].T, task.n_out, lags=lags)["pairs"]
    want = analytic_statistics(task.transition, task.emission, lags=lags)["pairs"]
    np.testing.assert_allclose(got, want, atol=0.01)
    assert not np.allclose(want[0], want[-1], atol=0.05)  # the lags differ: the check has teeth


def test_compare_statistics_by_hand():
    ref = {"occupancy": np.array([0.5, 0.5]), "transition": np.array([[0.9, 0.1], [0.2, 0.8]]),
           "dwell": np.array([[0.5, 0.5], [np.nan, np.nan]])}
    got = {"occupancy": np.array([0.7, 0.3]), "transition": np.array([[0.6, 0.4], [np.nan, np.nan]]),
           "dwell": np.array([[0.25, 0.75], [1.0, 0.0]])}
    d = compare_statistics(got, ref)
    assert d["occupancy_tv"] == pytest.approx(0.2)
    assert d["transition_tv"] == pytest.approx(0.5 * 0.3 + 0.5 * 1.0)  # a missing row counts 1
    assert d["dwell_tv"] == pytest.approx(0.25)  # symbol 1 has no reference runs: left out
    zero = compare_statistics(ref, ref)
    assert zero["occupancy_tv"] == zero["transition_tv"] == zero["dwell_tv"] == 0.0
    # pairs: the largest TV over the lags (0.1 at the first, 0.3 at the second)
    ref["pairs"] = np.array([[[0.4, 0.1], [0.1, 0.4]], [[0.25, 0.25], [0.25, 0.25]]])
    got["pairs"] = np.array([[[0.3, 0.2], [0.1, 0.4]], [[0.55, 0.25], [0.1, 0.1]]])
    assert compare_statistics(got, ref)["pairs_tv"] == pytest.approx(0.3)


def test_hmm_accuracy_perfect_shuffled_and_constant():
    task = make_task("hmm", {"n_steps": 200, "hold": 4, "grace": 1})
    batch = task.batch(64, rng(17))
    y = batch.targets
    assert task.accuracy(y, batch) == 1.0
    assert task.extra_metrics(y, batch) == {"occupancy_tv": 0.0, "transition_tv": 0.0, "dwell_tv": 0.0,
                                            "symbol_match": 1.0}
    # shuffling the HMM steps in time keeps the occupancy but breaks transitions and dwell times
    order = rng(1).permutation(200)
    blocks = y.reshape(200, 4, 64, 3)[order].reshape(y.shape)
    d = task.extra_metrics(blocks, batch)
    assert d["symbol_match"] < 0.5  # near chance: sum over symbols of squared within-trial frequencies
    assert d["occupancy_tv"] == pytest.approx(0.0, abs=1e-12)
    # shuffled symbols are independent draws from the occupancy (1/3 each): rows become uniform, runs geometric
    ref = task.analytic_statistics()
    k = np.arange(1, 20)
    iid_dwell = np.r_[(2 / 3) * (1 / 3) ** (k - 1), (1 / 3) ** 19]
    assert d["transition_tv"] == pytest.approx(0.5 * np.abs(ref["transition"][0] - 1 / 3).sum(), abs=0.03)
    assert d["dwell_tv"] == pytest.approx(0.5 * np.abs(ref["dwell"][0] - iid_dwell).sum(), abs=0.03)
    assert d["transition_tv"] > 0.2 and d["dwell_tv"] > 0.1
    assert task.accuracy(blocks, batch) < 0.9
    constant = np.zeros_like(y)
    constant[..., 0] = 1.0
    assert task.accuracy(constant, batch) < 0.5


def test_hmm_symbols_ignore_grace_steps():
    task = make_task("hmm")
    batch = task.batch(8, rng(18))
    noisy = batch.targets.copy()
    noisy[batch.mask == 0] = 5.0 * rng(2).random(noisy[batch.mask == 0].shape)
    assert np.array_equal(task.symbols(noisy, batch), batch.meta["symbols"].T)


def test_hmm_ood_variants():
    task = make_task("hmm", {"n_steps": 50, "hold": 4, "grace": 1})
    v = task.ood_variants()
    assert v["long"].params["n_steps"] == 200 and v["long"].T == 800
    assert v["temporal_x2"].params["n_steps"] == 100 and v["temporal_x2"].T == 400
    assert v["wide_noise"].params["noise_scale"] == 1.5
    wide = v["wide_noise"].batch(64, rng())
    assert np.abs(wide.inputs).max() > 1.2
    states, symbols = hmm_by_hand(v["wide_noise"], wide.inputs[::4])
    assert np.array_equal(symbols, wide.meta["symbols"])
    assert v["long"].params["transition"] == task.params["transition"]


def test_hmm_default_transition_is_idempotent_under_held_input():
    """Re-applying a transition with the same u changes nothing for the default chain (see the HMM docstring)."""
    task = make_task("hmm")
    cdf = np.cumsum(task.transition, axis=1)
    u = np.linspace(0, 1, 2001)
    for s in range(3):
        once = inverse_cdf(cdf[np.full(u.size, s)], u)
        assert np.array_equal(inverse_cdf(cdf[once], u), once)
    asym = np.cumsum(ASYM["transition"], axis=1)  # a chain for which it does not hold
    once = inverse_cdf(asym[np.full(u.size, 0)], u)
    assert not np.array_equal(inverse_cdf(asym[once], u), once)


def test_dwell_estimate_is_unbiased_in_short_trials():
    """In trials of 20 steps, long runs are rarely complete; the 1 / (T - 1 - k) weights undo that."""
    P = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]
    task = make_task("hmm", {"transition": P, "emission": np.eye(3).tolist(), "n_steps": 20, "hold": 1,
                             "grace": 0, "max_dwell": 19})
    states = task.batch(5000, rng(20)).meta["states"].T
    st = emission_statistics(states, 3, max_dwell=19)
    k = np.arange(1, 19)
    geometric = 0.2 * 0.8 ** (k - 1)
    for i in range(3):
        assert st["dwell"][i, -1] == 0.0  # no complete run is longer than T - 2 = 18
        assert 0.5 * np.abs(st["dwell"][i, :-1] - geometric / geometric.sum()).sum() < 0.03
        # the unweighted histogram of complete runs is clearly shorter (this is what the weights fix)
        mean = (k * st["dwell"][i, :-1]).sum()
        assert mean == pytest.approx((k * geometric).sum() / geometric.sum(), rel=0.05)
    runs = [np.diff(np.flatnonzero(np.diff(col) != 0)) for col in states.T]
    assert np.mean(np.concatenate(runs)) < 0.85 * mean

"""Generative HMM emulation: Sinkhorn/MMD, Gumbel-softmax, HMM presets, the whole gradient chain, training loop."""

import dataclasses
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from altrnn.model import ModelConfig, Params, init_params
from altrnn.tasks.hmm import emission_statistics
from altrnn.tasks.hmm_presets import PRESETS, hmm_from_config, preset, validate_matrices
from altrnn.train import generative
from altrnn.train.generative import GenerativeConfig, draw_noise, one_hot_sequences, temperature
from altrnn.train.gumbel import gumbel_noise, gumbel_softmax, gumbel_softmax_backward, hard_samples
from altrnn.train.moments import MIN_MOMENT, MomentTargets, hmm_moments, moment_loss
from altrnn.train.sinkhorn import cost_matrix, entropic_ot, mmd, sinkhorn_divergence, window_mmd


def central_difference(f, x, h=1e-6):
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        out[i] = (f(xp) - f(xm)) / (2 * h)
    return out


# ---- Sinkhorn divergence and MMD ----

def test_sinkhorn_single_points_is_half_squared_distance():
    """One point each: the only plan is the point mass, so S = |x - y|^2 / 2 at any epsilon."""
    x, y = np.array([[0.3, -1.0, 2.0]]), np.array([[1.0, 0.5, -0.5]])
    for eps in (0.05, 1.0, 20.0):
        value, grad = sinkhorn_divergence(x, y, eps)
        assert value == pytest.approx(0.5 * np.sum((x - y) ** 2), rel=1e-10)
        np.testing.assert_allclose(grad, x - y, rtol=1e-10)


def test_sinkhorn_reaches_exact_transport_at_low_epsilon():
    """Equal-size uniform clouds: exact OT is an assignment problem (brute-force reference: Hungarian)."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 3)) + 0.5
    C = cost_matrix(x, y)
    rows, cols = linear_sum_assignment(C)
    exact = C[rows, cols].mean()
    value, _ = sinkhorn_divergence(x, y, eps=1e-3)
    assert value == pytest.approx(exact, abs=1e-4)
    plan = np.zeros((7, 7))
    plan[rows, cols] = 1 / 7
    np.testing.assert_allclose(entropic_ot(x, y, 1e-3).plan, plan, atol=1e-6)
    # larger epsilon: the entropic value exceeds the exact one by at most eps * log n (KL of a plan <= log n)
    ot = entropic_ot(x, y, 0.1, tol=1e-12, max_iter=100_000)
    assert ot.converged and not entropic_ot(x, y, 0.1, tol=1e-12, max_iter=5).converged
    assert exact <= ot.value <= exact + 0.1 * np.log(7) + 1e-9
    np.testing.assert_allclose(ot.plan.sum(axis=0), 1 / 7, atol=1e-9)


def test_sinkhorn_divergence_zero_on_identical_clouds_and_positive_otherwise():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, 4))
    assert abs(sinkhorn_divergence(x, x, 2.0)[0]) < 1e-9
    assert sinkhorn_divergence(x, x + 0.3, 2.0)[0] > 1e-3


def test_sinkhorn_gradient_matches_central_differences():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((5, 3))
    eps = 0.2
    def loss(z):
        return sinkhorn_divergence(z, y, eps, tol=1e-13, max_iter=100_000)[0]

    _, grad = sinkhorn_divergence(x, y, eps, tol=1e-13, max_iter=100_000)
    assert np.abs(grad).max() > 1e-2
    h = 1e-6
    for _ in range(4):  # directional derivatives along random directions
        d = rng.standard_normal(x.shape)
        numeric = (loss(x + h * d) - loss(x - h * d)) / (2 * h)
        assert float((grad * d).sum()) == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def gaussian_kernel_sum(a, b, bandwidths=(0.7, 2.0)):
    return sum(np.exp(-np.sum((a - b) ** 2) / (2 * s * s)) for s in bandwidths)


def test_mmd_matches_brute_force_and_central_differences():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((5, 2)), rng.standard_normal((4, 2)) + 1.0
    bw, k = (0.7, 2.0), gaussian_kernel_sum
    brute = (np.mean([[k(a, b) for b in x] for a in x]) + np.mean([[k(a, b) for b in y] for a in y])
             - 2 * np.mean([[k(a, b) for b in y] for a in x]))
    value, grad = mmd(x, y, bw)
    assert value == pytest.approx(brute, rel=1e-12)
    np.testing.assert_allclose(grad, central_difference(lambda z: mmd(z, y, bw)[0], x), atol=1e-8)


def test_unbiased_mmd_matches_brute_force_and_central_differences():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 2)), rng.standard_normal((4, 2)) + 1.0
    bw, k = (0.7, 2.0), gaussian_kernel_sum

    def within(z):  # mean of k over the pairs i != j
        return np.mean([k(z[i], z[j]) for i in range(len(z)) for j in range(len(z)) if i != j])

    brute = within(x) + within(y) - 2 * np.mean([[k(a, b) for b in y] for a in x])
    value, grad = mmd(x, y, bw, unbiased=True)
    assert value == pytest.approx(brute, rel=1e-12)
    np.testing.assert_allclose(grad, central_difference(lambda z: mmd(z, y, bw, unbiased=True)[0], x), atol=1e-8)
    with pytest.raises(ValueError, match="at least 2 points"):
        mmd(x[:1], y, bw, unbiased=True)


def test_window_mmd_matches_brute_force_and_central_differences():
    """Sequences of 4 symbols (3 values each): the mean over positions of the U-statistic of the windows,
    summed over window lengths, by explicit loops; a window as long as the sequence is the whole MMD."""
    rng = np.random.default_rng(9)
    x, y = rng.random((5, 12)), rng.random((4, 12))
    bw = (0.7, 2.0)

    def within(z):
        return np.mean([gaussian_kernel_sum(z[i], z[j]) for i in range(len(z)) for j in range(len(z)) if i != j])

    def windowed(a, b, w):
        a3, b3 = a.reshape(len(a), 4, 3), b.reshape(len(b), 4, 3)
        terms = []
        for t in range(4 - w + 1):
            aw, bw_ = a3[:, t:t + w].reshape(len(a), -1), b3[:, t:t + w].reshape(len(b), -1)
            terms.append(within(aw) + within(bw_) - 2 * np.mean([[gaussian_kernel_sum(p, q) for q in bw_]
                                                                   for p in aw]))
        return np.mean(terms)

    value, grad = window_mmd(x, y, 4, (1, 2), bw)
    assert value == pytest.approx(windowed(x, y, 1) + windowed(x, y, 2), rel=1e-12)
    np.testing.assert_allclose(grad, central_difference(lambda z: window_mmd(z, y, 4, (1, 2), bw)[0], x), atol=1e-8)
    single = window_mmd(x, y, 4, (1, 2), bw, dtype=np.float32)  # the trainer's choice for float32 networks
    assert single[0] == pytest.approx(value, rel=1e-5)
    np.testing.assert_allclose(single[1], grad, rtol=1e-4, atol=1e-7 * np.abs(grad).max())
    whole = window_mmd(x, y, 4, (4,), bw)
    np.testing.assert_allclose(whole[0], mmd(x, y, bw, unbiased=True)[0], rtol=1e-12)
    np.testing.assert_allclose(whole[1], mmd(x, y, bw, unbiased=True)[1], rtol=1e-12)
    with pytest.raises(ValueError, match="from 1 to the sequence length \\(4\\), got 5"):
        window_mmd(x, y, 4, (5,), bw)
    with pytest.raises(ValueError, match="generative.mmd_windows must be integers from 1 to n_steps \\(10\\)"):
        GenerativeConfig.from_dict({"n_steps": 10, "mmd_windows": [2, 11]})
    assert GenerativeConfig.from_dict({"mmd_windows": 3}).mmd_windows == (3,)
    with pytest.raises(ValueError, match="generative.mmd_window_weight must be > 0, got 0"):
        GenerativeConfig(mmd_window_weight=0)


def test_unbiased_mmd_is_unbiased_where_the_biased_one_is_not():
    """Over many small batches of one law P against another law Q, the U-statistic's mean is the
    population MMD^2 (exact here: two laws on three points), and the V-statistic's mean is not."""
    points = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.2, 0.6])
    bw = (1.0,)
    K = np.exp(-2 * cost_matrix(points, points) / 2)
    population = p @ K @ p + q @ K @ q - 2 * p @ K @ q
    rng = np.random.default_rng(5)
    draws = [(points[rng.choice(3, 4, p=p)], points[rng.choice(3, 3, p=q)]) for _ in range(20000)]
    unbiased = np.array([mmd(a, b, bw, unbiased=True)[0] for a, b in draws])
    biased = np.array([mmd(a, b, bw)[0] for a, b in draws])
    se = unbiased.std() / np.sqrt(len(draws))
    assert abs(unbiased.mean() - population) < 4 * se
    assert biased.mean() - population > 20 * se  # the V-statistic's +E[1 - k(x, x')] / n terms


# ---- the moment term ----

@pytest.mark.parametrize("name", ["linear3", "cyclic4"])
def test_hmm_moments_match_long_hmm_samples_and_the_analytic_statistics(name):
    """Run and lagged-pair probabilities against their frequencies in 4000 HMM sequences of 60 symbols;
    runs of 1 are the occupancy, pairs at lag 1 the joint of analytic_statistics' transitions."""
    hmm = preset(name)
    targets = hmm_moments(hmm.transition, hmm.emission, 6, (1, 4))
    symbols = hmm.sample(60, 4000, np.random.default_rng(2))[1]
    onehot = np.eye(hmm.n_symbols)[symbols]  # (T, B, S)
    for k in range(1, 7):
        runs = np.prod([onehot[j:60 - k + 1 + j] for j in range(k)], axis=0).mean(axis=(0, 1))
        np.testing.assert_allclose(runs, targets.runs[k - 1], atol=0.01)
    for i, lag in enumerate((1, 4)):
        pairs = np.einsum("tba,tbc->ac", onehot[:60 - lag], onehot[lag:]) / ((60 - lag) * 4000)
        np.testing.assert_allclose(pairs, targets.pairs[i], atol=0.006)
    reference = hmm.analytic_statistics()
    np.testing.assert_allclose(targets.runs[0], reference["occupancy"], rtol=1e-12)
    np.testing.assert_allclose(targets.pairs[0], reference["occupancy"][:, None] * reference["transition"],
                               rtol=1e-12)


def test_moment_loss_matches_brute_force_and_central_differences():
    """The Pearson sum by explicit loops over sequences, positions and symbols, a target below MIN_MOMENT
    weighted by 1 / MIN_MOMENT; the gradient by central differences; 0 where the estimates are the targets."""
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(3), size=(6, 4))  # (n_steps, B, S)
    runs, pairs = rng.uniform(0.01, 0.3, (3, 3)), rng.uniform(0.01, 0.2, (2, 3, 3))
    runs[2, 1] = 1e-5
    targets = MomentTargets(runs, (1, 3), pairs)

    def brute(q):
        total = 0.0
        for k in range(1, 4):
            for a in range(3):
                est = np.mean([np.prod([q[t + j, b, a] for j in range(k)]) for t in range(6 - k + 1) for b in range(4)])
                total += (est - runs[k - 1, a]) ** 2 / max(runs[k - 1, a], MIN_MOMENT)
        for i, lag in enumerate((1, 3)):
            for a in range(3):
                for c in range(3):
                    est = np.mean([q[t, b, a] * q[t + lag, b, c] for t in range(6 - lag) for b in range(4)])
                    total += (est - pairs[i, a, c]) ** 2 / pairs[i, a, c]
        return total

    value, grad = moment_loss(p, targets)
    assert value == pytest.approx(brute(p), rel=1e-12)
    np.testing.assert_allclose(grad, central_difference(lambda q: moment_loss(q, targets)[0], p), atol=1e-7)
    iid = np.broadcast_to([0.5, 0.3, 0.2], (6, 4, 3))  # i.i.d. symbols: runs p^k, pairs p p^T
    exact = MomentTargets(np.array([[0.5, 0.3, 0.2]]) ** np.arange(1, 4)[:, None], (2,),
                          np.outer([0.5, 0.3, 0.2], [0.5, 0.3, 0.2])[None])
    assert moment_loss(iid, exact)[0] == pytest.approx(0.0, abs=1e-28)
    with pytest.raises(ValueError, match="runs of at most 6 symbols and lags from 1 to 5"):
        moment_loss(p, MomentTargets(np.ones((7, 3)), (), np.zeros((0, 3, 3))))
    with pytest.raises(ValueError, match="generative.moment_runs must be an integer from 0 \\(off\\) to n_steps "
                                         "\\(10\\)"):
        GenerativeConfig(n_steps=10, moment_runs=11)
    with pytest.raises(ValueError, match="generative.moment_lags must be integers from 1 to n_steps - 1 \\(9\\)"):
        GenerativeConfig.from_dict({"n_steps": 10, "moment_lags": [10]})
    assert GenerativeConfig.from_dict({"moment_lags": 3}).moment_lags == (3,)


def test_probabilities_estimate_the_moments_of_the_sampled_symbols():
    """Given fixed logits, symbols at different steps are independent draws from the softmax: the mean of
    the run and pair indicators of 20000 Gumbel-max samples is the product of the probabilities."""
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((4, 1, 3))
    probs = gumbel_softmax(logits, 0.0, 1.0)[:, 0]
    symbols = hard_samples(np.broadcast_to(logits, (4, 20000, 3)), gumbel_noise((4, 20000, 3), rng))
    onehot = np.eye(3)[symbols]
    np.testing.assert_allclose(onehot[0:3].prod(axis=0).mean(axis=0), probs[0:3].prod(axis=0), atol=0.01)
    np.testing.assert_allclose(np.einsum("ba,bc->ac", onehot[0], onehot[2]) / 20000, np.outer(probs[0], probs[2]),
                               atol=0.01)


# ---- Gumbel-softmax ----

def test_gumbel_samples_follow_softmax_probabilities():
    """Gumbel-max samples and low-temperature soft samples have the softmax's frequencies (within 5 sd)."""
    logits = np.array([0.5, -1.0, 1.5, 0.0])
    p = np.exp(logits) / np.exp(logits).sum()
    n = 200_000
    g = gumbel_noise((n, 4), np.random.default_rng(4))
    freq = np.bincount(hard_samples(np.broadcast_to(logits, (n, 4)), g), minlength=4) / n
    sd = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(freq - p) < 5 * sd)
    soft_mean = gumbel_softmax(logits, g, tau=0.05).mean(axis=0)
    assert np.all(np.abs(soft_mean - p) < 5 * sd + 2e-3)
    assert np.abs(freq - np.full(4, 0.25)).max() > 0.1  # not uniform: the test can tell


def test_gumbel_softmax_backward_matches_central_differences():
    rng = np.random.default_rng(5)
    logits, g, d = rng.standard_normal((3, 4)), gumbel_noise((3, 4), rng), rng.standard_normal((3, 4))
    tau = 0.6
    s = gumbel_softmax(logits, g, tau)
    numeric = central_difference(lambda z: float((gumbel_softmax(z, g, tau) * d).sum()), logits)
    np.testing.assert_allclose(gumbel_softmax_backward(s, tau, d), numeric, atol=1e-8)


# ---- HMM presets ----

def closed_form_stationary(name):
    if name.startswith("linear"):
        K = int(name[6:])
        pi = np.array([1.0] + [2.0] * (K - 2) + [1.0])
        return pi / pi.sum()
    return np.full(3 if name == "full3" else 4, 1 / (3 if name == "full3" else 4))


@pytest.mark.parametrize("name", PRESETS)
def test_preset_samples_converge_to_stationary_distribution_and_transitions(name):
    hmm = preset(name)
    pi = closed_form_stationary(name)
    np.testing.assert_allclose(hmm.stationary(), pi, atol=1e-12)
    np.testing.assert_allclose(pi @ hmm.transition, pi, atol=1e-12)
    states, symbols = hmm.sample(1000, 100, np.random.default_rng(6))
    K = hmm.n_states
    occupancy = np.bincount(states.ravel(), minlength=K) / states.size
    assert np.abs(occupancy - pi).max() < 0.03  # ~10^4 independent dwell periods: sd about 0.005
    pairs = np.bincount((states[:-1] * K + states[1:]).ravel(), minlength=K * K).reshape(K, K)
    np.testing.assert_allclose(pairs / pairs.sum(axis=1, keepdims=True), hmm.transition, atol=0.01)
    got = emission_statistics(symbols, hmm.n_symbols)
    want = hmm.analytic_statistics()
    assert np.abs(got["occupancy"] - want["occupancy"]).max() < 0.03
    # symbols' transitions carry the slow fluctuations of state occupancy (about 1000 dwell periods
    # in an end state of linear5): a looser tolerance than for the states themselves
    np.testing.assert_allclose(got["transition"], want["transition"], atol=0.04)


def test_preset_structure():
    P = preset("linear3", stay=0.8).transition
    np.testing.assert_allclose(P, [[0.8, 0.2, 0], [0.1, 0.8, 0.1], [0, 0.2, 0.8]])
    np.testing.assert_allclose(preset("cyclic4").transition[3], [0.1, 0, 0, 0.9])
    np.testing.assert_allclose(preset("full3", own=0.6).emission[0], [0.6, 0.2, 0.2])


def test_hmm_config_and_validation_errors_name_the_problem():
    assert hmm_from_config("linear4").n_states == 4
    assert hmm_from_config({"preset": "full3", "stay": 0.5}).transition[0, 0] == 0.5
    custom = hmm_from_config({"transition": [[0.5, 0.5], [0.2, 0.8]], "emission": [[1, 0, 0], [0, 0.5, 0.5]]})
    assert custom.n_symbols == 3
    with pytest.raises(ValueError, match="unknown hmm preset 'linear9'"):
        preset("linear9")
    with pytest.raises(ValueError, match="'transition' row 1 sums to 0.9"):
        validate_matrices([[0.5, 0.5], [0.2, 0.7]], [[1.0], [1.0]])
    with pytest.raises(ValueError, match="'transition' has 2 states, 'emission' has 3 rows"):
        validate_matrices([[0.5, 0.5], [0.2, 0.8]], [[1.0], [1.0], [1.0]])
    with pytest.raises(ValueError, match="must be square"):
        validate_matrices([[0.5, 0.5]], [[1.0]])
    with pytest.raises(ValueError, match="'emission' row 0 has a negative entry"):
        validate_matrices([[1.0]], [[1.5, -0.5]])
    with pytest.raises(ValueError, match="missing \\['emission'\\]"):
        hmm_from_config({"transition": [[1.0]]})


# ---- the generative objective and training ----

@pytest.mark.parametrize("activation,kind,windows,runs", [("tanh", "sinkhorn", (), 0), ("relu", "sinkhorn", (), 0),
                                                          ("relu", "mmd", (), 0), ("relu", "mmd_unbiased", (), 0),
                                                          ("relu", "sinkhorn", (2,), 0),
                                                          ("relu", "mmd_unbiased", (1, 3), 0),
                                                          ("relu", "sinkhorn", (), 4)])
def test_whole_chain_gradient_matches_central_differences(activation, kind, windows, runs):
    """float64, Gumbel noise, input noise and HMM batch fixed; Sinkhorn run to tight convergence; with
    mmd_windows, the window MMD added to the divergence; with runs, the moment term (runs and lags 1, 3)."""
    hmm = preset("cyclic4")
    cfg = ModelConfig(n_in=2, n_rec=6, n_out=4, activation=activation, dtype="float64")
    gen = GenerativeConfig(n_steps=5, burn_in=2, steps_per_symbol=2, n_noise=2, batch_size=5, hmm_batch_size=4,
                           epsilon=0.5, sinkhorn_tol=1e-13, sinkhorn_max_iter=100_000, divergence=kind,
                           mmd_windows=windows, mmd_window_bandwidths=(0.8,), mmd_window_weight=2.5,
                           moment_runs=runs, moment_lags=(1, 3) if runs else (), moment_weight=3.0)
    rng = np.random.default_rng(7)
    p = init_params(cfg, 1.5, rng)
    p.b[:], p.b_out[:] = 0.3 * rng.standard_normal(6), rng.standard_normal(4)
    u, G = draw_noise(gen, 5, rng), gumbel_noise((5, 5, 4), rng)
    target = one_hot_sequences(hmm.sample(5, 4, rng)[1], 4)

    moments = generative.moment_targets(gen, hmm)
    assert (moments is None) == (runs == 0)
    if runs:
        with pytest.raises(ValueError, match="pass the HMM's moments"):
            generative.loss_and_grad(p, cfg, gen, u, G, target, 0.7)

    def loss(q):
        return generative.loss_and_grad(q, cfg, gen, u, G, target, 0.7, moments=moments)[0]

    _, grads, _ = generative.loss_and_grad(p, cfg, gen, u, G, target, 0.7, moments=moments)
    h = 1e-6
    for name in ("W_in", "W", "b", "W_out", "b_out"):
        for _ in range(2):
            d = rng.standard_normal(getattr(p, name).shape)
            plus, minus = p.copy(), p.copy()
            getattr(plus, name)[...] += h * d
            getattr(minus, name)[...] -= h * d
            numeric = (loss(plus) - loss(minus)) / (2 * h)
            analytic = float((getattr(grads, name) * d).sum())
            assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-9), name


def test_generate_emits_the_readout_distribution():
    """A network with no recurrence or input emits i.i.d. symbols with probabilities softmax(b_out)."""
    cfg = ModelConfig(n_in=1, n_rec=4, n_out=3, dtype="float64")
    gen = GenerativeConfig(n_steps=20, burn_in=3, steps_per_symbol=2)
    logp = np.log([0.6, 0.3, 0.1])
    p = Params(np.zeros((4, 1)), np.zeros((4, 4)), np.zeros(4), np.zeros((3, 4)), logp.copy())
    symbols = generative.generate(p, cfg, gen, 2000, np.random.default_rng(8))
    assert symbols.shape == (20, 2000)
    freq = np.bincount(symbols.ravel(), minlength=3) / symbols.size
    np.testing.assert_allclose(freq, np.exp(logp), atol=0.01)
    np.testing.assert_array_equal(gen.readout_steps(), 3 + 2 * np.arange(1, 21) - 1)


def test_a_runaway_network_is_counted_as_diverged():
    """x' = ReLU(2 x + 1) (alpha 1) grows without bound: every generated sequence is flagged, and its
    statistics are still reported; the same network with W = 0 stays bounded and none is."""
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=2, alpha=1.0, sigma_rec=0.0, activation="relu", dtype="float64")
    gen = GenerativeConfig(n_steps=40, burn_in=0)
    hmm = preset("linear2")
    runaway = Params(np.zeros((2, 1)), 2 * np.eye(2), np.ones(2), np.eye(2), np.zeros(2))
    symbols, diverged = generative.generate_checked(runaway, cfg, gen, 50, np.random.default_rng(0))
    assert symbols.shape == (40, 50) and diverged.all()  # 2^40 > 1e6
    tv = generative.evaluate_generator(runaway, cfg, gen, hmm, n_trials=20, n_steps=40)
    assert tv["diverged"] == 1.0 and 0 <= tv["transition_tv"] <= 1
    bounded = dataclasses.replace(runaway, W=np.zeros((2, 2)))
    assert generative.evaluate_generator(bounded, cfg, gen, hmm, n_trials=20, n_steps=40)["diverged"] == 0.0
    # after 18 steps |x| = sqrt(2) (2^18 - 1) < 1e6: the threshold, not the number of steps, decides
    short = GenerativeConfig(n_steps=18, burn_in=0)
    assert not generative.generate_checked(runaway, cfg, short, 5, np.random.default_rng(0))[1].any()


def test_temperature_schedule_and_config_errors():
    gen = GenerativeConfig(tau0=2.0, tau_min=0.5, tau_decay_iters=100)
    assert temperature(gen, 0) == pytest.approx(2.0)
    assert temperature(gen, 50) == pytest.approx(1.0)  # geometric midpoint
    assert temperature(gen, 100) == temperature(gen, 500) == pytest.approx(0.5)
    decay = GenerativeConfig(lr=1e-2, lr_decay=0.01, max_iters=200)
    assert [generative.learning_rate(decay, i) for i in (0, 100, 200)] == pytest.approx([1e-2, 1e-3, 1e-4])
    assert generative.learning_rate(GenerativeConfig(lr=3e-3), 399) == 3e-3  # lr_decay 1: constant, exactly
    with pytest.raises(ValueError, match="generative.lr_decay must be in \\(0, 1\\]"):
        GenerativeConfig(lr_decay=1.5)
    with pytest.raises(ValueError, match="unknown keys \\['temperature'\\]"):
        GenerativeConfig.from_dict({"temperature": 1.0})
    with pytest.raises(ValueError, match="generative.divergence must be one of"):
        GenerativeConfig(divergence="wasserstein")
    with pytest.raises(ValueError, match="tau_min"):
        GenerativeConfig(tau0=0.1, tau_min=0.5)
    cfg = ModelConfig(n_in=2, n_rec=4, n_out=3)
    with pytest.raises(ValueError, match="model.n_in \\(2\\) must equal generative.n_noise \\(1\\)"):
        generative.train_generative(preset("full3"), cfg, GenerativeConfig(), 1.0, 0)


def test_training_is_deterministic_and_lowers_the_divergence():
    """Same seed, same weights; on full3, 30 Adam steps lower the Sinkhorn divergence on a held-out batch."""
    hmm = preset("full3", stay=0.95)
    cfg = ModelConfig(n_in=1, n_rec=16, n_out=3, activation="relu", dtype="float64")
    gen = GenerativeConfig(n_steps=10, burn_in=5, batch_size=64, hmm_batch_size=64, tau0=0.5, tau_min=0.5,
                           epsilon=2.0, max_iters=30, log_every=10, lr=1e-2)
    short = GenerativeConfig(**{**gen.__dict__, "max_iters": 3})
    a, b = (generative.train_generative(hmm, cfg, short, 0.9, seed=3) for _ in range(2))
    for x, y in zip(a.params.arrays(), b.params.arrays()):
        np.testing.assert_array_equal(x, y)
    trained = generative.train_generative(hmm, cfg, gen, 0.9, seed=3)
    assert list(trained.log["iteration"]) == [10, 20, 30]
    rng = np.random.default_rng(9)
    u, G = draw_noise(gen, 256, rng), gumbel_noise((10, 256, 3), rng)
    target = one_hot_sequences(hmm.sample(10, 256, rng)[1], 3)
    before, after = (generative.loss_and_grad(p, cfg, gen, u, G, target, 0.5)[0]
                     for p in (trained.init, trained.params))
    assert after < 0.8 * before


def test_training_with_the_moment_term_lowers_it():
    """With moment_runs and moment_lags, 30 Adam steps on cyclic4 lower the moment term of a held-out batch
    (the trainer passes the HMM's moments into every step); without them the same steps leave it higher."""
    hmm = preset("cyclic4")
    cfg = ModelConfig(n_in=1, n_rec=16, n_out=4, activation="relu", dtype="float64")
    gen = GenerativeConfig(n_steps=10, burn_in=5, batch_size=64, hmm_batch_size=64, tau0=0.5, tau_min=0.5,
                           max_iters=30, log_every=10, lr=3e-2, moment_runs=6, moment_lags=(1, 2), moment_weight=50)
    plain = GenerativeConfig(**{**gen.__dict__, "moment_runs": 0, "moment_lags": ()})
    targets = generative.moment_targets(gen, hmm)
    rng = np.random.default_rng(9)
    u = draw_noise(gen, 256, rng)

    def term(p):
        from altrnn.model import forward
        logits = forward(p, cfg, u).y[gen.readout_steps()]
        return moment_loss(gumbel_softmax(logits, 0.0, 1.0), targets)[0]

    with_term, without = (generative.train_generative(hmm, cfg, g, 0.9, seed=3) for g in (gen, plain))
    assert term(with_term.params) < 0.5 * term(with_term.init)
    assert term(with_term.params) < 0.8 * term(without.params)  # 0.93 against 1.40 (and 2.18 untrained)


def test_selection_keeps_the_snapshot_that_fits_held_out_sequences_best():
    """select_every: the model is the candidate snapshot (iteration a positive multiple of select_every) with the
    fewest runaway held-out sequences, then the smallest largest TV distance, rescored here one by one; without
    it, the last."""
    hmm = preset("linear2")
    cfg = ModelConfig(n_in=1, n_rec=8, n_out=hmm.n_symbols, activation="relu", dtype="float64")
    gen = GenerativeConfig(n_steps=6, burn_in=3, batch_size=32, hmm_batch_size=32, max_iters=40, log_every=10,
                           lr=3e-2, mmd_bandwidths=(3.0,), divergence="mmd", select_every=10, select_trials=64,
                           select_steps=30)
    fit = generative.train_generative(hmm, cfg, gen, 0.9, seed=1, snapshot_every=5)
    snaps = fit.snapshots
    assert list(snaps["iteration"]) == list(range(0, 45, 5))
    analytic = hmm.analytic_statistics()
    scores = {}
    for k, it in enumerate(snaps["iteration"]):
        params = Params(*(snaps[name][k] for name in Params.__dataclass_fields__))
        symbols, runaway = generative.generate_checked(params, cfg, gen, 64, np.random.default_rng([1, 4]), 30)
        tv = generative.compare_statistics(emission_statistics(symbols, hmm.n_symbols), analytic)
        scores[int(it)] = (runaway.mean(), max(tv.values()))
    candidates = {it: s for it, s in scores.items() if it in (10, 20, 30, 40)}
    assert fit.selected == min(candidates, key=candidates.get)
    k = list(snaps["iteration"]).index(fit.selected)
    for name, array in zip(Params.__dataclass_fields__, fit.params.arrays()):
        np.testing.assert_array_equal(array, snaps[name][k])
    assert len(set(candidates.values())) > 1  # the candidates differ: the choice is not a tie
    plain = generative.train_generative(hmm, cfg, dataclasses.replace(gen, select_every=0), 0.9, seed=1,
                                        snapshot_every=5)
    assert plain.selected is None
    for name, array in zip(Params.__dataclass_fields__, plain.params.arrays()):
        np.testing.assert_array_equal(array, snaps[name][-1])  # the same run's last weights
    with pytest.raises(ValueError, match=r"generative.select_every \(10\) must be a multiple of snapshot_every \(4\)"):
        generative.train_generative(hmm, cfg, gen, 0.9, seed=1, snapshot_every=4)
    # select_lags: the symbol pairs join the score, and the choice follows the scores with them
    lagged = dataclasses.replace(gen, select_lags=(2, 5))
    with_pairs = generative.train_generative(hmm, cfg, lagged, 0.9, seed=1, snapshot_every=5)
    analytic = hmm.analytic_statistics(lags=(2, 5))
    scores = {}
    for k, it in enumerate(snaps["iteration"]):
        params = Params(*(snaps[name][k] for name in Params.__dataclass_fields__))
        symbols, runaway = generative.generate_checked(params, cfg, gen, 64, np.random.default_rng([1, 4]), 30)
        tv = generative.compare_statistics(emission_statistics(symbols, hmm.n_symbols, lags=(2, 5)), analytic)
        assert generative.selection_score(params, cfg, lagged, hmm, analytic, 1) == (runaway.mean(), max(tv.values()))
        scores[int(it)] = (runaway.mean(), max(tv.values()))
    candidates = {it: s for it, s in scores.items() if it in (10, 20, 30, 40)}
    assert with_pairs.selected == min(candidates, key=candidates.get)
    # the pairs count: against pairs that are always (0, 0), they are the largest TV
    always_00 = {**analytic, "pairs": np.zeros_like(analytic["pairs"])}
    always_00["pairs"][:, 0, 0] = 1.0
    symbols, runaway = generative.generate_checked(with_pairs.params, cfg, gen, 64, np.random.default_rng([1, 4]), 30)
    tv = generative.compare_statistics(emission_statistics(symbols, hmm.n_symbols, lags=(2, 5)), always_00)
    assert tv["pairs_tv"] > max(tv["occupancy_tv"], tv["transition_tv"], tv["dwell_tv"])
    assert generative.selection_score(with_pairs.params, cfg, lagged, hmm, always_00, 1)[1] == tv["pairs_tv"]
    with pytest.raises(ValueError, match=r"generative.select_lags must be integers from 1 to select_steps - 1"):
        GenerativeConfig(select_lags=(200,))
    with pytest.raises(ValueError, match="generative.select_trials must be an integer >= 2"):
        GenerativeConfig(select_trials=1)
    with pytest.raises(ValueError, match=r"generative.select_every must be an integer from 0 \(off\) to max_iters"):
        GenerativeConfig(select_every=500, max_iters=400)

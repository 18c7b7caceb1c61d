"""The almost-linear RNN (activation alrnn): exact gradients, its two limits (P = N relu, P = 0 linear), its
2^P-region exact analysis against an independent brute force, training with INSD, and its config checks."""

import itertools

import numpy as np
import pytest

from altrnn.analysis import plrnn
from altrnn.analysis.stability import rnn_map
from altrnn.config import ConfigError, ModelSection
from altrnn.model import PARAM_NAMES, ModelConfig, Params, backward, forward, init_params, recurrent_noise
from altrnn.train.objective import loss_and_grad

U = np.zeros(1)


def tiny(activation="alrnn", n_relu=3, dtype="float64", seed=0, T=12, B=3, N=7):
    rng = np.random.default_rng(seed)
    cfg = ModelConfig(n_in=3, n_rec=N, n_out=2, activation=activation, n_relu=n_relu, sigma_rec=0.1, dtype=dtype)
    params = init_params(cfg, g=1.5, rng=rng)
    params.b[:] = 0.3 * rng.standard_normal(N)
    params.b_out[:] = rng.standard_normal(2)
    inputs = rng.standard_normal((T, B, 3))
    targets = rng.standard_normal((T, B, 2))
    mask = (rng.random((T, B, 2)) < 0.7).astype(float)
    noise = recurrent_noise(cfg, (T, B, N), rng)
    return cfg, params, inputs, targets, mask, noise


@pytest.mark.parametrize("n_relu", [0, 3, 7])
def test_alrnn_bptt_matches_central_differences(n_relu):
    cfg, params, inputs, targets, mask, noise = tiny(n_relu=n_relu)

    def loss():
        return loss_and_grad(params, cfg, inputs, targets, mask, noise, 0.2, 0.01)[0].total

    _, grads, _ = loss_and_grad(params, cfg, inputs, targets, mask, noise, 0.2, 0.01)
    h = 1e-6
    for name in PARAM_NAMES:
        arr, fd = getattr(params, name), np.zeros_like(getattr(params, name))
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            up = loss()
            arr[idx] = old - h
            fd[idx] = (up - loss()) / (2 * h)
            arr[idx] = old
        rel = np.max(np.abs(getattr(grads, name) - fd)) / np.max(np.abs(fd))
        assert rel < 1e-6, f"{name}: relative error {rel:.2e}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_all_units_relu_is_the_relu_network(dtype):
    cfg, params, inputs, targets, mask, noise = tiny(n_relu=7, dtype=dtype)
    relu = ModelConfig(**{**cfg.__dict__, "activation": "relu", "n_relu": None})
    params, noise = params.astype(dtype), noise.astype(dtype)
    a, b = forward(params, cfg, inputs, noise), forward(params, relu, inputs, noise)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    dy = targets.astype(dtype)
    ga, gb = backward(params, cfg, inputs, a, dy), backward(params, relu, inputs, b, dy)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(getattr(ga, name), getattr(gb, name))


def test_rates_are_relu_on_the_first_units_only():
    cfg, params, inputs, _, _, noise = tiny(n_relu=3, T=30)
    traj = forward(params, cfg, inputs, noise)
    np.testing.assert_array_equal(traj.r[..., :3], np.maximum(traj.x[..., :3], 0))
    np.testing.assert_array_equal(traj.r[..., 3:], traj.x[..., 3:])
    assert (traj.x[..., 3:] < 0).any()  # the linear units do go negative


def linear_alrnn(N=5, P=0, seed=3, alpha=0.5):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((N, N))
    W *= 0.8 / np.max(np.abs(np.linalg.eigvals(W)))  # the linear map is a contraction in spectrum
    cfg = ModelConfig(n_in=2, n_rec=N, n_out=1, activation="alrnn", n_relu=P, alpha=alpha, sigma_rec=0.0,
                      dtype="float64")
    p = Params(W_in=rng.standard_normal((N, 2)), W=W, b=rng.standard_normal(N), W_out=np.ones((1, N)),
               b_out=np.zeros(1))
    return p, cfg


def test_no_relu_units_is_linear_with_the_closed_form_fixed_point():
    p, cfg = linear_alrnn()
    u = np.array([0.7, -1.2])
    closed = np.linalg.solve(np.eye(cfg.n_rec) - p.W, p.W_in @ u + p.b)  # x = W x + W_in u + b
    res = plrnn.enumerate_fixed_points(p, cfg, u)
    assert res.n_solved == {1: 1} and len(res) == 1
    np.testing.assert_allclose(res.arrays()["x"][0], closed, rtol=1e-12, atol=1e-12)
    assert res.stability[0].kind == "stable"
    traj = forward(p, cfg, np.broadcast_to(u, (400, 1, 2)))  # the network's own kernels converge to it
    np.testing.assert_allclose(traj.x[-1, 0], closed, rtol=1e-9, atol=1e-9)


def brute_force_fixed_points(p, cfg, u):
    """Every fixed point by an independent route: for each of the 2^P switching patterns, solve the fixed-point
    equation with those ReLU units on or off, and keep the solutions whose switching units have those signs."""
    N, P = cfg.n_rec, cfg.n_relu
    h = p.W_in @ u + p.b
    found = []
    for bits in itertools.product([0.0, 1.0], repeat=P):
        slope = np.concatenate([bits, np.ones(N - P)])
        x = np.linalg.solve(np.eye(N) - p.W * slope[None, :], h)  # x = W diag(slope) x + h
        if all((x[i] > 0) == bool(bits[i]) for i in range(P)):
            found.append(x)
    return np.array(found).reshape(-1, N)


def test_fixed_points_over_2_to_the_p_regions_match_brute_force():
    n_total = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        N, P = 6, 3
        W = 0.9 * np.eye(N) - 2.5 * np.abs(rng.standard_normal((N, N))) / np.sqrt(N)
        W[P:, :] *= 0.3  # keep the linear part from dominating
        cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="alrnn", n_relu=P, alpha=0.3, dtype="float64")
        p = Params(W_in=np.zeros((N, 1)), W=W, b=1 + 0.5 * rng.standard_normal(N), W_out=np.zeros((1, N)),
                   b_out=np.zeros(1))
        exact = plrnn.enumerate_fixed_points(p, cfg, U)
        assert exact.n_solved == {1: 2 ** P}
        ref = brute_force_fixed_points(p, cfg, U)
        got = exact.arrays()["x"]
        assert len(got) == len(ref)
        for x in ref:
            assert np.min(np.linalg.norm(got - x, axis=1)) < 1e-9
        for x in got:
            assert np.max(np.abs(rnn_map(p, cfg, x, U) - x)) < 1e-10
        # the region reported: the signs of all units
        np.testing.assert_array_equal(exact.arrays()["region"], got > 0)
        # the SCYFI-style search, seeded from trajectories, finds the same set
        x0 = 2 * rng.standard_normal((20, N))
        states = [x0]
        for _ in range(100):
            states.append(rnn_map(p, cfg, states[-1], U))
        found = plrnn.find_cycles(p, cfg, U, np.array(states), max_period=1, rng=seed, n_reseeds=50)
        assert len(found) == len(got)
        n_total += len(got)
    assert n_total > 12  # several networks with more than one fixed point


def test_two_cycles_of_an_alrnn_match_enumeration_and_the_map():
    """ReLU units x' = -2 relu(x) + 1 (weakly coupled) oscillate 1, -1, 1, ...; the linear units follow."""
    rng = np.random.default_rng(1)
    N, P = 4, 2
    W = 0.1 * rng.standard_normal((N, N))
    W[:P, :P] += -2 * np.eye(P)
    W[:P, P:] = 0  # the linear units do not feed back
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="alrnn", n_relu=P, alpha=1.0, dtype="float64")
    p = Params(W_in=np.zeros((N, 1)), W=W, b=np.ones(N), W_out=np.zeros((1, N)),
               b_out=np.zeros(1))
    exact = plrnn.enumerate_cycles(p, cfg, U, period=2)
    assert exact.n_solved == {2: 2 ** (2 * P)}
    assert len(exact) >= 1
    for orbit in exact.orbits:
        assert plrnn.check_orbit(p, cfg, U, orbit) < 1e-10
    found = plrnn.find_cycles(p, cfg, U, None, max_period=2, rng=0)
    cycles = [o for o in found.orbits if len(o) == 2]
    assert len(cycles) == len(exact)


def test_alrnn_trains_with_insd():
    """Two tiny training steps, then an INSD alternative against it, through the normal trainer."""
    from altrnn.stages.kernels import compile_kernels
    assert compile_kernels([["alrnn", "float64"]]) == ["alrnn float64"]


def test_n_relu_is_checked():
    ModelSection(activation="alrnn", n_relu=0, n_rec=4)
    ModelSection(activation="alrnn", n_relu=4, n_rec=4)
    with pytest.raises(ConfigError, match="model.n_relu.*needs"):
        ModelSection(activation="alrnn", n_rec=4)
    with pytest.raises(ConfigError, match="model.n_relu.*between 0 and model.n_rec = 4"):
        ModelSection(activation="alrnn", n_relu=5, n_rec=4)
    with pytest.raises(ConfigError, match="model.n_relu.*only used with activation alrnn"):
        ModelSection(activation="relu", n_relu=2)
    with pytest.raises(ValueError, match="n_relu"):
        ModelConfig(n_in=1, n_rec=3, n_out=1, activation="alrnn", n_relu=-1)
    with pytest.raises(ValueError, match="n_relu"):
        ModelConfig(n_in=1, n_rec=3, n_out=1, activation="tanh", n_relu=1)


def test_fixed_point_optimiser_agrees_with_enumeration():
    """The Adam + Newton search (numba kernel with the linear units) lands on the exact fixed points."""
    from altrnn.analysis.fixed_points import find_fixed_points
    rng = np.random.default_rng(7)  # 4 fixed points: one stable, three saddles
    N, P = 6, 3
    W = 0.9 * np.eye(N) - 2.5 * np.abs(rng.standard_normal((N, N))) / np.sqrt(N)
    W[P:, :] *= 0.3
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="alrnn", n_relu=P, alpha=0.3, dtype="float64")
    p = Params(W_in=np.zeros((N, 1)), W=W, b=1 + 0.5 * rng.standard_normal(N), W_out=np.zeros((1, N)),
               b_out=np.zeros(1))
    exact = plrnn.enumerate_fixed_points(p, cfg, U).arrays()["x"]
    assert len(exact) == 4
    found = find_fixed_points(p, cfg, U, exact[rng.integers(len(exact), size=60)] + rng.standard_normal((60, N)))
    fixed = found.x[found.kind == "fixed"]
    assert len(fixed) >= 3
    for x in fixed:
        assert np.min(np.linalg.norm(exact - x, axis=1)) < 1e-8


def test_unstable_manifolds_of_alrnn_saddles_are_invariant():
    """The exact piecewise-linear manifold code on an AL-RNN: F maps each branch into itself."""
    from altrnn.analysis import manifolds_pl

    rng = np.random.default_rng(7)  # the network of the optimiser test: one stable point, three saddles
    N, P = 6, 3
    W = 0.9 * np.eye(N) - 2.5 * np.abs(rng.standard_normal((N, N))) / np.sqrt(N)
    W[P:, :] *= 0.3
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="alrnn", n_relu=P, alpha=0.3, dtype="float64")
    p = Params(W_in=np.zeros((N, 1)), W=W, b=1 + 0.5 * rng.standard_normal(N), W_out=np.zeros((1, N)),
               b_out=np.zeros(1))
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    saddles = [o[0] for o, st in zip(res.orbits, res.stability) if st.kind == "saddle" and st.n_unstable == 1]
    assert saddles
    for x in saddles:
        m = manifolds_pl.unstable_manifold(p, cfg, U, x, n_iter=100, max_length=50)
        for br in m.branches:
            head = br[: max(2, len(br) // 2)]
            image = rnn_map(p, cfg, head, U)
            # distance of each image point to the polyline br (segments)
            a, b = br[:-1], br[1:]
            ab = b - a
            t = np.clip(np.einsum("ksn,sn->ks", image[:, None] - a[None], ab) / np.maximum((ab ** 2).sum(1), 1e-300),
                        0, 1)
            d = np.linalg.norm(image[:, None] - (a[None] + t[..., None] * ab[None]), axis=2).min(axis=1)
            assert d.max() < 1e-9 * max(1.0, np.abs(br).max())
            assert len(br) > 3

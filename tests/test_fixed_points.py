"""Fixed and slow points: gradient, optimiser, Newton, clean-up and classification against
finite differences, closed forms and hand-built networks; known results on trained networks
(3-bit flip-flop: 8 stable corners plus saddles; context-dependent integration: a line attractor)."""

import numpy as np
import pytest
from scipy.optimize import brentq
from threadpoolctl import threadpool_limits

from altrnn.analysis import fixed_points as fpm
from altrnn.analysis.fixed_points import (TABLE_COLUMNS, describe, find_fixed_points, inlier_mask,
                                          minimise_speed, near_fixed_mask, newton_refine, sample_initial_states,
                                          speed, speed_gradient, unique_points)
from altrnn.analysis.stability import jacobian, rnn_map
from altrnn.model import ModelConfig, Params, forward, init_params
from altrnn.tasks import make_task
from altrnn.train import TrainConfig, train


def random_net(act, N=6, n_in=2, g=1.5, seed=0, dtype="float64"):
    cfg = ModelConfig(n_in=n_in, n_rec=N, n_out=1, activation=act, dtype=dtype)
    rng = np.random.default_rng(seed)
    p = init_params(cfg, g, rng)
    p.b[:] = 0.3 * rng.standard_normal(N)
    return p, cfg


def linear_net(J_target, x_star, alpha=0.2):
    """A relu network whose map is affine with Jacobian J_target around x_star > 0, fixed at x_star."""
    N = len(x_star)
    W = (np.asarray(J_target) - (1 - alpha) * np.eye(N)) / alpha
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="relu", alpha=alpha, dtype="float64")
    b = (np.eye(N) - W) @ x_star  # x = W x + b at x_star
    return Params(W_in=np.zeros((N, 1)), W=W, b=b, W_out=np.ones((1, N)), b_out=np.zeros(1)), cfg


# --------------------------------------------------------------------------- gradient and optimiser

@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_speed_gradient_matches_finite_differences(act):
    p, cfg = random_net(act)
    rng = np.random.default_rng(1)
    u, x, h = np.array([0.5, -1.0]), rng.standard_normal(6), 1e-6
    fd = np.array([(speed(p, cfg, x + h * e, u) - speed(p, cfg, x - h * e, u)) / (2 * h) for e in np.eye(6)])
    np.testing.assert_allclose(speed_gradient(p, cfg, x, u), fd, rtol=1e-6, atol=1e-10)
    assert speed(p, cfg, x, u) == pytest.approx(0.5 * np.sum((rnn_map(p, cfg, x, u) - x) ** 2), rel=1e-14)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_adam_kernel_matches_a_plain_numpy_adam(act):
    """The fused kernel takes the same steps as Adam written out with the closed-form gradient."""
    p, cfg = random_net(act)
    u = np.array([0.5, -1.0])
    X0 = np.random.default_rng(2).standard_normal((5, 6))
    lr, b1, b2, eps, steps = 1e-2, 0.9, 0.999, 1e-8, 7
    X, M, V = X0.copy(), np.zeros_like(X0), np.zeros_like(X0)
    for t in range(1, steps + 1):
        g = speed_gradient(p, cfg, X, u)
        M = b1 * M + (1 - b1) * g
        V = b2 * V + (1 - b2) * g * g
        X = X - lr * (M / (1 - b1 ** t)) / (np.sqrt(V / (1 - b2 ** t)) + eps)
    Xk, Mk, Vk, q = X0.copy(), np.zeros_like(X0), np.zeros_like(X0), np.empty(5)
    W = np.ascontiguousarray(p.W)
    fpm.adam_steps(Xk, Mk, Vk, W, np.ascontiguousarray(W.T), p.W_in @ u + p.b, cfg.alpha, 0 if act == "tanh" else 1,
                   lr, b1, b2, eps, 0, steps, 0.0, q)
    np.testing.assert_allclose(Xk, X, rtol=1e-10, atol=1e-13)
    # q is reported at the start of the last step
    x_prev = X0.copy()
    x_prev, Mp, Vp = X0.copy(), np.zeros_like(X0), np.zeros_like(X0)
    fpm.adam_steps(x_prev, Mp, Vp, W, np.ascontiguousarray(W.T), p.W_in @ u + p.b, cfg.alpha,
                   0 if act == "tanh" else 1, lr, b1, b2, eps, 0, steps - 1, 0.0, np.empty(5))
    np.testing.assert_allclose(q, speed(p, cfg, x_prev, u), rtol=1e-10)


def test_frozen_rows_do_not_move_and_minimise_speed_reduces_q():
    p, cfg = random_net("tanh")
    u = np.zeros(2)
    X0 = np.random.default_rng(3).standard_normal((8, 6))
    x, q, iters = minimise_speed(p, cfg, u, X0, max_iters=300)
    assert iters == 300 or np.all(q < 1e-12)
    assert np.all(q <= speed(p, cfg, X0, u))
    np.testing.assert_allclose(q, speed(p, cfg, x, u))
    Xk = X0.copy()
    fpm.adam_steps(Xk, np.zeros_like(Xk), np.zeros_like(Xk), p.W, np.ascontiguousarray(p.W.T), p.b, cfg.alpha, 0,
                   1e-2, 0.9, 0.999, 1e-8, 0, 5, np.inf, np.empty(8))  # every q is below the threshold
    np.testing.assert_array_equal(Xk, X0)


# --------------------------------------------------------------------------- closed forms

@pytest.mark.parametrize("eigs, kind, n_unstable, spiral", [
    (np.diag([0.9, 0.5, 0.3]), "stable", 0, False),
    (np.diag([1.3, 1.1, 0.5]), "saddle", 2, False),
])
def test_linear_relu_network_fixed_point_in_closed_form(eigs, kind, n_unstable, spiral):
    """In the positive orthant a relu network is affine: its one fixed point is (I - W)^-1 b."""
    rng = np.random.default_rng(4)
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    J = Q @ eigs @ Q.T
    x_star = np.array([1.0, 2.0, 1.5])
    p, cfg = linear_net(J, x_star)
    np.testing.assert_allclose(np.linalg.solve(np.eye(3) - p.W, p.b), x_star)
    x0 = x_star + 0.2 * rng.standard_normal((16, 3))
    fp = find_fixed_points(p, cfg, np.zeros(1), x0)
    t = fp.table()
    assert (t.kind == "fixed").sum() == 1
    k = int(np.flatnonzero(fp.kind == "fixed")[0])
    np.testing.assert_allclose(fp.x[k], x_star, atol=1e-10)
    assert t.stability[k] == kind and t.n_unstable[k] == n_unstable and t.spiral[k] == spiral
    np.testing.assert_allclose(np.sort(np.abs(fp.eigvals[k])), np.sort(np.diag(eigs)), atol=1e-12)


def test_spiral_saddle_with_two_unstable_dimensions():
    """A hand-made Jacobian: an unstable complex pair 1.2 exp(+-0.3i) and a stable 0.5."""
    c, s = 1.2 * np.cos(0.3), 1.2 * np.sin(0.3)
    J = np.array([[c, -s, 0], [s, c, 0], [0, 0, 0.5]])
    x_star = np.array([2.0, 1.0, 1.0])
    p, cfg = linear_net(J, x_star)
    fp = describe(p, cfg, np.zeros(1), x_star[None], [0.0], ["fixed"])
    row = fp.table().iloc[0]
    assert row.stability == "saddle" and row.n_unstable == 2 and row.spiral
    assert row.max_modulus == pytest.approx(1.2) and abs(row.eig_imag) == pytest.approx(1.2 * np.sin(0.3))
    assert row.eig_real == pytest.approx(c)
    np.testing.assert_allclose(fp.cont_eigvals[0], (fp.eigvals[0] - 1) / cfg.alpha)
    v = fp.eigvecs[0][:, 0]
    np.testing.assert_allclose(J @ v, fp.eigvals[0, 0] * v, atol=1e-12)


def test_decoupled_tanh_units_have_the_fixed_points_of_x_equal_w_tanh_x():
    """W = diag(2, 0.5): x1 = 2 tanh(x1) has roots 0 and +-r (r from brentq), x2 = 0.5 tanh(x2) only 0."""
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=1, activation="tanh", dtype="float64")
    p = Params(W_in=np.zeros((2, 1)), W=np.diag([2.0, 0.5]), b=np.zeros(2), W_out=np.ones((1, 2)),
               b_out=np.zeros(1))
    r = brentq(lambda x: x - 2 * np.tanh(x), 0.5, 5)
    x0 = sample_initial_states(np.array([[-r, 0.0], [r, 0.0], [0.0, 0.0]]), 60, 0.5, np.random.default_rng(5))
    fp = find_fixed_points(p, cfg, np.zeros(1), x0)
    fixed = fp.x[fp.kind == "fixed"]
    assert len(fixed) == 3 and np.all(fp.q[fp.kind == "fixed"] < 1e-25)
    expected = {(-r, 0.0): "stable", (0.0, 0.0): "saddle", (r, 0.0): "stable"}
    for point, stab in expected.items():
        k = np.argmin(np.linalg.norm(fp.x - np.array(point), axis=1))
        np.testing.assert_allclose(fp.x[k], point, atol=1e-12)
        assert fp.stability[k] == stab
    k0 = np.argmin(np.linalg.norm(fp.x, axis=1))  # at 0 the map's eigenvalues are 1 - a + a w
    np.testing.assert_allclose(np.sort(fp.eigvals[k0].real), np.sort(0.8 + 0.2 * np.array([2.0, 0.5])), atol=1e-12)


def test_newton_converges_quadratically():
    p, cfg = random_net("tanh", N=8, g=1.5, seed=6)
    u = np.array([0.2, 0.1])
    x0 = np.random.default_rng(7).standard_normal((64, 8))
    fp = find_fixed_points(p, cfg, u, x0)
    x_star = fp.x[0]
    assert fp.q[0] < 1e-25
    x = x_star + 1e-2 * np.random.default_rng(8).standard_normal(8)
    qs = [speed(p, cfg, x, u)]
    for _ in range(4):
        x = newton_refine(p, cfg, u, x[None], max_iters=1, q_stop=0.0)[0]
        qs.append(speed(p, cfg, x, u))
    print("q along Newton:", qs)
    qs = np.array(qs)
    run = qs[qs > 1e-26]  # above the rounding floor
    assert len(run) >= 3
    # quadratic: the error squares, so log q roughly doubles (q_{k+1} ~ C q_k^2)
    for a, b in zip(run[:-1], run[1:]):
        assert b < 1e3 * a ** 1.8
    np.testing.assert_allclose(x, x_star, atol=1e-12)


# --------------------------------------------------------------------------- clean-up on constructed inputs

def test_unique_points_keeps_the_lowest_q_of_each_cluster():
    x = np.array([[0.0, 0.0], [0.0, 5e-4], [1.0, 0.0], [1.0 + 2e-3, 0.0], [1.0, 6e-4]])
    q = np.array([1e-3, 1e-5, 1e-2, 1e-4, 1e-6])
    kept = unique_points(x, q, 1e-3)
    # (0,0) and (0,5e-4) merge -> 1; (1,0) and (1,6e-4) merge -> 4; (1.002,0) is 2e-3 from (1,0): its own point
    assert sorted(kept.tolist()) == [1, 3, 4]
    assert unique_points(np.empty((0, 2)), np.empty(0), 1e-3).size == 0
    # brute force on random clouds: no two kept points closer than tol, every dropped point near a kept one
    rng = np.random.default_rng(9)
    x, q = rng.random((200, 2)) * 0.05, rng.random(200)
    kept = unique_points(x, q, 1e-2)
    d = np.linalg.norm(x[:, None] - x[None], axis=2)
    assert np.all(d[np.ix_(kept, kept)][~np.eye(len(kept), dtype=bool)] >= 1e-2)
    dropped = np.setdiff1d(np.arange(200), kept)
    assert np.all([np.any((d[i, kept] < 1e-2) & (q[kept] <= q[i])) for i in dropped])


def test_outliers_and_slow_points_near_fixed_points():
    init = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])  # centroid 0, mean distance 1.5
    x = np.array([[0.0, 14.9], [15.1, 0.0], [3.0, 3.0]])
    np.testing.assert_array_equal(inlier_mask(x, init, None, 10.0), [True, False, True])
    visited = init + np.array([10.0, 0.0])  # centroid (10, 0): mean distance of the initial states 10.099
    np.testing.assert_array_equal(inlier_mask(np.array([[10.0, 100.5], [10.0, 101.5]]), init, visited, 10.0),
                                  [True, False])
    fixed = np.array([[0.0, 0.0], [5.0, 5.0]])
    np.testing.assert_array_equal(near_fixed_mask(np.array([[0.05, 0.0], [5.0, 5.2], [2.0, 2.0]]), fixed, 0.1),
                                  [True, False, False])
    assert near_fixed_mask(np.ones((2, 2)), np.empty((0, 2)), 1.0).tolist() == [False, False]


def test_outliers_are_dropped_from_the_search():
    """A fixed point far outside the visited cloud is found but dropped as an outlier."""
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=1, activation="relu", dtype="float64")
    p = Params(W_in=np.zeros((2, 1)), W=np.diag([0.5, 0.5]), b=np.array([100.0, 0.0]), W_out=np.ones((1, 2)),
               b_out=np.zeros(1))  # fixed point (200, 0)
    x0 = np.random.default_rng(10).standard_normal((8, 2))  # in the visited cloud; Newton jumps to (200, 0)
    fp = find_fixed_points(p, cfg, np.zeros(1), x0, visited=np.random.default_rng(11).standard_normal((50, 2)))
    assert len(fp) == 0 and fp.info["n_outliers"] == 1
    fp = find_fixed_points(p, cfg, np.zeros(1), x0, outlier_factor=1000.0)
    assert len(fp) == 1 and np.allclose(fp.x[0], [200.0, 0.0])


# --------------------------------------------------------------------------- the result object and inputs

def test_table_and_arrays_have_the_documented_layout():
    p, cfg = random_net("tanh", N=6, seed=12)
    fp = find_fixed_points(p, cfg, np.zeros(2), np.random.default_rng(13).standard_normal((32, 6)))
    t = fp.table()
    assert list(t.columns) == TABLE_COLUMNS and len(t) == len(fp) > 0
    assert t.point.tolist() == list(range(len(fp))) and (t.period == 1).all()
    assert set(t.kind) <= {"fixed", "slow"} and set(t.stability) <= {"stable", "marginal", "saddle", "unstable"}
    for col, kind in [("point", "i"), ("period", "i"), ("n_unstable", "i"), ("q", "f"), ("max_modulus", "f"),
                      ("eig_real", "f"), ("eig_imag", "f"), ("spiral", "b")]:
        assert t[col].dtype.kind == kind, col
    a = fp.arrays()
    assert set(a) == {"x", "q", "eigvals", "eigvecs"}
    K = len(fp)
    assert a["x"].shape == (K, 6) and a["q"].shape == (K,) and a["eigvals"].shape == (K, 6)
    assert a["eigvecs"].shape == (K, 6, 3) and a["eigvals"].dtype.kind == "c" and a["eigvecs"].dtype.kind == "c"
    np.testing.assert_allclose(t.max_modulus, np.abs(a["eigvals"][:, 0]))
    np.testing.assert_allclose(a["q"], speed(p, cfg, a["x"], np.zeros(2)), rtol=1e-6, atol=1e-28)
    for k in range(K):  # every eigenvalue and vector belongs to that point's closed-form Jacobian
        J = jacobian(p, cfg, a["x"][k])
        np.testing.assert_allclose(J @ a["eigvecs"][k], a["eigvecs"][k] * a["eigvals"][k, :3], atol=1e-10)
    # empty result: same columns, arrays with the right trailing shapes
    empty = find_fixed_points(p, cfg, np.zeros(2), 50 + np.zeros((4, 6)), max_iters=0, newton=False)
    assert len(empty) == 0 and list(empty.table().columns) == TABLE_COLUMNS
    assert [v.shape for v in empty.arrays().values()] == [(0, 6), (0,), (0, 6), (0, 6, 3)]


def test_float32_weights_give_the_float64_result():
    p, cfg = random_net("tanh", N=6, seed=14, dtype="float32")
    p64 = p.astype(np.float64)
    cfg64 = ModelConfig(n_in=2, n_rec=6, n_out=1, activation="tanh", dtype="float64")
    x0 = np.random.default_rng(15).standard_normal((32, 6))
    a = find_fixed_points(p, cfg, np.zeros(2), x0)
    b = find_fixed_points(p64, cfg64, np.zeros(2), x0)
    assert len(a) == len(b) > 0 and a.x.dtype == np.float64
    np.testing.assert_allclose(a.x, b.x, atol=1e-12)


def test_relu_network_points_are_fixed_points_of_their_region():
    """For relu, a fixed point x solves x = W D x + c in its own region D = diag(x > 0)."""
    p, cfg = random_net("relu", N=8, g=1.5, seed=16)
    u = np.array([1.0, -0.5])
    fp = find_fixed_points(p, cfg, u, np.random.default_rng(17).standard_normal((128, 8)))
    assert (fp.kind == "fixed").sum() >= 1
    c = p.W_in @ u + p.b
    for x in fp.x[fp.kind == "fixed"]:
        D = np.diag((x > 0).astype(float))
        np.testing.assert_allclose(np.linalg.solve(np.eye(8) - p.W @ D, c), x, atol=1e-9)


def test_sample_initial_states():
    rng = np.random.default_rng(18)
    states = rng.standard_normal((40, 5, 3)) * np.array([1.0, 2.0, 3.0])  # (T, B, N) is flattened
    x0 = sample_initial_states(states, 30, 0.0, np.random.default_rng(0))
    flat = states.reshape(-1, 3)
    assert x0.shape == (30, 3) and all(np.any(np.all(flat == r, axis=1)) for r in x0)
    assert len({tuple(r) for r in x0}) == 30  # without replacement
    noisy = sample_initial_states(states, 4000, 0.1, np.random.default_rng(0))
    clean = sample_initial_states(states, 4000, 0.0, np.random.default_rng(0))
    spread = np.sqrt(np.mean(flat.var(axis=0)))
    assert np.std(noisy - clean) == pytest.approx(0.1 * spread, rel=0.05)
    assert sample_initial_states(flat[:3], 10, 0.0, rng).shape == (10, 3)  # with replacement when n > M


@pytest.mark.parametrize("kwargs, match", [
    ({"u": np.zeros(3)}, "u must have shape"),
    ({"initial_states": np.zeros((4, 5))}, "initial_states must have shape"),
    ({"initial_states": np.full((4, 6), np.nan)}, "initial_states contains NaN"),
    ({"q_tol": -1.0}, "q_tol"),
    ({"slow_tol": 1e-14}, "slow_tol"),
    ({"unique_tol": 0.0}, "unique_tol"),
    ({"outlier_factor": np.inf}, "outlier_factor"),
    ({"slow_exclusion": -0.1}, "slow_exclusion"),
    ({"max_iters": -1}, "max_iters"),
    ({"visited": np.zeros((3, 4))}, "visited"),
])
def test_bad_input_names_the_argument(kwargs, match):
    p, cfg = random_net("tanh")
    args = {"u": np.zeros(2), "initial_states": np.zeros((4, 6))}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        find_fixed_points(p, cfg, args.pop("u"), args.pop("initial_states"), **args)
    bad = Params(W_in=p.W_in, W=p.W[:5], b=p.b, W_out=p.W_out, b_out=p.b_out)
    with pytest.raises(ValueError, match="params.W"):
        find_fixed_points(bad, cfg, np.zeros(2), np.zeros((4, 6)))
    with pytest.raises(ValueError, match="noise_scale"):
        sample_initial_states(np.zeros((3, 6)), 2, -1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="states"):
        sample_initial_states(np.zeros(6), 2, 0.1, np.random.default_rng(0))


# ------------------------------------------ known results on trained networks (`flipflop`: conftest.py)

def readout(params, x):
    return np.tanh(x) @ np.asarray(params.W_out, dtype=np.float64).T + params.b_out


def test_flipflop_has_eight_stable_corners_and_saddles_between_them(flipflop):
    params, cfg, states, fp = flipflop
    t = fp.table()
    fixed = t[t.kind == "fixed"]
    counts = fixed.groupby(["stability", "n_unstable"]).size().to_dict()
    print("flip-flop fixed points by (stability, n_unstable):", counts, "slow points:", (t.kind == "slow").sum())
    stable = fp.x[(fp.kind == "fixed") & (fp.stability == "stable")]
    assert len(stable) == 8
    y = readout(params, stable)
    assert {tuple(s) for s in np.sign(y).astype(int)} == {(a, b, c) for a in (-1, 1) for b in (-1, 1)
                                                          for c in (-1, 1)}
    assert np.abs(y).min() > 0.5  # near the corners of the output cube (measured: 0.78)
    assert np.all(fixed.max_modulus[fixed.stability == "stable"] < 0.99)
    # saddles between the corners: measured 12 with one unstable direction (the cube's edges)
    assert counts.get(("saddle", 1), 0) >= 8
    assert np.all(fp.q[fp.kind == "fixed"] < 1e-12)
    np.testing.assert_allclose(fp.q, speed(params, cfg, fp.x, np.zeros(3)), rtol=1e-6, atol=1e-28)


def test_flipflop_attractors_agree_with_long_simulation(flipflop):
    """Brute force: every visited state, run long without input, ends on one of the found stable points."""
    params, cfg, states, fp = flipflop
    stable = fp.x[(fp.kind == "fixed") & (fp.stability == "stable")]
    x = states[10::10].reshape(-1, cfg.n_rec).astype(np.float64)
    for _ in range(2000):
        x = rnn_map(params, cfg, x, np.zeros(3))
    d = np.linalg.norm(x[:, None] - stable[None], axis=2)
    assert d.min(axis=1).max() < 1e-6
    assert len(np.unique(d.argmin(axis=1))) == len(stable)  # and every found stable point is reached


@pytest.fixture(scope="module")
def integrator():
    """A context-dependent integration network (N = 32) whose long response epoch asks it to hold the evidence."""
    with threadpool_limits(1):
        task = make_task("integration", {"T_fix": 2, "T_stim": 20, "T_resp": 30})
        cfg = ModelConfig(n_in=4, n_rec=32, n_out=1, sigma_rec=0.0)
        params = train(task, cfg, TrainConfig(batch_size=32, lr=1e-2, max_iters=1000, log_every=100),
                       g=1.0, seed=0).params
        batch = task.batch(128, np.random.default_rng(0))
        states = forward(params, cfg, batch.inputs).x
        visited = states[:, batch.meta["context"] == 0]
        u = np.array([0.0, 0.0, 1.0, 0.0])  # context 0 cue on, no evidence
        x0 = sample_initial_states(visited, 256, 0.05, np.random.default_rng(1))
        fp = find_fixed_points(params, cfg, u, x0, visited=visited, slow_exclusion=0.0)
    return params, cfg, fp


def test_integration_network_has_a_line_attractor_under_its_context(integrator):
    params, cfg, fp = integrator
    X = fp.x - fp.x.mean(axis=0)
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    pc1_share = s[0] ** 2 / np.sum(s ** 2)
    lead, second = np.abs(fp.eigvals[:, 0]), np.abs(fp.eigvals[:, 1])
    v = fp.eigvecs[:, :, 0]
    align = np.abs(np.real(v.conj() @ Vt[0])) / np.linalg.norm(v, axis=1)
    y = readout(params, fp.x)[:, 0]
    print(f"line: {len(fp)} points ({(fp.kind == 'fixed').sum()} fixed), PC1 share {pc1_share:.4f}, "
          f"leading modulus median {np.median(lead):.3f} min {lead.min():.3f}, second max {second.max():.3f}, "
          f"|cos(leading eigenvector, PC1)| min {align.min():.3f}, readout {y.min():.2f}..{y.max():.2f}")
    # measured: 44 points, PC1 0.9988, leading 0.983 (min 0.959), second <= 0.836, cos >= 0.990, readout -0.59..0.75
    assert len(fp) >= 10
    assert pc1_share > 0.95
    assert np.median(lead) > 0.95 and lead.min() > 0.9 and np.all(lead < 1.05)
    assert second.max() < 0.9
    assert np.median(align) > 0.9  # the slow direction runs along the line
    assert y.min() < -0.3 and y.max() > 0.3  # the line spans both choices

"""Exact fixed points and cycles of ReLU networks: the search against brute force, closed forms and simulation."""

import numpy as np
import pytest

from altrnn.analysis import plrnn
from altrnn.analysis.stability import jacobian, rnn_map
from altrnn.model.network import ModelConfig, Params


def relu_net(W, h, alpha):
    W = np.asarray(W, dtype=np.float64)
    N = len(W)
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="relu", alpha=alpha, dtype="float64")
    p = Params(W_in=np.zeros((N, 1)), W=W, b=np.asarray(h, dtype=np.float64), W_out=np.zeros((1, N)),
               b_out=np.zeros(1))
    return p, cfg


U = np.zeros(1)


def competitive_net(N, seed, alpha=0.2, g=3.0, s=0.9):
    """Self-excitation plus random mutual inhibition: several fixed points, many of them saddles."""
    rng = np.random.default_rng(seed)
    W = s * np.eye(N) - g * np.abs(rng.standard_normal((N, N))) / np.sqrt(N)
    return relu_net(W, 1 + 0.3 * rng.standard_normal(N), alpha)


def oscillating_net(N, seed):
    """alpha = 1 and self-inhibition: period-2 cycles."""
    rng = np.random.default_rng(seed)
    W = -np.eye(N) - 3.0 * np.abs(rng.standard_normal((N, N))) / np.sqrt(N)
    return relu_net(W, 1 + 0.3 * rng.standard_normal(N), 1.0)


def trajectories(p, cfg, seed, n=20, T=200):
    rng = np.random.default_rng(seed)
    x = [2 * rng.standard_normal((n, cfg.n_rec))]
    for _ in range(T):
        x.append(rnn_map(p, cfg, x[-1], U))
    return np.array(x)  # (T+1, n, N), time-major


def same_set(a, b, tol=1e-8):
    """Whether the first orbit points a (K, N) and b (L, N) are the same set of points."""
    if len(a) != len(b):
        return False
    return all(np.min(np.linalg.norm(b - x, axis=1)) < tol for x in a)


def assert_true_orbits(res, p, cfg):
    """Every accepted orbit satisfies F^k(x) = x with the network's own map, independently of plrnn."""
    for orbit, q in zip(res.orbits, res.q):
        assert plrnn.check_orbit(p, cfg, U, orbit) < 1e-10
        assert q < 1e-20
        x = orbit[0]
        for _ in range(len(orbit)):
            x = rnn_map(p, cfg, x, U)
        np.testing.assert_allclose(x, orbit[0], atol=1e-10)


@pytest.mark.parametrize("N", [3, 5, 8, 10])
def test_search_finds_the_brute_force_fixed_points(N):
    counts = []
    for seed in range(10 if N < 8 else 6):
        p, cfg = competitive_net(N, seed)
        exact = plrnn.enumerate_fixed_points(p, cfg, U)
        # at N = 8 and 10 the reseed budget is enough to reach (almost) every one of the 256 / 1024 regions
        found = plrnn.find_cycles(p, cfg, U, trajectories(p, cfg, seed), max_period=1, rng=seed, n_reseeds=1000)
        assert same_set(exact.arrays()["x"], found.arrays()["x"]), (seed, len(exact), len(found))
        assert_true_orbits(exact, p, cfg)
        counts.append(len(exact))
    assert max(counts) >= 3 and sum(counts) > len(counts)  # the networks do have several fixed points


@pytest.mark.parametrize("N", [3, 5])
def test_search_finds_the_brute_force_two_cycles(N):
    counts = []
    for seed in range(10):
        p, cfg = oscillating_net(N, seed)
        exact = plrnn.enumerate_cycles(p, cfg, U, period=2)
        found = plrnn.find_cycles(p, cfg, U, trajectories(p, cfg, seed), max_period=2, rng=seed)
        two = found.periods == 2
        assert same_set(exact.arrays()["x"], found.arrays()["x"][two]), (seed, len(exact), two.sum())
        assert_true_orbits(exact, p, cfg)
        assert np.all(exact.periods == 2)
        counts.append(len(exact))
    assert max(counts) >= 2 and sum(counts) >= 10


def test_fixed_points_of_one_unit_in_closed_form():
    """x = w relu(x) + h: x = h/(1-w) if that is > 0, and x = h if h <= 0."""
    for w, h in [(0.5, 1.0), (0.5, -1.0), (2.0, -1.0), (2.0, 1.0), (-3.0, 2.0)]:
        p, cfg = relu_net([[w]], [h], 0.3)
        expected = sorted([v for v in (h / (1 - w),) if v > 0] + ([h] if h <= 0 else []))
        got = sorted(plrnn.enumerate_fixed_points(p, cfg, U).arrays()["x"][:, 0])
        np.testing.assert_allclose(got, expected, rtol=1e-14)
    # w = 2, h = -1: x = -1 (stable, slope 1 - a) and x = 1 (unstable, 1 - a + 2a)
    p, cfg = relu_net([[2.0]], [-1.0], 0.3)
    t = plrnn.enumerate_fixed_points(p, cfg, U).table()
    assert list(t.stability) == ["stable", "unstable"]
    np.testing.assert_allclose(t.eig_real, [0.7, 1.3], rtol=1e-14)


def test_stability_uses_the_jacobian_of_the_network():
    """The (product) Jacobian equals the product of stability.jacobian along the orbit."""
    p, cfg = oscillating_net(5, 3)
    res = plrnn.enumerate_cycles(p, cfg, U, period=2)
    assert len(res) > 0
    arrs = res.arrays()
    for orbit, J, vals in zip(res.orbits, arrs["jacobian"], arrs["eigvals"]):
        expected = jacobian(p, cfg, orbit[1]) @ jacobian(p, cfg, orbit[0])
        np.testing.assert_allclose(J, expected, atol=1e-14)
        np.testing.assert_allclose(np.sort(np.abs(vals)), np.sort(np.abs(np.linalg.eigvals(expected))), atol=1e-12)


def test_hand_built_two_cycle():
    """p = (1, -1) -> q = (-1, 1.5) -> p: weights chosen by hand so that F(p) = q and F(q) = p."""
    a = 0.5
    P, Q, h = np.array([1.0, -1.0]), np.array([-1.0, 1.5]), np.array([0.2, 0.4])
    W = np.zeros((2, 2))
    W[:, 0] = ((Q - (1 - a) * P) / a - h) / P[0]  # only unit 0 is active at P
    W[:, 1] = ((P - (1 - a) * Q) / a - h) / Q[1]  # only unit 1 is active at Q
    p, cfg = relu_net(W, h, a)
    np.testing.assert_allclose(rnn_map(p, cfg, P, U), Q, atol=1e-14)
    res = plrnn.find_cycles(p, cfg, U, None, max_period=4, rng=0)
    cycles = [i for i, o in enumerate(res.orbits) if len(o) == 2]
    assert len(cycles) == 1
    orbit = res.orbits[cycles[0]]
    assert same_set(orbit, np.array([P, Q]), tol=1e-12)
    # by hand: A_p = [[-1.1, 0], [1.8, 0.5]], A_q = [[0.5, 14/15], [0, -0.8]], A_q A_p has trace 0.73 and
    # determinant 0.22 < trace^2 / 4: a complex pair of modulus sqrt(0.22), a stable spiral
    row = res.table().iloc[cycles[0]]
    assert row.kind == "cycle" and row.period == 2 and row.stability == "stable" and row.spiral
    assert row.max_modulus == pytest.approx(np.sqrt(0.22), rel=1e-12)
    assert row.eig_real == pytest.approx(0.365, rel=1e-12)
    # the same cycle seen by simulation: started near P, the orbit alternates between P and Q
    x = P + 0.05
    for _ in range(400):
        x = rnn_map(p, cfg, x, U)
    assert min(np.linalg.norm(x - P), np.linalg.norm(x - Q)) < 1e-10


def test_stable_points_found_by_simulation_are_enumerated():
    """Independent completeness check: where long simulations settle is among the enumerated stable points."""
    for seed in range(4):
        p, cfg = competitive_net(6, seed)
        res = plrnn.enumerate_fixed_points(p, cfg, U)
        stable = res.arrays()["x"][res.table().stability.to_numpy() == "stable"]
        end = trajectories(p, cfg, seed, n=50, T=3000)[-1]
        settled = end[np.linalg.norm(rnn_map(p, cfg, end, U) - end, axis=1) < 1e-12]
        assert len(settled) > 0
        for x in settled:
            assert np.min(np.linalg.norm(stable - x, axis=1)) < 1e-8


def test_fixed_point_on_a_switching_boundary_is_found_once():
    """x = 2 relu(x) + 0 has x = 0 on the boundary: a solution of both regions, listed once."""
    p, cfg = relu_net([[2.0]], [0.0], 0.2)
    res = plrnn.enumerate_fixed_points(p, cfg, U)
    assert len(res) == 1 and res.arrays()["x"][0, 0] == 0.0
    assert res.arrays()["on_boundary"][0]
    # a 2-unit network with one unit exactly at 0 and the other inside its region
    p, cfg = relu_net([[0.5, 0.0], [1.0, 0.5]], [-0.0, 1.0], 0.2)
    res = plrnn.find_cycles(p, cfg, U, None, max_period=1, rng=0)
    assert len(res) == 1
    np.testing.assert_allclose(res.arrays()["x"][0], [0.0, 2.0], atol=1e-15)


def test_table_and_arrays_layout():
    p, cfg = competitive_net(5, 0)
    res = plrnn.find_cycles(p, cfg, U, trajectories(p, cfg, 0), max_period=2, rng=0)
    t = res.table()
    assert list(t.columns) == ["point", "kind", "period", "q", "stability", "n_unstable", "spiral", "max_modulus",
                               "eig_real", "eig_imag"]
    assert t.point.tolist() == list(range(len(res)))
    assert set(t.kind) <= {"fixed", "cycle"} and (t.kind == "fixed").tolist() == (t.period == 1).tolist()
    assert set(t.stability) <= {"stable", "marginal", "saddle", "unstable"}
    a = res.arrays()
    K, P = len(res), int(t.period.sum())
    assert a["x"].shape == (K, 5) and a["eigvals"].shape == (K, 5) and np.iscomplexobj(a["eigvals"])
    assert a["orbit"].shape == (P, 5) and a["orbit_point"].shape == (P,) and a["region"].dtype == bool
    np.testing.assert_array_equal(a["region"], a["x"] > 0)
    np.testing.assert_array_equal(a["x"], a["orbit"][np.searchsorted(a["orbit_point"], np.arange(K))])
    np.testing.assert_allclose(np.abs(a["eigvals"][:, 0]), t.max_modulus)
    # nothing found: empty arrays with the right trailing shapes, empty table with the columns
    p0, cfg0 = relu_net([[2.0, 0.0], [0.0, 2.0]], [1.0, 1.0], 0.2)  # x grows without bound: no fixed point
    empty = plrnn.enumerate_fixed_points(p0, cfg0, U)
    assert len(empty) == 0 and list(empty.table().columns) == list(t.columns)
    ea = empty.arrays()
    assert ea["x"].shape == (0, 2) and ea["eigvals"].shape == (0, 2) and ea["orbit"].shape == (0, 2)
    assert ea["orbit_point"].shape == (0,) and ea["region"].shape == (0, 2)


def test_bad_input_is_named():
    p, cfg = competitive_net(3, 0)
    tanh_cfg = ModelConfig(n_in=1, n_rec=3, n_out=1, activation="tanh", dtype="float64")
    with pytest.raises(ValueError, match="activation"):
        plrnn.find_cycles(p, tanh_cfg, U)
    with pytest.raises(ValueError, match="u must"):
        plrnn.enumerate_fixed_points(p, cfg, np.zeros(2))
    with pytest.raises(ValueError, match="visited_states"):
        plrnn.find_cycles(p, cfg, U, np.zeros((10, 4)))
    with pytest.raises(ValueError, match="max_period"):
        plrnn.find_cycles(p, cfg, U, max_period=0)
    with pytest.raises(ValueError, match="n_seeds"):
        plrnn.find_cycles(p, cfg, U, n_seeds=-1)
    big, big_cfg = competitive_net(12, 0)
    with pytest.raises(ValueError, match="n_rec"):
        plrnn.enumerate_fixed_points(big, big_cfg, U, max_units=10)
    with pytest.raises(ValueError, match="n_rec"):
        plrnn.enumerate_cycles(big, big_cfg, U, period=2)

"""Periodic orbits of smooth networks: hand-built 2-cycles and 4-cycles with closed-form orbits and
multipliers, a flow-like rotation with saturation whose period is checked against the winding of a
long trajectory, and Floquet multipliers against central finite differences of F^k."""

import numpy as np
import pytest
from scipy.optimize import brentq

from altrnn.analysis import periodic_orbits as po
from altrnn.analysis.stability import rnn_map
from altrnn.model import ModelConfig, Params


def network(W, alpha):
    N = W.shape[0]
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="tanh", alpha=alpha, dtype="float64")
    return Params(W_in=np.zeros((N, 1)), W=np.asarray(W, float), b=np.zeros(N), W_out=np.ones((1, N)),
                  b_out=np.zeros(1)), cfg


def rotation(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def seeds(N, n=24, seed=0):
    return np.random.default_rng(seed).uniform(-3, 3, (n, N))


def fd_monodromy(p, cfg, x, k, h=1e-6):
    """Central finite differences of F^k at x, in float64."""
    def Fk(y):
        for _ in range(k):
            y = rnn_map(p, cfg, y, np.zeros(1))
        return y
    return np.stack([(Fk(x + h * e) - Fk(x - h * e)) / (2 * h) for e in np.eye(x.size)], axis=1)


def sorted_moduli(v):
    return np.sort(np.abs(v))


def test_two_cycle_of_a_sign_flipping_unit_with_alpha_one():
    # x -> -2 tanh(x) on unit 1 (a 2-cycle +-r, r = 2 tanh r) and x -> -0.5 tanh(x) on unit 2 (decays to 0).
    p, cfg = network(np.diag([-2.0, -0.5]), alpha=1.0)
    r = brentq(lambda x: x - 2 * np.tanh(x), 0.5, 5)
    res = po.find_cycles(p, cfg, np.zeros(1), seeds(2), max_steps=10, n_transient=200)
    assert len(res) == 1 and res.kind == ["cycle"] and res.periods.tolist() == [2]
    np.testing.assert_allclose(np.sort(res.orbits[0][:, 0]), [-r, r], rtol=1e-10)
    np.testing.assert_allclose(res.orbits[0][:, 1], 0, atol=1e-10)
    sech2 = 1 - np.tanh(r) ** 2
    np.testing.assert_allclose(sorted_moduli(res.multipliers[0]), np.sort([4 * sech2 ** 2, 0.25]), rtol=1e-8)
    assert res.phase == [-1] and res.stability == ["stable"] and res.n_unstable == [0]
    assert res.q[0] < 1e-24 and res.period_steps == [2.0]
    t = res.table()
    assert t.kind.tolist() == ["cycle"] and t.period.tolist() == [2] and t.max_modulus[0] == pytest.approx(0.25)


def test_two_cycle_of_a_leaky_unit_against_one_dimensional_root_finding():
    # F(x) = (1-a) x - a s tanh(x): F(r) = -r  <=>  (2 - a) r = a s tanh(r); multiplier ((1-a) - a s sech^2 r)^2.
    a, s = 0.5, 4.0
    p, cfg = network(np.array([[-s]]), alpha=a)
    r = brentq(lambda x: (2 - a) * x - a * s * np.tanh(x), 0.1, 10)
    res = po.find_cycles(p, cfg, np.zeros(1), seeds(1), max_steps=10, n_transient=200)
    assert len(res) == 1 and res.periods.tolist() == [2] and res.kind == ["cycle"]
    np.testing.assert_allclose(np.sort(res.orbits[0][:, 0]), [-r, r], rtol=1e-10)
    mu = ((1 - a) - a * s * (1 - np.tanh(r) ** 2)) ** 2
    assert res.multipliers[0][0].real == pytest.approx(mu, rel=1e-8) and res.stability == ["stable"]


def test_rotation_by_a_quarter_turn_has_four_cycles_in_closed_form():
    # x -> s R90 tanh(x): tanh commutes with R90, so x, R90 x, ... is a 4-cycle whenever s tanh(x) = x
    # componentwise: through (r, r) and through (r, 0), r = s tanh r. Along the first M = (s d)^4 I,
    # d = sech^2 r (stable); along the second each coordinate keeps its slope (d at +-r, 1 at 0), so
    # the multipliers are (s d)^4 and s^4 (a saddle cycle, which forward iteration cannot reach).
    s = 2.0
    R = rotation(np.pi / 2)
    p, cfg = network(s * R, alpha=1.0)
    r = brentq(lambda x: x - s * np.tanh(x), 0.5, 5)
    d = 1 - np.tanh(r) ** 2
    res = po.find_cycles(p, cfg, np.zeros(1), seeds(2, n=64), max_steps=12, n_transient=300)
    assert res.periods.tolist() == [4] and res.kind == ["cycle"]  # one orbit, whatever the phase of each seed
    expected = np.array([np.linalg.matrix_power(R, j) @ [r, r] for j in range(4)])
    np.testing.assert_allclose(np.sort(res.orbits[0], axis=0), np.sort(expected, axis=0), atol=1e-10)
    assert tuple(res.orbits[0][0]) == min(tuple(x) for x in res.orbits[0])  # listed from its smallest point
    np.testing.assert_allclose(np.abs(res.multipliers[0]), [(s * d) ** 4] * 2, rtol=1e-8)
    assert res.stability == ["stable"]
    # The saddle cycle, by Levenberg-Marquardt from a perturbed orbit point.
    x, q = po.refine(p, cfg, np.zeros(1), np.array([r + 0.05, 0.03]), 4)
    assert q < 1e-24 and np.allclose(x, [r, 0], atol=1e-10)
    closed, M = po.monodromy(p, cfg, np.zeros(1), x, 4)
    vals, phase, kind, n_unstable = po.floquet(M, closed[1] - closed[0])
    np.testing.assert_allclose(np.abs(vals), [s ** 4, (s * d) ** 4], rtol=1e-8)
    assert (phase, kind, n_unstable) == (-1, "saddle", 1)


@pytest.mark.parametrize("case", ["two_cycle", "quarter_turn", "flow"])
def test_floquet_multipliers_against_finite_differences(case):
    W, alpha = {"two_cycle": (np.diag([-2.0, -0.5]), 1.0), "quarter_turn": (2 * rotation(np.pi / 2), 1.0),
                "flow": (2.5 * rotation(1.0), 0.2)}[case]
    p, cfg = network(W, alpha)
    res = po.find_cycles(p, cfg, np.zeros(1), seeds(2, n=8), max_steps=200, n_transient=500)
    assert len(res) >= 1
    for orbit in res.orbits:
        k = len(orbit)
        closed, M = po.monodromy(p, cfg, np.zeros(1), orbit[0], k)
        M_fd = fd_monodromy(p, cfg, orbit[0], k)
        np.testing.assert_allclose(M, M_fd, rtol=1e-6, atol=1e-8 * np.abs(M_fd).max())
        np.testing.assert_allclose(closed[1:], rnn_map(p, cfg, closed[:-1], np.zeros(1)), rtol=1e-14)


def test_flow_like_rotation_is_a_stable_near_cycle_with_a_phase_multiplier():
    # alpha = 0.2, W = 2.5 R(1): the origin is an unstable spiral (2.5 cos 1 > 1) and saturation bounds the
    # orbit, so the map has an attracting invariant closed curve turning by a non-integer number of steps.
    p, cfg = network(2.5 * rotation(1.0), alpha=0.2)
    res = po.find_cycles(p, cfg, np.zeros(1), seeds(2, n=16), max_steps=200, n_transient=1000)
    assert len(res) == 1  # one orbit, whatever the phase each seed arrived at
    # Reference period: the winding of a long trajectory around the origin (its centre by symmetry).
    traj = po.trajectory(p, cfg, np.zeros(1), np.array([[1.0, 0.0]]), 21000)[1000:, 0]
    angle = np.unwrap(np.arctan2(traj[:, 1], traj[:, 0]))
    period = 2 * np.pi * (len(angle) - 1) / abs(angle[-1] - angle[0])
    assert res.period_steps[0] == pytest.approx(period, rel=2e-3)
    assert abs(res.periods[0] - period) < 1
    mult, ph = res.multipliers[0], res.phase[0]
    assert ph >= 0 and abs(mult[ph] - 1) < 0.05  # drift along the orbit, left out of the class
    assert res.stability == ["stable"] and np.all(np.abs(np.delete(mult, ph)) < 1)
    if res.kind[0] == "near_cycle":  # the recorded orbit is on the attractor: it returns as closely as q says
        assert res.q[0] > 1e-12


def test_fixed_points_only_give_no_cycles_and_bad_input_names_the_argument():
    p, cfg = network(np.array([[0.5, -0.2], [0.3, 0.4]]), alpha=0.2)
    assert len(po.find_cycles(p, cfg, np.zeros(1), seeds(2), max_steps=50)) == 0
    a = po.Cycles(n=2).arrays()
    assert a["x"].shape == (0, 2) and a["orbit"].shape == (0, 2) and len(po.Cycles(n=2).table()) == 0
    with pytest.raises(ValueError, match="max_steps"):
        po.find_cycles(p, cfg, np.zeros(1), seeds(2), max_steps=1)
    with pytest.raises(ValueError, match="return_tol"):
        po.find_cycles(p, cfg, np.zeros(1), seeds(2), return_tol=0)
    with pytest.raises(ValueError, match="initial_states"):
        po.find_cycles(p, cfg, np.zeros(1), np.zeros((3, 5)))


def test_distance_to_an_orbit_polygon_by_hand():
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(po.distance_to_orbit([[0.5, -0.2], [0.5, 0.5], [2.0, 2.0], [0.0, 0.3]], square),
                               [0.2, 0.5, np.sqrt(2), 0.0])
    circle = np.array([[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 40, endpoint=False)])
    sagitta = 1 - np.cos(np.pi / 40)
    assert sagitta < po.orbit_tolerance(circle, 0.0) < 3 * sagitta

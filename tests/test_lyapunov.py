"""Lyapunov exponents against known maps (tent, logistic, Lozi, linear), fixed-point spectra and orbit separation."""

import numpy as np
import pytest

from altrnn.analysis.lyapunov import TABLE_COLUMNS, largest_lyapunov, lyapunov_exponents
from altrnn.analysis.stability import jacobian, rnn_map
from altrnn.model.network import ModelConfig, Params


def batch(f):
    """A scalar map's derivative as a batch of 1x1 Jacobians."""
    return lambda x: f(x)[:, :, None]


@pytest.mark.parametrize("p", [0.5, 0.3])
def test_skew_tent_map_entropy(p):
    # the uniform density is invariant, so lambda = -p ln p - (1-p) ln(1-p); p = 1/2 is the tent map, ln 2.
    # (the symmetric tent map collapses onto 0 in binary floating point but |f'| = 2 there too)
    step = lambda x: np.where(x < p, x / p, (1 - x) / (1 - p))  # noqa: E731
    slope = batch(lambda x: np.where(x < p, 1 / p, -1 / (1 - p)))
    x0 = np.random.default_rng(0).uniform(0, 1, (20, 1))
    res = lyapunov_exponents(step, slope, x0, n_steps=5000, n_transient=50, rng=1)
    expected = -p * np.log(p) - (1 - p) * np.log(1 - p)
    assert abs(res.largest.mean() - expected) < 0.005
    assert res.alpha == 1 and np.allclose(res.per_tau, res.largest)


def test_logistic_map_at_r4_is_ln2():
    x0 = np.random.default_rng(1).uniform(0.05, 0.95, (20, 1))
    res = lyapunov_exponents(lambda x: 4 * x * (1 - x), batch(lambda x: 4 - 8 * x), x0, 5000, 100, rng=2)
    assert abs(res.largest.mean() - np.log(2)) < 0.005
    # a periodic window instead: r = 3.2 has a stable 2-cycle, multiplier (4 + 2r - r^2)
    r = 3.2
    res = lyapunov_exponents(lambda x: r * x * (1 - x), batch(lambda x: r - 2 * r * x), x0, 400, 400, rng=2)
    np.testing.assert_allclose(res.largest, 0.5 * np.log(abs(4 + 2 * r - r * r)), atol=1e-2)


def lozi(a=1.7, b=0.5):
    step = lambda x: np.stack([1 - a * np.abs(x[:, 0]) + x[:, 1], b * x[:, 0]], axis=1)  # noqa: E731

    def jac(x):
        J = np.zeros((len(x), 2, 2))
        J[:, 0, 0], J[:, 0, 1], J[:, 1, 0] = -a * np.sign(x[:, 0]), 1.0, b
        return J
    return step, jac


def test_lozi_map_against_literature():
    # Sprott, Chaos and Time-Series Analysis (2003), appendix A: a = 1.7, b = 0.5 gives 0.4703, -1.1634
    step, jac = lozi()
    x0 = np.random.default_rng(3).uniform(-0.1, 0.1, (20, 2))
    res = lyapunov_exponents(step, jac, x0, n_steps=5000, n_transient=200, n_exponents=2, rng=4)
    assert abs(res.exponents[:, 0].mean() - 0.4703) < 0.003
    assert abs(res.exponents[:, 1].mean() - (-1.1634)) < 0.003
    # |det J| = b at every step, so the two exponents sum to ln b up to rounding on every trajectory
    np.testing.assert_allclose(res.exponents.sum(axis=1), np.log(0.5), atol=1e-12)
    # the largest alone (renormalisation, no QR) follows the same vector
    one = lyapunov_exponents(step, jac, x0, n_steps=5000, n_transient=200, rng=4)
    assert abs(one.largest.mean() - 0.4703) < 0.003


@pytest.mark.parametrize("complex_pair", [False, True])
def test_linear_map_spectrum_is_log_moduli(complex_pair):
    rng = np.random.default_rng(5)
    D = np.diag([1.3, -0.7, 0.4, 0.1])
    if complex_pair:  # leading pair 0.9 e^{+-i 0.8}
        D[:2, :2] = 0.9 * np.array([[np.cos(0.8), -np.sin(0.8)], [np.sin(0.8), np.cos(0.8)]])
    P = rng.standard_normal((4, 4))
    A = P @ D @ np.linalg.inv(P)  # non-normal
    moduli = np.sort(np.abs(np.linalg.eigvals(A)))[::-1]
    x0 = rng.standard_normal((3, 4))
    res = lyapunov_exponents(lambda x: x @ A.T, lambda x: np.broadcast_to(A, (len(x), 4, 4)), x0, 2000,
                             n_exponents=4 if not complex_pair else 1, rng=6)
    expected = np.log(moduli[: res.exponents.shape[1]])
    np.testing.assert_allclose(res.exponents, np.broadcast_to(expected, res.exponents.shape), atol=5e-3)
    np.testing.assert_allclose(res.largest, np.log(max(abs(np.linalg.eigvals(A)))), atol=5e-3)


def network(activation, N, g, seed, alpha=0.2, n_in=2):
    rng = np.random.default_rng(seed)
    cfg = ModelConfig(n_in=n_in, n_rec=N, n_out=1, activation=activation, alpha=alpha, dtype="float64")
    p = Params(W_in=rng.standard_normal((N, n_in)), W=g * rng.standard_normal((N, N)) / np.sqrt(N),
               b=0.1 * rng.standard_normal(N), W_out=np.zeros((1, N)), b_out=np.zeros(1))
    return p, cfg


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_network_at_a_stable_fixed_point(activation):
    # weak coupling: every trajectory converges to the one stable fixed point, lambda_1 = ln max |eig J(x*)|
    p, cfg = network(activation, N=10, g=0.5, seed=7)
    u = np.array([0.5, -1.0])
    x0 = np.random.default_rng(8).standard_normal((5, 10))
    res = largest_lyapunov(p, cfg, u, x0, n_steps=1500, n_transient=300, rng=9)
    x_star = res.final_states[0]
    np.testing.assert_allclose(rnn_map(p, cfg, x_star, u), x_star, atol=1e-10)
    expected = np.log(np.max(np.abs(np.linalg.eigvals(jacobian(p, cfg, x_star)))))
    np.testing.assert_allclose(res.largest, expected, atol=3e-3)
    np.testing.assert_allclose(res.per_tau, res.largest / 0.2)


def separation_exponent(p, cfg, u, x, n_steps, n_transient, eps=1e-7, seed=0):
    """Brute force without any Jacobian: a twin orbit eps away, pulled back to distance eps every step."""
    for _ in range(n_transient):
        x = rnn_map(p, cfg, x, u)
    d = np.random.default_rng(seed).standard_normal(x.shape)
    y = x + eps * d / np.linalg.norm(d, axis=-1, keepdims=True)
    total = 0.0
    for _ in range(n_steps):
        x, y = rnn_map(p, cfg, x, u), rnn_map(p, cfg, y, u)
        dist = np.linalg.norm(y - x, axis=-1, keepdims=True)
        total += np.log(dist / eps)
        y = x + (y - x) * (eps / dist)
    return total[..., 0] / n_steps


def tent_network(p):
    """A 2-unit ReLU network (a = 1) whose units are s and s - p for the skew tent map s -> T_p(s):
    T_p(s) = relu(s) / p - (1/p + 1/(1-p)) relu(s - p) on [0, 1]."""
    c = 1 / p + 1 / (1 - p)
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=1, activation="relu", alpha=1.0, dtype="float64")
    return Params(W_in=np.zeros((2, 1)), W=np.array([[1 / p, -c], [1 / p, -c]]), b=np.array([0.0, -p]),
                  W_out=np.zeros((1, 2)), b_out=np.zeros(1)), cfg


def test_relu_network_that_is_a_skew_tent_map():
    p = 0.3
    params, cfg = tent_network(p)
    s = np.random.default_rng(15).uniform(0, 1, 20)
    x0 = np.stack([s, s - p], axis=1)
    res = largest_lyapunov(params, cfg, np.zeros(1), x0, n_steps=5000, n_transient=50, rng=16)
    assert abs(res.largest.mean() - (-p * np.log(p) - (1 - p) * np.log(1 - p))) < 0.005
    np.testing.assert_allclose(res.final_states[:, 0] - res.final_states[:, 1], p, atol=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_chaotic_network_against_orbit_separation(activation):
    # the finite-difference twin orbit is a method independent of the Jacobian
    if activation == "tanh":
        p, cfg = network("tanh", N=20, g=4.0, seed=10, alpha=1.0)
        p.b[:] = 0
        u, x0 = np.zeros(2), np.random.default_rng(11).standard_normal((4, 20))
    else:
        p, cfg = tent_network(0.3)
        s = np.random.default_rng(11).uniform(0, 1, 4)
        u, x0 = np.zeros(1), np.stack([s, s - 0.3], axis=1)
    res = largest_lyapunov(p, cfg, u, x0, n_steps=1500, n_transient=200, rng=12)
    assert np.all(res.largest > 0.1)  # chaotic
    brute = separation_exponent(p, cfg, u, x0, 1500, 200)
    np.testing.assert_allclose(res.largest, brute, atol=0.01)
    # the same exponents from the generic routine with stability.jacobian (J formed explicitly)
    gen = lyapunov_exponents(lambda x: rnn_map(p, cfg, x, u), lambda x: np.array([jacobian(p, cfg, s) for s in x]),
                             x0, 1500, 200, rng=12)
    np.testing.assert_allclose(res.exponents, gen.exponents, atol=1e-9)


def test_all_units_silent_gives_minus_infinity():
    # a = 1 and every ReLU off: J = 0, perturbations vanish in one step
    p, cfg = network("relu", N=3, g=1.0, seed=0, alpha=1.0, n_in=1)
    p.W, p.b = -np.abs(p.W), -np.ones(3)
    res = largest_lyapunov(p, cfg, np.zeros(1), -np.ones(3), n_steps=10, n_exponents=2)
    assert np.all(res.exponents == -np.inf)


def test_inputs_per_step_leading_exponents_and_table():
    p, cfg = network("tanh", N=8, g=2.0, seed=13)
    x0 = np.random.default_rng(14).standard_normal((3, 8))
    u_const = np.array([0.3, 0.0])
    a = largest_lyapunov(p, cfg, u_const, x0, 200, 20, n_exponents=3, rng=1)
    b = largest_lyapunov(p, cfg, np.tile(u_const, (220, 1)), x0, 200, 20, n_exponents=3, rng=1)
    np.testing.assert_array_equal(a.exponents, b.exponents)
    assert np.all(np.diff(a.exponents, axis=1) <= 0)
    np.testing.assert_allclose(a.exponents.mean(axis=1),
                               (a.first_half.mean(axis=1) + a.second_half.mean(axis=1)) / 2)
    table = a.table()
    assert tuple(table.columns) == TABLE_COLUMNS and len(table) == 3
    s = a.summary()
    assert s["n"] == 3 and s["min"] <= s["median"] <= s["max"]


def test_bad_input_names_the_argument():
    p, cfg = network("relu", N=4, g=1.0, seed=0)
    with pytest.raises(ValueError, match="x0"):
        largest_lyapunov(p, cfg, np.zeros(2), np.zeros((3, 5)), 10)
    with pytest.raises(ValueError, match="u must"):
        largest_lyapunov(p, cfg, np.zeros((7, 2)), np.zeros(4), 10, 5)
    with pytest.raises(ValueError, match="n_steps"):
        largest_lyapunov(p, cfg, np.zeros(2), np.zeros(4), 1)
    with pytest.raises(ValueError, match="n_exponents"):
        largest_lyapunov(p, cfg, np.zeros(2), np.zeros(4), 10, n_exponents=5)

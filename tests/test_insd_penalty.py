"""Tests of the INSD penalty (values, exact gradients, invariances, gaming) and the similarity measures."""

from types import SimpleNamespace

import numpy as np
import pytest

from altrnn.analysis.similarity import linear_cka, linear_predictability
from altrnn.insd import (
    INSDPenalty,
    null_space_projector,
    null_space_rates,
    ridge_predictability,
    ridge_predictability_grad,
)

MODES = ("absolute", "relative")


def rel_err(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def central_fd(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x0 = x[i]
        x[i] = x0 + h
        fp = f(x)
        x[i] = x0 - h
        fm = f(x)
        x[i] = x0
        g[i] = (fp - fm) / (2 * h)
    return g


def orthogonal(rng, n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


# --- projector -------------------------------------------------------------------------------------

def test_null_space_projector():
    rng = np.random.default_rng(0)
    N, n_out = 7, 3
    W = rng.standard_normal((n_out, N))
    P = null_space_projector(W)
    assert P.shape == (N, N)
    np.testing.assert_allclose(P @ W.T, 0, atol=1e-12)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    np.testing.assert_allclose(P, P.T, atol=1e-14)
    assert np.linalg.matrix_rank(P) == N - n_out


def test_null_space_rates_centred_and_projected():
    rng = np.random.default_rng(1)
    r = rng.standard_normal((5, 4, 6)).astype(np.float32) + 3.0
    W = rng.standard_normal((2, 6))
    X = null_space_rates(r, W)
    assert X.shape == (20, 6) and X.dtype == np.float64
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X @ W.T, 0, atol=1e-10)


# --- ridge predictability --------------------------------------------------------------------------

def direct_S(X, Y, rho, mode):
    if mode == "relative":
        rho = rho * np.sum(X**2) / X.shape[1]
    H = X @ np.linalg.inv(X.T @ X + rho * np.eye(X.shape[1])) @ X.T  # explicit M x M hat matrix
    return np.sum((H @ Y) ** 2) / np.sum(Y**2)


@pytest.mark.parametrize("mode", MODES)
def test_ridge_predictability_matches_hat_matrix(mode):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 5))
    Y = X @ rng.standard_normal((5, 4)) + 0.5 * rng.standard_normal((30, 4))
    for rho in (1e-3, 0.3, 5.0):
        np.testing.assert_allclose(ridge_predictability(X, Y, rho, mode), direct_S(X, Y, rho, mode), rtol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_ridge_predictability_grad_fd(mode):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 5))
    Y = X[:, :3] @ rng.standard_normal((3, 4)) + rng.standard_normal((30, 4))
    rho = 0.5  # large enough that the rho terms of the gradient matter
    S, g = ridge_predictability_grad(X, Y, rho, mode)
    assert S == pytest.approx(ridge_predictability(X, Y, rho, mode), rel=1e-12)
    fd = central_fd(lambda x: ridge_predictability(x, Y, rho, mode), X.copy())
    assert rel_err(g, fd) < 1e-6


def test_input_checks():
    X = np.ones((10, 3)) + np.eye(10, 3)
    with pytest.raises(ValueError, match="same number of rows"):
        ridge_predictability(X, np.ones((9, 2)))
    with pytest.raises(ValueError, match="all zero"):
        ridge_predictability(X, np.zeros((10, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        ridge_predictability(X, X, rho=-1.0)
    with pytest.raises(ValueError, match="absolute, relative"):
        ridge_predictability(X, X, rho_mode="scaled")
    with pytest.raises(ValueError, match="absolute, relative"):
        INSDPenalty({"a": X}, lam=1.0, rho_mode="scaled")


def test_S_self_and_independent():
    rng = np.random.default_rng(4)
    M, N = 4000, 8
    X = rng.standard_normal((M, N))
    assert ridge_predictability(X, X, 1e-6) == pytest.approx(1.0, abs=1e-5)
    Y = rng.standard_normal((M, N))
    S = ridge_predictability(X, Y)
    assert S < 3 * N / M  # expected about N / M by chance


@pytest.mark.parametrize("mode", MODES)
def test_S_orthogonal_invariance(mode):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((200, 6))
    Y = X @ rng.standard_normal((6, 5)) + rng.standard_normal((200, 5))
    S = ridge_predictability(X, Y, 0.1, mode)
    assert ridge_predictability(X, Y @ orthogonal(rng, 5), 0.1, mode) == pytest.approx(S, rel=1e-10)
    assert ridge_predictability(X @ orthogonal(rng, 6), Y, 0.1, mode) == pytest.approx(S, rel=1e-10)


# --- the trainer's penalty callable ----------------------------------------------------------------

def test_insd_penalty_gradients_fd():
    rng = np.random.default_rng(6)
    T, B, N, n_out, lam, rho = 4, 3, 6, 2, 0.7, 0.2
    M = T * B
    earlier = {
        "a": null_space_rates(rng.standard_normal((T, B, 5)), rng.standard_normal((2, 5))),
        "b": null_space_rates(rng.standard_normal((T, B, 4)), rng.standard_normal((1, 4))),
    }
    # make the new rates partly predictive of "a" so the penalty is not trivially small
    rates = 0.5 * rng.standard_normal((T, B, N))
    rates[..., :5] += earlier["a"].reshape(T, B, 5)
    W_out = rng.standard_normal((n_out, N))
    pen = INSDPenalty(earlier, lam=lam, rho=rho, rho_mode="relative")

    def value(r, w):
        traj = SimpleNamespace(r=np.concatenate([np.zeros((1, B, N)), r]))
        return pen(traj, SimpleNamespace(W_out=w))[0]

    traj = SimpleNamespace(r=np.concatenate([rng.standard_normal((1, B, N)), rates]))
    v, dr, dW, parts = pen(traj, SimpleNamespace(W_out=W_out))
    assert dr.shape == (T, B, N) and dW.shape == (n_out, N)
    assert set(parts) == {"a", "b"} and all(isinstance(p, float) for p in parts.values())
    assert v == pytest.approx(sum(parts.values()))
    X = null_space_rates(rates, W_out)
    assert parts["a"] == pytest.approx(lam * ridge_predictability(X, earlier["a"], rho), rel=1e-12)
    assert X.shape[0] == M

    fd_r = central_fd(lambda r: value(r, W_out), rates.copy())
    fd_W = central_fd(lambda w: value(rates, w), W_out.copy())
    assert rel_err(dr, fd_r) < 1e-6
    assert rel_err(dW, fd_W) < 1e-6


def test_insd_penalty_dtypes_and_row_check():
    rng = np.random.default_rng(7)
    T, B, N = 5, 2, 4
    Y = rng.standard_normal((T * B, 3))
    traj = SimpleNamespace(r=rng.standard_normal((T + 1, B, N)).astype(np.float32))
    params = SimpleNamespace(W_out=rng.standard_normal((1, N)).astype(np.float32))
    v, dr, dW, _ = INSDPenalty({"a": Y}, lam=1.0)(traj, params)
    assert isinstance(v, float) and dr.dtype == np.float32 and dW.dtype == np.float32
    with pytest.raises(ValueError, match="rows"):
        INSDPenalty({"a": Y[:-1]}, lam=1.0)(traj, params)
    with pytest.raises(ValueError, match="columns"):
        INSDPenalty({"a": Y}, lam=1.0)(traj, SimpleNamespace(W_out=np.ones((1, N + 1))))
    with pytest.raises(ValueError, match="all zero"):
        INSDPenalty({"a": 0 * Y}, lam=1.0)


# --- gaming: padding a copy with noise units -------------------------------------------------------

def test_gamed_copy_fools_cka_but_not_S():
    rng = np.random.default_rng(8)
    M, N, rank = 3000, 10, 3
    t = np.linspace(0, 1, M)[:, None]
    signals = np.sin(2 * np.pi * t * rng.uniform(1, 4, rank) + rng.uniform(0, 2 * np.pi, rank))
    Y = signals @ rng.standard_normal((rank, N)) + 0.05 * rng.standard_normal((M, N))
    Y -= Y.mean(axis=0)
    noise = 5.0 * rng.standard_normal((M, 4 * N))
    X = np.hstack([Y, noise - noise.mean(axis=0)])

    assert linear_cka(Y, Y) == pytest.approx(1.0)
    cka_gamed = linear_cka(X, Y)
    assert cka_gamed < 0.3  # the symmetric metric is fooled by the noise units

    S_self = ridge_predictability(Y, Y)
    S_gamed = ridge_predictability(X, Y)
    assert S_gamed > 0.9 and abs(S_gamed - S_self) < 0.05  # the copy still predicts ref fully


# --- similarity measures ---------------------------------------------------------------------------

def test_linear_predictability():
    rng = np.random.default_rng(9)
    M, N = 2000, 5
    X = rng.standard_normal((2 * M, N)) + 2.0
    A = rng.standard_normal((N, 4))
    Y = X @ A
    r2 = linear_predictability(X[:M], Y[:M], X[M:], Y[M:], rho=1e-8)
    assert r2 == pytest.approx(1.0, abs=1e-6)
    Yi = rng.standard_normal((2 * M, 4))
    assert linear_predictability(X[:M], Yi[:M], X[M:], Yi[M:]) <= 0.1
    with pytest.raises(ValueError, match="same number of rows"):
        linear_predictability(X[:M], Y[:M - 1], X[M:], Y[M:])
    with pytest.raises(ValueError, match="non-finite"):
        linear_predictability(X[:M], Y[:M], X[M:] * np.nan, Y[M:])


def test_linear_cka_invariances():
    rng = np.random.default_rng(10)
    M = 500
    X = rng.standard_normal((M, 6))
    Y = X[:, :4] @ rng.standard_normal((4, 5)) + rng.standard_normal((M, 5))
    c = linear_cka(X, Y)
    assert 0.0 <= c <= 1.0
    assert linear_cka(X, X) == pytest.approx(1.0)
    assert linear_cka(Y, X) == pytest.approx(c, rel=1e-12)
    assert linear_cka(X @ orthogonal(rng, 6), Y) == pytest.approx(c, rel=1e-10)
    assert linear_cka(X, Y @ orthogonal(rng, 5)) == pytest.approx(c, rel=1e-10)
    assert linear_cka(3.7 * X, 0.2 * Y) == pytest.approx(c, rel=1e-10)
    with pytest.raises(ValueError, match="2-D"):
        linear_cka(X[:, 0], Y)


# --- the implicit projection (readouts) against the old, explicit formula ---------------------------

def old_formula(rates, W_out, targets, lam, rho, mode):
    """The penalty as the first implementation computed it: every M-row matrix formed explicitly."""
    R = rates.reshape(-1, rates.shape[-1])
    P = null_space_projector(W_out)
    B = np.linalg.solve(W_out @ W_out.T, W_out)
    Rc = R - R.mean(axis=0)
    X = Rc @ P
    value, G = 0.0, np.zeros_like(X)
    for Y in targets:
        S, g = ridge_predictability_grad(X, Y, rho, mode)
        value += lam * S
        G += lam * g
    GP = G @ P
    H = Rc.T @ G
    return value, (GP - GP.mean(axis=0)).reshape(rates.shape), -B @ (H + H.T) @ P


def tanh_rates(rng, shape, shift):
    return np.tanh(rng.standard_normal(shape) + shift)  # not centred, like a network's rates


@pytest.mark.parametrize("mode", MODES)
def test_insd_penalty_readouts_match_old_formula(mode):
    rng = np.random.default_rng(11)
    T, B, N, lam, rho = 30, 8, 12, 0.7, 0.05
    raw = {"a": tanh_rates(rng, (T, B, 12), 0.4), "b": tanh_rates(rng, (T, B, 9), -0.3)}
    readouts = {"a": rng.standard_normal((3, 12)), "b": rng.standard_normal((2, 9))}
    rates = tanh_rates(rng, (T + 1, B, N), 0.5)
    rates[1:, :, :9] += 0.8 * raw["b"]  # partly predictive of "b"
    W_out = rng.standard_normal((3, N))
    targets = [null_space_rates(raw[k], readouts[k]) for k in raw]
    v0, dr0, dW0 = old_formula(rates[1:], W_out, targets, lam, rho, mode)
    assert v0 > 0.05  # large enough that a wrong term would show
    for pen in (INSDPenalty(raw, lam, rho, mode, readouts=readouts),
                INSDPenalty(dict(zip(raw, targets)), lam, rho, mode)):
        v, dr, dW, parts = pen(SimpleNamespace(r=rates), SimpleNamespace(W_out=W_out))
        assert v == pytest.approx(v0, rel=1e-12) and sum(parts.values()) == pytest.approx(v, rel=1e-14)
        assert rel_err(dr, dr0) < 1e-12 and rel_err(dW, dW0) < 1e-12


def test_insd_penalty_readouts_gradients_fd():
    rng = np.random.default_rng(12)
    T, B, N, lam, rho = 4, 3, 6, 0.7, 0.2
    raw = {"a": tanh_rates(rng, (T, B, 5), 0.3), "b": tanh_rates(rng, (T, B, 4), 0.0)}
    readouts = {"a": rng.standard_normal((2, 5)), "b": rng.standard_normal((1, 4))}
    pen = INSDPenalty(raw, lam=lam, rho=rho, rho_mode="relative", readouts=readouts)
    rates = tanh_rates(rng, (T, B, N), 0.2)
    rates[..., :5] += raw["a"]
    W_out = rng.standard_normal((2, N))

    def value(r, w):
        return pen(SimpleNamespace(r=np.concatenate([np.zeros((1, B, N)), r])), SimpleNamespace(W_out=w))[0]

    _, dr, dW, _ = pen(SimpleNamespace(r=np.concatenate([np.ones((1, B, N)), rates])), SimpleNamespace(W_out=W_out))
    assert rel_err(dr, central_fd(lambda r: value(r, W_out), rates.copy())) < 1e-6
    assert rel_err(dW, central_fd(lambda w: value(rates, w), W_out.copy())) < 1e-6


def test_insd_penalty_float32_rates_computed_in_float64():
    rng = np.random.default_rng(13)
    T, B, N = 20, 6, 8
    raw = {"a": tanh_rates(rng, (T, B, N), 0.3).astype(np.float32)}
    readouts = {"a": rng.standard_normal((2, N)).astype(np.float32)}
    rates = tanh_rates(rng, (T + 1, B, N), 0.3).astype(np.float32)
    rates[1:] += 0.5 * raw["a"]
    W_out = rng.standard_normal((2, N)).astype(np.float32)
    v, dr, dW, _ = INSDPenalty(raw, 0.5, 1e-3, readouts=readouts)(SimpleNamespace(r=rates), SimpleNamespace(W_out=W_out))
    assert dr.dtype == np.float32 and dW.dtype == np.float32
    # the float32 inputs are exact in float64: only float32 rounding (dL/dR's products, the results) differs
    v0, dr0, dW0 = old_formula(rates[1:].astype(np.float64), W_out.astype(np.float64),
                               [null_space_rates(raw["a"], readouts["a"])], 0.5, 1e-3, "relative")
    assert v == pytest.approx(v0, rel=1e-12)
    assert rel_err(dr, dr0) < 1e-6 and rel_err(dW, dW0) < 1e-6


def test_earlier_rates_stored_centred_with_null_space_norms():
    rng = np.random.default_rng(14)
    Y, W = tanh_rates(rng, (50, 3), -0.2).astype(np.float32), rng.standard_normal((1, 3))
    pen = INSDPenalty({"y": Y, "z": 2 * Y}, lam=1.0, readouts={"y": W})
    Yc = Y - Y.mean(axis=0, dtype=np.float64)
    assert pen.Ye.shape == (50, 6) and pen.Ye.dtype == np.float64
    np.testing.assert_allclose(pen.Ye, np.hstack([Yc, 2 * Yc]), rtol=0, atol=1e-14)
    assert pen.Ye32.dtype == np.float32 and np.array_equal(pen.Ye32, pen.Ye.astype(np.float32))
    assert pen.norms[0] == pytest.approx(np.sum(null_space_rates(Y, W) ** 2), rel=1e-12)
    assert pen.norms[1] == pytest.approx(np.sum((2 * Yc) ** 2), rel=1e-12)
    Y[:] = 0  # the penalty keeps its own copy
    assert np.any(pen.Ye)
    with pytest.raises(ValueError, match="rows"):
        INSDPenalty({"y": Y, "z": Y[:-1]}, lam=1.0)
    with pytest.raises(ValueError, match="constant"):
        INSDPenalty({"y": 0 * Y + 0.5}, lam=1.0)


def test_float32_rates_back_product_in_float32():
    """For float32 rates dL/dR comes from float32 products: within float32 rounding of the float64 result."""
    rng = np.random.default_rng(15)
    T, B, N = 40, 16, 24
    raw = {"a": tanh_rates(rng, (T, B, N), 0.3).astype(np.float32),
           "b": tanh_rates(rng, (T, B, 20), -0.1).astype(np.float32)}
    readouts = {"a": rng.standard_normal((3, N)), "b": rng.standard_normal((2, 20))}
    rates = tanh_rates(rng, (T + 1, B, N), 0.2).astype(np.float32)
    rates[1:, :, :20] += 0.7 * raw["b"]
    W_out = rng.standard_normal((3, N)).astype(np.float32)
    pen = INSDPenalty(raw, 0.5, 1e-3, readouts=readouts)
    v32, dr32, dW32, _ = pen(SimpleNamespace(r=rates), SimpleNamespace(W_out=W_out))
    v64, dr64, dW64, _ = pen(SimpleNamespace(r=rates.astype(np.float64)), SimpleNamespace(W_out=W_out.astype(np.float64)))
    assert dr32.dtype == np.float32 and dr64.dtype == np.float64
    assert v32 == v64  # the value and the Gram matrices come from the same exact float64 operands
    assert np.array_equal(dW32, dW64.astype(np.float32))
    err = rel_err(dr32.astype(np.float64), dr64)
    assert 0 < err < 2e-6  # float32 rounding of the products, nothing else


def test_workspace_reuse_gives_the_same_results():
    from altrnn.model import Workspace

    rng = np.random.default_rng(16)
    T, B, N = 10, 4, 6
    ws = Workspace()
    raw = [{"a": tanh_rates(rng, (T, B, N), 0.1).astype(np.float32)} for _ in range(2)]
    rates = [tanh_rates(rng, (T + 1, B, N), 0.2).astype(np.float32) for _ in range(2)]
    W_out = rng.standard_normal((2, N)).astype(np.float32)
    for k in range(2):  # the second penalty overwrites the first one's arrays
        fresh = INSDPenalty(raw[k], 1.0)(SimpleNamespace(r=rates[k]), SimpleNamespace(W_out=W_out))
        reused = INSDPenalty(raw[k], 1.0, workspace=ws)(SimpleNamespace(r=rates[k]), SimpleNamespace(W_out=W_out))
        assert reused[0] == fresh[0] and np.array_equal(reused[1], fresh[1]) and np.array_equal(reused[2], fresh[2])

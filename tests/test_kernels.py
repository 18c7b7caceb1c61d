"""Kernel pieces checked against numpy: fast tanh (float32 and float64), matmul, sum of squares."""

import numpy as np
from numba import njit

from altrnn.model import PARAM_NAMES, ModelConfig, forward, init_params, kernels
from altrnn.train.objective import loss_and_grad


@njit  # no cache: it must follow changes to kernels.py
def _tanh_all(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = kernels.tanh_fast(x[i])
    return out


def test_fast_tanh_float32_is_as_accurate_as_float32_allows():
    x = np.linspace(-12, 12, 2_000_001).astype(np.float32)
    x = np.concatenate([x, np.float32([0.0, 1e-30, -1e-30, 9.0, -9.0, np.inf, -np.inf])])
    approx = _tanh_all(x)
    exact = np.tanh(x.astype(np.float64))
    assert approx.dtype == np.float32
    nonzero = exact != 0
    rel = np.abs(approx[nonzero] - exact[nonzero]) / np.abs(exact[nonzero])
    assert rel.max() < 4 * np.finfo(np.float32).eps  # a few float32 rounding errors
    assert np.all(approx[~nonzero] == 0)
    assert np.all(np.abs(approx) <= 1)


def test_tanh_float64_is_libm_tanh():
    x = np.linspace(-5, 5, 1001)
    np.testing.assert_allclose(_tanh_all(x), np.tanh(x), rtol=4 * np.finfo(np.float64).eps, atol=0)


@njit
def _tanh_vec_all(x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = kernels.tanh_vec(x[i])
    return out


def ulp_distance(a, b):
    """How many float64 steps apart a and b are (+0 and -0 count as equal)."""
    ia, ib = a.view(np.int64), b.view(np.int64)
    ia = np.where(ia < 0, np.int64(-2**63) - ia, ia)  # monotone map of the bits onto the integers
    ib = np.where(ib < 0, np.int64(-2**63) - ib, ib)
    return np.abs(ia - ib)


def test_ulp_distance():
    x = np.array([1.0, 1.0, 0.0, -0.0, -1e-300])
    y = np.array([1.0, np.nextafter(np.nextafter(1.0, 2), 2), -0.0, 5e-324, -1e-300])
    assert ulp_distance(x, y).tolist() == [0, 2, 0, 1, 0]


def test_tanh_vec_within_3_ulp_of_np_tanh_and_2_of_long_double():
    k = np.arange(60)
    switches = np.concatenate([(k + 0.5) * np.log(2) / 2, [1e-8, 19.06, 19.1, 20.0]])  # k changes; tiny; +-1; clamp
    near = (switches[:, None] * (1 + np.linspace(-1e-6, 1e-6, 2001))).ravel()
    tiny = np.logspace(-300, -8, 1_000_001)
    x = np.concatenate([np.linspace(-25, 25, 10_000_001), tiny, -tiny, near, -near, [5e-324, 2.2e-308, 1e300]])
    y = _tanh_vec_all(x)
    err = ulp_distance(y, np.tanh(x))
    assert err.max() <= 3, (err.max(), x[err.argmax()])
    if np.finfo(np.longdouble).nmant >= 63:  # x87 extended: tanh rounded once more is (nearly) exact
        err = ulp_distance(y, np.tanh(x.astype(np.longdouble)).astype(np.float64))
        assert err.max() <= 2, (err.max(), x[err.argmax()])
    assert np.all(err[np.abs(x) < 1e-8] == 0)  # tanh x = x there, as np.tanh gives
    assert np.all(_tanh_vec_all(np.array([19.1, 25.0, 1e300, np.inf])) == 1.0)


def test_tanh_vec_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan])
    y = _tanh_vec_all(x)
    assert y[:4].tolist() == [0.0, 0.0, 1.0, -1.0]
    assert np.signbit(y[:4]).tolist() == [False, True, False, True]
    assert np.all(np.isnan(y[4:]))


def test_fast_tanh_applies_to_float64_tanh_only():
    rng = np.random.default_rng(1)
    u = rng.standard_normal((30, 8, 2))
    runs = {}
    for dtype in ("float32", "float64"):
        for fast in (False, True):
            cfg = ModelConfig(2, 40, 1, dtype=dtype, fast_tanh=fast, alpha=0.5)
            params = init_params(cfg, 1.5, np.random.default_rng(0))
            runs[dtype, fast] = forward(params, cfg, u).r
    assert np.array_equal(runs["float32", False], runs["float32", True])
    exact, fast = runs["float64", False], runs["float64", True]
    assert not np.array_equal(exact, fast)  # the option takes effect ...
    np.testing.assert_allclose(fast, exact, rtol=0, atol=1e-12)  # ... at the rounding level
    cfg = ModelConfig(2, 40, 1, dtype="float64", fast_tanh=True, alpha=0.5)
    traj = forward(params, cfg, u)
    assert np.all(ulp_distance(traj.r[1:], np.tanh(traj.x[1:])) <= 3)


def test_fast_tanh_gradients_match_exact_tanh():
    """BPTT with fast_tanh against libm tanh (whose gradients test_gradients checks by finite differences)."""
    rng = np.random.default_rng(2)
    u, target = rng.standard_normal((25, 4, 3)), rng.standard_normal((25, 4, 2))
    noise = rng.standard_normal((25, 4, 30))
    grads = {}
    for fast in (False, True):
        cfg = ModelConfig(3, 30, 2, dtype="float64", fast_tanh=fast, sigma_rec=0.1)
        params = init_params(cfg, 1.5, np.random.default_rng(0))
        grads[fast] = loss_and_grad(params, cfg, u, target, np.ones_like(target), noise)[1]
    for name in PARAM_NAMES:
        exact, fast = getattr(grads[False], name), getattr(grads[True], name)
        assert not np.array_equal(exact, fast) or name == "b_out"
        np.testing.assert_allclose(fast, exact, rtol=0, atol=1e-12 * np.abs(exact).max())


def test_matmul_and_sum_squares_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 7)).astype(np.float32)
    b = rng.standard_normal((9, 7)).astype(np.float32)
    np.testing.assert_allclose(kernels.matmul(a, b.T), a @ b.T, rtol=1e-5)
    np.testing.assert_allclose(kernels.matmul(a.T, a), a.T @ a, rtol=1e-5)
    assert np.isclose(kernels.sum_squares(a), np.sum(a.astype(np.float64) ** 2), rtol=1e-12)

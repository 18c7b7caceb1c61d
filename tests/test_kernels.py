"""Kernel pieces checked against numpy: fast tanh, matmul, sum of squares."""

import numpy as np
from numba import njit

from altrnn.model import kernels


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


def test_matmul_and_sum_squares_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 7)).astype(np.float32)
    b = rng.standard_normal((9, 7)).astype(np.float32)
    np.testing.assert_allclose(kernels.matmul(a, b.T), a @ b.T, rtol=1e-5)
    np.testing.assert_allclose(kernels.matmul(a.T, a), a.T @ a, rtol=1e-5)
    assert np.isclose(kernels.sum_squares(a), np.sum(a.astype(np.float64) ** 2), rtol=1e-12)

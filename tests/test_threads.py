"""Training results do not depend on the thread count: the time loops' blocks of trials, BLAS limits, gradients."""

from contextlib import contextmanager

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from altrnn.model import PARAM_NAMES, ModelConfig, init_params, kernels, recurrent_noise
from altrnn.model.network import blas_rows_agree, time_loop_blocks
from altrnn.tasks import make_task
from altrnn.train.objective import loss_and_grad

two_threads = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="numba runs one thread here")


@contextmanager
def threads(k):
    before = numba.get_num_threads()
    numba.set_num_threads(k)
    try:
        with threadpool_limits(limits=k, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(before)


def test_row_bounds():
    assert kernels.row_bounds(64, 2).tolist() == [0, 32, 64]
    assert kernels.row_bounds(40, 2).tolist() == [0, 32, 40]
    assert kernels.row_bounds(100, 3).tolist() == [0, 48, 96, 100]
    assert kernels.row_bounds(5, 1).tolist() == [0, 5]


@two_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocks_follow_the_threads_and_keep_16_trials(dtype):
    """Two threads: two blocks where the BLAS gives blocks of rows the whole product's bits, else one."""
    with threads(1):
        assert time_loop_blocks(64, 64, dtype) == 1
    with threads(2):
        assert time_loop_blocks(64, 64, dtype) == (2 if blas_rows_agree(64, 64, dtype, 2) else 1)
        assert time_loop_blocks(31, 64, dtype) == 1
        assert time_loop_blocks(33, 64, dtype) == 1  # 32 + 1: the second block would be one trial


def numpy_forward_backward(W, W_in, b, W_out, u, noise, s, a, dy):
    """The tanh recurrence and BPTT written plainly in float64: states, and dL/dW_in, dL/dW_out."""
    T, B, _ = u.shape
    N = W.shape[0]
    x = np.zeros((T + 1, B, N))
    r = np.zeros((T + 1, B, N))
    for t in range(T):
        x[t + 1] = (1 - a) * x[t] + a * (r[t] @ W.T + u[t] @ W_in.T + b) + s * noise[t]
        r[t + 1] = np.tanh(x[t + 1])
    dW_in, dW_out, dx = np.zeros_like(W_in), np.zeros_like(W_out), np.zeros((B, N))
    for t in range(T, 0, -1):
        dW_out += dy[t - 1].T @ r[t]
        dr = dy[t - 1] @ W_out + a * dx @ W
        dx = dr * (1 - r[t] ** 2) + (1 - a) * dx
        dW_in += a * dx.T @ u[t - 1]
    return x, dW_in, dW_out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocks_of_trials_give_the_same_bits_as_one_and_match_numpy(dtype):
    rng = np.random.default_rng(3)
    T, B, N, n_in, n_out, a, s = 20, 48, 40, 3, 2, 0.2, 0.1
    W = (rng.standard_normal((N, N)) * 1.5 / np.sqrt(N)).astype(dtype)
    W_in, W_out = rng.standard_normal((N, n_in)).astype(dtype), rng.standard_normal((n_out, N)).astype(dtype)
    b = (0.3 * rng.standard_normal(N)).astype(dtype)
    u, noise = rng.standard_normal((T, B, n_in)).astype(dtype), rng.standard_normal((T, B, N)).astype(dtype)
    dy = rng.standard_normal((T, B, n_out)).astype(dtype)
    results = []
    # blocks of trials give the same bits where the BLAS gives blocks of rows the same bits (time_loop_blocks
    # runs one block elsewhere); the numpy reference below checks every block count
    same_bits = [blocks for blocks in (1, 2, 3) if blas_rows_agree(B, N, dtype, blocks)]
    with threads(2 if numba.config.NUMBA_NUM_THREADS >= 2 else 1), threadpool_limits(limits=1, user_api="blas"):
        for blocks in (1, 2, 3):
            x, r = np.zeros((T + 1, B, N), dtype), np.zeros((T + 1, B, N), dtype)
            kernels.forward_loop(np.ascontiguousarray(W.T), np.ascontiguousarray(W_in.T), b, u, noise, s, a,
                                 kernels.TANH, x, r, blocks)
            delta, dW_in_T, dW_out = np.empty((T, B, N), dtype), np.zeros((n_in, N), dtype), np.zeros_like(W_out)
            kernels.backward_loop(W, W_out, x, r, u, dy, np.empty((0, B, N), dtype), a, kernels.TANH, delta,
                                  dW_in_T, dW_out, blocks)
            results.append((x, delta, dW_in_T, dW_out))
    for blocks in same_bits[1:]:
        for one, more in zip(results[0], results[blocks - 1]):
            assert one.tobytes() == more.tobytes(), blocks
    x_ref, dW_in_ref, dW_out_ref = numpy_forward_backward(*(v.astype(np.float64) for v in (W, W_in, b, W_out, u, noise)),
                                                          s, a, dy.astype(np.float64))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for x, _, dW_in_T, dW_out in results:
        np.testing.assert_allclose(x, x_ref, rtol=tol, atol=tol)
        np.testing.assert_allclose(dW_in_T.T, dW_in_ref, rtol=tol, atol=tol * np.abs(dW_in_ref).max())
        np.testing.assert_allclose(dW_out, dW_out_ref, rtol=tol, atol=tol * np.abs(dW_out_ref).max())


@two_threads
@pytest.mark.parametrize("dtype,activation,N,B,T,sigma", [
    ("float32", "tanh", 64, 64, 40, 0.05),  # two blocks of 32 trials where the BLAS allows (blas_rows_agree)
    ("float64", "relu", 48, 40, 30, 0.0),  # blocks of 32 and 8 trials would be too small: one block
    ("float32", "alrnn", 64, 64, 30, 0.05),
    ("float64", "tanh", 50, 33, 40, 0.05),  # OpenBLAS's threaded dW product differs here: done on one thread
])
def test_training_gradients_bitwise_the_same_on_one_and_two_threads(dtype, activation, N, B, T, sigma):
    task = make_task("flipflop", {"T": T})
    cfg = ModelConfig(task.n_in, N, task.n_out, dtype=dtype, activation=activation, sigma_rec=sigma,
                      n_relu=N // 2 if activation == "alrnn" else None)
    grads = []
    for k in (1, 2):
        rng = np.random.default_rng(11)
        params = init_params(cfg, 0.9, rng)
        batch = task.batch(B, rng)
        with threads(k):
            noise = recurrent_noise(cfg, (T, B, N), rng)
            terms, g, _ = loss_and_grad(params, cfg, batch.inputs, batch.targets, batch.mask, noise, rate_l2=0.01)
        grads.append((terms.total, g))
    assert grads[0][0] == grads[1][0]
    for name in PARAM_NAMES:
        assert getattr(grads[0][1], name).tobytes() == getattr(grads[1][1], name).tobytes(), name

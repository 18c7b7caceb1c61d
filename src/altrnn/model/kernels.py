"""Numba kernels of the leaky RNN: the time loops of the forward pass and of BPTT.

Only the sequential part lives here. The caller does the two products that
span all time steps (readout, recurrent weight gradient) with `matmul` below,
through the same BLAS.

Update, with rows as trials (B x N blocks):

    x[t+1] = (1 - a) x[t] + a (r[t] @ W.T + u[t] @ W_in.T + b) + s eta[t],   r = phi(x)

with eta the standard-normal noise and s = sqrt(2a) sigma_rec. Per step, the
one large product (r[t] @ W.T) goes to BLAS; everything else, including the
products with the few input and output channels, is fused into the loops.
"""

import numpy as np
from numba import njit, types
from numba.extending import overload

TANH = 0
RELU = 1
ACTIVATIONS = {"tanh": TANH, "relu": RELU}

# tanh(x) ~ x P(x^2) / Q(x^2) on |x| <= 9, fitted (relative minimax by
# iteratively reweighted least squares) so that its relative error is 2e-8 in
# exact arithmetic and a few float32 ulp in float32; beyond 9, tanh rounds to
# +-1 in float32. Q has positive coefficients, so no poles. Unlike numba's
# scalar np.tanh, this vectorises.
_P = (0.9999999794501062, 0.133810280743189, 0.0034955913332264635,
      2.0609149623478963e-05, 1.3354785083352638e-08)
_Q = (1.0, 0.467143436662229, 0.025876993551520126,
      0.00032856406680009637, 7.776602321436787e-07)


def tanh_fast(v):
    """tanh: a vectorisable rational approximation in float32, exact np.tanh in float64."""
    return np.tanh(v)


@overload(tanh_fast, jit_options={"cache": True})
def _tanh_fast_impl(v):
    if v == types.float32:
        p0, p1, p2, p3, p4 = (np.float32(c) for c in _P)
        q1, q2, q3, q4 = (np.float32(c) for c in _Q[1:])
        lim = np.float32(9.0)
        one = np.float32(1.0)

        def impl(v):
            x = min(max(v, -lim), lim)
            s = x * x
            num = x * (p0 + s * (p1 + s * (p2 + s * (p3 + s * p4))))
            den = np.float32(1.0) + s * (q1 + s * (q2 + s * (q3 + s * q4)))
            return min(max(num / den, -one), one)  # rounding may overshoot 1 by an ulp

        return impl
    return lambda v: np.tanh(v)


@njit(cache=True, error_model="numpy")
def forward_loop(W_T, W_in_T, b, u, noise, noise_scale, alpha, act, x, r):
    """Run the recurrence in place.

    W_T (N, N) and W_in_T (n_in, N) are the transposed recurrent and input
    matrices, u (T, B, n_in) the inputs, noise (T, B, N) or empty (T = 0) for
    none; x and r (T+1, B, N) hold states and rates, x[0], r[0] being the
    initial condition (read, not written). The input drive is summed in the
    same pass as the update: with few inputs that beats a separate product.
    """
    T, B, n_in = u.shape
    N = W_T.shape[0]
    noisy = noise.shape[0] > 0
    s = x.dtype.type(noise_scale)
    h = np.empty((B, N), dtype=x.dtype)
    a = x.dtype.type(alpha)  # keep float32 arithmetic in float32
    zero = x.dtype.type(0.0)
    keep = x.dtype.type(1.0) - a
    for t in range(T):
        np.dot(r[t], W_T, h)
        xt, xn, rn, ut = x[t], x[t + 1], r[t + 1], u[t]
        for i in range(B):
            row = xn[i]
            for j in range(N):
                row[j] = h[i, j] + b[j]
            for k in range(n_in):
                uk = ut[i, k]
                for j in range(N):
                    row[j] += uk * W_in_T[k, j]
            for j in range(N):
                row[j] = keep * xt[i, j] + a * row[j]
        if noisy:
            et = noise[t]
            for i in range(B):
                for j in range(N):
                    xn[i, j] += s * et[i, j]
        if act == TANH:
            for i in range(B):
                for j in range(N):
                    rn[i, j] = tanh_fast(xn[i, j])
        else:
            for i in range(B):
                for j in range(N):
                    rn[i, j] = max(xn[i, j], zero)
    return x, r


@njit(cache=True, error_model="numpy")
def backward_loop(W, W_out, x, r, u, dy, dr, alpha, act, delta, dW_in_T, dW_out):
    """Backpropagate through time in place.

    dy (T, B, n_out) is dL/dy, dr (T, B, N) a direct dL/dr[1..T] or empty
    (T = 0). Writes delta[t-1] = dL/dx[t] for t = 1..T, and accumulates the
    gradients of the small matrices (dW_in_T (n_in, N), dW_out (n_out, N)) in
    the same pass; the caller forms dW from delta with one matrix product.
    """
    T, B, n_out = dy.shape
    N = W.shape[0]
    n_in = u.shape[2]
    direct = dr.shape[0] > 0
    g = np.empty((B, N), dtype=x.dtype)
    zero = x.dtype.type(0.0)
    one = x.dtype.type(1.0)
    a = x.dtype.type(alpha)
    keep = one - a
    for t in range(T, 0, -1):
        if t < T:
            np.dot(delta[t], W, g)  # dL/dr[t] through x[t+1], before the factor a
            for i in range(B):
                for j in range(N):
                    g[i, j] *= a
        else:
            g[:, :] = zero
        if direct:
            g += dr[t - 1]
        rt, dyt = r[t], dy[t - 1]
        for i in range(B):
            for o in range(n_out):
                c = dyt[i, o]
                for j in range(N):
                    g[i, j] += c * W_out[o, j]
                    dW_out[o, j] += c * rt[i, j]
        d = delta[t - 1]
        if act == TANH:
            for i in range(B):
                for j in range(N):
                    d[i, j] = g[i, j] * (one - rt[i, j] * rt[i, j])
        else:
            xt = x[t]
            for i in range(B):
                for j in range(N):
                    d[i, j] = g[i, j] if xt[i, j] > zero else zero
        if t < T:
            dn = delta[t]
            for i in range(B):
                for j in range(N):
                    d[i, j] += keep * dn[i, j]
        ut = u[t - 1]
        for i in range(B):
            for k in range(n_in):
                c = a * ut[i, k]
                for j in range(N):
                    dW_in_T[k, j] += c * d[i, j]
    return delta


@njit(cache=True)
def matmul(a, b):
    """a @ b for 2-D arrays (C or Fortran order) through the BLAS numba links to.

    All matrix products of training go through here, so that only one BLAS (and
    one thread pool) is active: numpy's and scipy's bundled OpenBLAS builds
    otherwise take turns spinning on the same cores.
    """
    return np.dot(a, b)


@njit(cache=True)
def sum_products(a, b):
    """sum(a * b) accumulated in float64 (for a 0/1 mask, bitwise equal to sum_squares of the masked error)."""
    total = 0.0
    bf = b.ravel()
    for i, v in enumerate(a.ravel()):
        total += np.float64(v) * bf[i]
    return total


@njit(cache=True)
def sum_squares(a):
    """sum(a**2) accumulated in float64, without numpy's BLAS (see matmul)."""
    total = 0.0
    for v in a.ravel():
        total += np.float64(v) * v
    return total


def cache_summary() -> str:
    """How many specialisations of the time-loop kernels this process loaded from the numba cache or compiled."""
    hits = misses = 0
    for kernel in (forward_loop, backward_loop):
        hits += sum(kernel.stats.cache_hits.values())
        misses += sum(kernel.stats.cache_misses.values())
    return f"numba kernels: {hits} loaded from cache, {misses} compiled"

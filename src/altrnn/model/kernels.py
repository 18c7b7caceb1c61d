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

import math

import numba
import numpy as np
from llvmlite import ir
from numba import literal_unroll, njit, prange, types
from numba.extending import intrinsic, overload

TANH = 0
RELU = 1
TANH_VEC = 2  # tanh by tanh_vec (model.fast_tanh, float64); not a choice of its own
ALRNN = 3  # code ALRNN + P: the AL-RNN, relu on units 0..P-1 and identity on the others
ACTIVATIONS = {"tanh": TANH, "relu": RELU, "alrnn": ALRNN}

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


@njit(cache=True)
def row_bounds(n, blocks):
    """Edges of `blocks` consecutive blocks of range(n), inner edges on multiples of 16 (as even as that allows)."""
    step = -(-n // blocks)
    step = -(-step // 16) * 16
    return np.minimum(np.arange(blocks + 1) * step, n)


def forward_loop(W_T, W_in_T, b, u, noise, noise_scale, alpha, act, x, r, blocks=1):
    """Run the recurrence in place.

    W_T (N, N) and W_in_T (n_in, N) are the transposed recurrent and input
    matrices, u (T, B, n_in) the inputs, noise (T, B, N) or empty (T = 0) for
    none; x and r (T+1, B, N) hold states and rates, x[0], r[0] being the
    initial condition (read, not written). Trials evolve independently, so the
    batch is cut into `blocks` blocks of rows (row_bounds), each run through all
    time steps on its own thread: no synchronisation per step. The caller keeps
    BLAS at one thread meanwhile (network.forward). One block runs without a
    parallel region, in a kernel of its own: a run on one thread never compiles
    the parallel one, which is most of the compile time.
    """
    if blocks == 1:
        _forward_rows(W_T, W_in_T, b, u, noise, noise_scale, alpha, act, x, r, 0, u.shape[1])
    else:
        _forward_blocks(W_T, W_in_T, b, u, noise, noise_scale, alpha, act, x, r, blocks)
    return x, r


@njit(cache=True, parallel=True)
def _forward_blocks(W_T, W_in_T, b, u, noise, noise_scale, alpha, act, x, r, blocks):
    edges = row_bounds(u.shape[1], blocks)
    for k in prange(blocks):
        _forward_rows(W_T, W_in_T, b, u, noise, noise_scale, alpha, act, x, r, edges[k], edges[k + 1])


@njit(cache=True, error_model="numpy")
def _forward_rows(W_T, W_in_T, b, u, noise, noise_scale, alpha, act, x, r, lo, hi):
    """forward_loop on trials lo..hi-1. The input drive is summed in the same pass as the
    update: with few inputs that beats a separate product."""
    T, _, n_in = u.shape
    B = hi - lo
    N = W_T.shape[0]
    noisy = noise.shape[0] > 0
    s = x.dtype.type(noise_scale)
    h = np.empty((B, N), dtype=x.dtype)
    a = x.dtype.type(alpha)  # keep float32 arithmetic in float32
    zero = x.dtype.type(0.0)
    keep = x.dtype.type(1.0) - a
    for t in range(T):
        np.dot(r[t, lo:hi], W_T, h)
        xt, xn, rn, ut = x[t, lo:hi], x[t + 1, lo:hi], r[t + 1, lo:hi], u[t, lo:hi]
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
            et = noise[t, lo:hi]
            for i in range(B):
                for j in range(N):
                    xn[i, j] += s * et[i, j]
        if act == TANH:
            for i in range(B):
                for j in range(N):
                    rn[i, j] = tanh_fast(xn[i, j])
        elif act == TANH_VEC:
            _tanh_vec_into(xn, rn)
        elif act >= ALRNN:
            _alrnn_into(xn, rn, act - ALRNN)
        else:
            for i in range(B):
                for j in range(N):
                    rn[i, j] = max(xn[i, j], zero)


def backward_loop(W, W_out, x, r, u, dy, dr, alpha, act, delta, dW_in_T, dW_out, blocks=1):
    """Backpropagate through time in place.

    dy (T, B, n_out) is dL/dy, dr (T, B, N) a direct dL/dr[1..T] or empty
    (T = 0). Writes delta[t-1] = dL/dx[t] for t = 1..T, and accumulates the
    gradients of the small matrices (dW_in_T (n_in, N), dW_out (n_out, N));
    the caller forms dW from delta with one matrix product. With one block the
    sums ride along the time loop (a kernel without a parallel region, as in
    forward_loop); with more, the row blocks run as in forward_loop and the sums
    follow in a pass split over units, adding the same terms in the same order
    (steps T..1, trials 0..B-1): the same bits.
    """
    if blocks == 1:
        _backward_rows(W, W_out, x, r, u, dy, dr, alpha, act, delta, dW_in_T, dW_out, 0, dy.shape[1], True)
    else:
        _backward_blocks(W, W_out, x, r, u, dy, dr, alpha, act, delta, dW_in_T, dW_out, blocks)
    return delta


@njit(cache=True, parallel=True)
def _backward_blocks(W, W_out, x, r, u, dy, dr, alpha, act, delta, dW_in_T, dW_out, blocks):
    edges = row_bounds(dy.shape[1], blocks)
    for k in prange(blocks):
        _backward_rows(W, W_out, x, r, u, dy, dr, alpha, act, delta, dW_in_T, dW_out, edges[k], edges[k + 1], False)
    units = row_bounds(W.shape[0], blocks)
    for k in prange(blocks):
        _small_grads(r, u, dy, alpha, delta, dW_in_T, dW_out, units[k], units[k + 1])


@njit(cache=True, error_model="numpy")
def _backward_rows(W, W_out, x, r, u, dy, dr, alpha, act, delta, dW_in_T, dW_out, lo, hi, sums):
    """backward_loop on trials lo..hi-1; accumulates dW_in_T and dW_out only if `sums`."""
    T, _, n_out = dy.shape
    B = hi - lo
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
            np.dot(delta[t, lo:hi], W, g)  # dL/dr[t] through x[t+1], before the factor a
            for i in range(B):
                for j in range(N):
                    g[i, j] *= a
        else:
            g[:, :] = zero
        if direct:
            g += dr[t - 1, lo:hi]
        rt, dyt = r[t, lo:hi], dy[t - 1, lo:hi]
        for i in range(B):
            for o in range(n_out):
                c = dyt[i, o]
                for j in range(N):
                    g[i, j] += c * W_out[o, j]
                if sums:
                    for j in range(N):
                        dW_out[o, j] += c * rt[i, j]
        d = delta[t - 1, lo:hi]
        if act >= ALRNN:
            _alrnn_slope_times(g, x[t, lo:hi], d, act - ALRNN)
        elif act != RELU:
            for i in range(B):
                for j in range(N):
                    d[i, j] = g[i, j] * (one - rt[i, j] * rt[i, j])
        else:
            xt = x[t, lo:hi]
            for i in range(B):
                for j in range(N):
                    d[i, j] = g[i, j] if xt[i, j] > zero else zero
        if t < T:
            dn = delta[t, lo:hi]
            for i in range(B):
                for j in range(N):
                    d[i, j] += keep * dn[i, j]
        if sums:
            ut = u[t - 1, lo:hi]
            for i in range(B):
                for k in range(n_in):
                    c = a * ut[i, k]
                    for j in range(N):
                        dW_in_T[k, j] += c * d[i, j]


@njit(cache=True, error_model="numpy")
def _small_grads(r, u, dy, alpha, delta, dW_in_T, dW_out, lo, hi):
    """dW_out[:, lo:hi] and dW_in_T[:, lo:hi] from the stored rates and deltas, term by term as _backward_rows."""
    T, B, n_out = dy.shape
    n_in = u.shape[2]
    a = r.dtype.type(alpha)
    for t in range(T, 0, -1):
        rt, dyt, d, ut = r[t], dy[t - 1], delta[t - 1], u[t - 1]
        for i in range(B):
            for o in range(n_out):
                c = dyt[i, o]
                for j in range(lo, hi):
                    dW_out[o, j] += c * rt[i, j]
        for i in range(B):
            for k in range(n_in):
                c = a * ut[i, k]
                for j in range(lo, hi):
                    dW_in_T[k, j] += c * d[i, j]


# Recurrent noise: a counter-based generator. The 64 random bits of pair j of row
# (t, b) are mix64(key + c * GAMMA) with c = (t * B + b) * ceil(N / 2) + j: the
# output of SplitMix64 (Steele, Lea & Flood 2014) started at `key`, computed for
# any c directly. Each value depends only on (key, t, b, j), never on which thread
# computes it, and the loops vectorise (64-bit multiplies, shifts, polynomials).
GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31, _S32, _S52 = (np.uint64(k) for k in (27, 30, 31, 32, 52))
_LOW30 = np.uint64(2**30 - 1)
_LOW32 = np.uint64(2**32 - 1)
_MANTISSA = np.uint64(2**52 - 1)
_ONE_BITS = np.uint64(1023 << 52)  # the bits of 1.0
_FAST = {"contract"}  # fused multiply-adds in the polynomials


def _taylor(n_log, n_sin, n_cos, dtype):
    """Coefficients, highest power first, of ln m = 2 s sum_k s^2k / (2k + 1) (s = (m - 1) / (m + 1)), sin and cos."""
    return (tuple(dtype(1.0 / (2 * k + 1)) for k in reversed(range(n_log))),
            tuple(dtype((-1) ** k / math.factorial(2 * k + 1)) for k in reversed(range(n_sin))),
            tuple(dtype((-1) ** k / math.factorial(2 * k)) for k in reversed(range(n_cos))))


# |s| <= 0.172 for m in [1/sqrt 2, sqrt 2] and |phi| <= pi/4, so the truncation errors are below
# 1e-12 (float64: 7 terms of ln, sin to phi^11, cos to phi^12) and 1e-8 (float32: 5, phi^9, phi^10).
_L64, _S64, _C64 = _taylor(7, 6, 7, np.float64)
_L32, _S32F, _C32 = _taylor(5, 5, 6, np.float32)


@intrinsic
def _float_bits(typingctx, x):
    """The bits of a float64 as a uint64 (an LLVM bitcast, which vectorises)."""
    return types.uint64(types.float64), lambda context, builder, sig, args: builder.bitcast(args[0], ir.IntType(64))


@intrinsic
def _bits_float(typingctx, x):
    """The float64 with the given bits."""
    return types.float64(types.uint64), lambda context, builder, sig, args: builder.bitcast(args[0], ir.DoubleType())


@njit(cache=True, inline="always")
def mix64(z):
    """SplitMix64's output function: a bijection of uint64 with strong avalanche."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, error_model="numpy", inline="always")
def _horner(c, x):
    """c[-1] + c[-2] x + c[-3] x^2 + ... for a tuple c (highest power first)."""
    p = c[0]
    for k in range(1, len(c)):
        p = c[k] + x * p
    return p


# float64 tanh without libm (model.fast_tanh): tanh|x| = t / (t + 2), t = expm1(2|x|), with
# 2|x| = k ln 2 + r, |r| <= ln(2) / 2 (ln 2 in two parts, k rounded by adding 1.5 * 2^52),
# expm1(2|x|) = 2^k expm1(r) + (2^k - 1) (2^k from k's bits) and expm1(r) = r + r^2 Q(r),
# Q the Taylor series to r^13 (truncation below 2e-17 relative). No FMA, no table: it vectorises.
_EXPM1_Q = tuple(1.0 / math.factorial(n) for n in reversed(range(2, 14)))
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 rounded to 32 bits: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_SHIFT = 1.5 * 2.0**52
_EXP_BIAS = np.uint64(1023 << 52)


@njit(cache=True, error_model="numpy", inline="always")
def tanh_vec(v):
    """float64 tanh, vectorisable: within 2 ulp of the rounded exact value (libm's too), 3 of np.tanh."""
    a = abs(v)
    a = 20.0 if a > 20.0 else a  # tanh rounds to 1 from 19.1 on; keeps exp finite and nan a nan
    y = a + a
    z = y * _INV_LN2 + _SHIFT  # k = round(y / ln 2) in the low bits of z
    k = z - _SHIFT
    r = (y - k * _LN2_HI) - k * _LN2_LO
    p = r + r * r * _horner(_EXPM1_Q, r)
    scale = _bits_float((_float_bits(z) << _S52) + _EXP_BIAS)
    t = scale * p + (scale - 1.0)
    return v if a < 1e-8 else math.copysign(t / (t + 2.0), v)


@njit(cache=True, error_model="numpy")
def _tanh_vec_into(x, out):
    """out = tanh_vec(x) elementwise: a function of its own, so that forward_loop's other branches compile as
    they did before tanh_vec existed (inlined there, it made every float32 training step about 50% slower)."""
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = tanh_vec(x[i, j])


@njit(cache=True, error_model="numpy")
def _alrnn_into(x, out, n_relu):
    """out = AL-RNN rates of x (B, N): max(x, 0) on units 0..n_relu-1, x on the others.

    A function of its own, like _tanh_vec_into, so that forward_loop's tanh and relu branches compile as before."""
    zero = x.dtype.type(0.0)
    for i in range(x.shape[0]):
        for j in range(n_relu):
            out[i, j] = max(x[i, j], zero)
        for j in range(n_relu, x.shape[1]):
            out[i, j] = x[i, j]


@njit(cache=True, error_model="numpy")
def _alrnn_slope_times(g, x, out, n_relu):
    """out = g * phi'(x) for the AL-RNN (B, N): the step function on units 0..n_relu-1 (0 at x = 0), 1 on the others."""
    zero = x.dtype.type(0.0)
    for i in range(x.shape[0]):
        for j in range(n_relu):
            out[i, j] = g[i, j] if x[i, j] > zero else zero
        for j in range(n_relu, x.shape[1]):
            out[i, j] = g[i, j]


def _cast(x, like):
    """x converted to the float type of `like` (numba promotes int * float32 to float64)."""
    return type(like)(x)


@overload(_cast, inline="always")
def _cast_impl(x, like):
    if like == types.float32:
        return lambda x, like: np.float32(x)
    return lambda x, like: np.float64(x)


@njit(cache=True, error_model="numpy", inline="always")
def _box_muller(z, L, S, C):
    """Two standard normals from 64 random bits, in the dtype of the coefficients L, S, C.

    Radius: u = (high 32 bits + 1/2) 2^-32 in (0, 1), u = m 2^e exactly with m in
    [1/sqrt 2, sqrt 2] (exponent and mantissa by bit operations), -2 ln u =
    -2 (e ln 2 + ln m); the radius is at most 6.77 (tails beyond are cut: probability
    1.3e-11). Angle: the low 32 bits, 2 for the quadrant and 30 for phi in (-pi/4, pi/4).
    """
    one = L[-1]
    two = one + one
    u = (np.float64(z >> _S32) + 0.5) * 2.0**-32
    bits = _float_bits(u)
    m = _bits_float((bits & _MANTISSA) | _ONE_BITS)
    big = m > 1.4142135623730951
    m = 0.5 * m if big else m
    e = _cast(np.int64(bits >> _S52) - (1022 if big else 1023), one)
    t = _cast(m - 1.0, one)  # exact in float64, then rounded: keeps ln u accurate near u = 1
    s = t / (t + two)
    r = np.sqrt(-two * (e * _cast(0.6931471805599453, one) + two * s * _horner(L, s * s)))
    low = z & _LOW32
    phi = _cast(((np.float64(low & _LOW30) + 0.5) * 2.0**-30 - 0.5) * (0.5 * np.pi), one)
    p2 = phi * phi
    c = _horner(C, p2)
    s = phi * _horner(S, p2)
    # (cos, sin) of phi + q pi/2: (c, s), (-s, c), (-c, -s), (s, -c)
    q = low >> _S30
    odd = (q & np.uint64(1)) == np.uint64(1)
    a = s if odd else c
    b = c if odd else s
    a = -a if (q == np.uint64(1)) | (q == np.uint64(2)) else a
    b = -b if q >= np.uint64(2) else b
    return r * a, r * b


def normal_fill(key, out, parallel=None):
    """Fill out (T, B, N), C-contiguous float32 or float64, with standard normals.

    Pair j of row (t, b) (see the comment above GAMMA and _box_muller) goes to
    units j and j + ceil(N/2). Arithmetic in the dtype of out: within 1e-10 of
    Box-Muller in exact arithmetic on the same bits in float64, within 2 ulp in
    float32. The rows are split across numba's threads (none on one thread: a
    kernel without a parallel region, which compiles much faster); the values
    do not depend on the split. parallel: True or False chooses the kernel
    (the warm-up compiles both); None, by the thread count.
    """
    consts = (_L32, _S32F, _C32) if out.itemsize == 4 else (_L64, _S64, _C64)  # one compiled path per dtype
    if parallel is None:
        parallel = numba.get_num_threads() > 1
    fill = _normal_fill_parallel if parallel else _normal_fill_serial
    return fill(np.uint64(key), out, *consts)


@njit(cache=True, error_model="numpy", fastmath=_FAST, inline="always")
def _normal_row(rows, row, key, h, N, L, S, C):
    first, second = rows[row, :h], rows[row, h:]
    base = key + np.uint64(row) * np.uint64(h) * GAMMA
    for j in range(N // 2):
        first[j], second[j] = _box_muller(mix64(base + np.uint64(j) * GAMMA), L, S, C)
    if N % 2:
        first[h - 1] = _box_muller(mix64(base + np.uint64(h - 1) * GAMMA), L, S, C)[0]


@njit(cache=True, error_model="numpy", fastmath=_FAST)
def _normal_fill_serial(key, out, L, S, C):
    T, B, N = out.shape
    rows = out.reshape(T * B, N)
    for row in range(T * B):
        _normal_row(rows, row, key, (N + 1) // 2, N, L, S, C)
    return out


@njit(cache=True, parallel=True, error_model="numpy", fastmath=_FAST)
def _normal_fill_parallel(key, out, L, S, C):
    T, B, N = out.shape
    rows = out.reshape(T * B, N)
    for row in prange(T * B):
        _normal_row(rows, row, key, (N + 1) // 2, N, L, S, C)
    return out


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
    for kernel in (_forward_rows, _backward_rows, _forward_blocks, _backward_blocks, _normal_fill_serial,
                   _normal_fill_parallel):
        hits += sum(kernel.stats.cache_hits.values())
        misses += sum(kernel.stats.cache_misses.values())
    return f"numba kernels: {hits} loaded from cache, {misses} compiled"

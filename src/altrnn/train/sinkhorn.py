"""Distances between two batches of sequences: debiased Sinkhorn divergence and Gaussian-kernel MMD.

Each batch is a point cloud x (n, d), y (m, d) with uniform weights, here
sequences of soft one-hot emissions flattened to vectors. The ground cost is
C(x, y) = |x - y|^2 / 2.

Entropic optimal transport (log-domain Sinkhorn, stable at small epsilon):

    OT_eps(x, y) = min_pi <pi, C> + eps KL(pi | a b^T) = <a, f> + <b, g>  at the optimal potentials f, g

and the debiased Sinkhorn divergence (Feydy et al. 2019), which is >= 0 and
0 when the clouds coincide:

    S_eps(x, y) = OT_eps(x, y) - OT_eps(x, x) / 2 - OT_eps(y, y) / 2.

Gradient (envelope theorem): dOT_eps/dC = pi, the plan at convergence, so
dOT_eps(x, y)/dx_i = sum_j pi_ij (x_i - y_j), and OT_eps(x, x), in which x
enters both sides of a symmetric plan, contributes twice that. The gradient is
that of the converged divergence; the Sinkhorn loop is run to `tol`, not
differentiated through.

MMD^2 with k(x, y) = sum_s exp(-|x - y|^2 / (2 s^2)) over bandwidths s: the biased
V-statistic (>= 0), or the unbiased U-statistic, which leaves out the i = j terms
of the within-batch sums. Only the U-statistic's expectation over batches is
MMD^2(P, Q) itself, minimal where the generator's law P equals the data's Q; the
V-statistic's adds (1 - E k(x, x')) / n per kernel, which rewards a generator
whose samples are more alike than the data's (a finite-batch bias, as the
Sinkhorn divergence also has).

window_mmd adds the U-statistic MMD^2 of every window of w consecutive symbols,
averaged over the window's positions. Its kernel is a sum of positive-definite
kernels, so added to any of the divergences above it leaves their minimum
where it was (the generator's law equal to the data's) while it weights the
local statistics (which symbol follows which, short runs) that a kernel on
whole sequences sees only weakly: changing one symbol of a long sequence into
any other moves it by the same distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIVERGENCES = ("sinkhorn", "mmd", "mmd_unbiased")


@dataclass
class Transport:
    """Converged entropic OT between two uniform clouds: value, potentials, plan, iterations used."""

    value: float
    f: np.ndarray  # (n,)
    g: np.ndarray  # (m,)
    plan: np.ndarray  # (n, m), sums to 1
    iterations: int
    converged: bool  # the potentials moved less than tol in the last sweep (else max_iter was reached)


def cost_matrix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """C_ij = |x_i - y_j|^2 / 2, clipped at 0 against round-off."""
    sq = 0.5 * ((x * x).sum(axis=1)[:, None] + (y * y).sum(axis=1)[None, :]) - x @ y.T
    return np.maximum(sq, 0.0)


def _softmin(eps: float, C: np.ndarray, h: np.ndarray, log_w: float) -> np.ndarray:
    """-eps log sum_j w exp((h_j - C_ij) / eps) for each row i (uniform weights w = exp(log_w))."""
    z = (h[None, :] - C) / eps
    zmax = z.max(axis=1)
    return -eps * (np.log(np.exp(z - zmax[:, None]).sum(axis=1)) + zmax + log_w)


def _schedule(C: np.ndarray, eps: float, scaling: float):
    """epsilon scaling: eps_k = max(eps, diameter * scaling^k), ending at eps (scaling 0: eps only)."""
    if not scaling:
        return [eps]
    steps, e = [], max(float(C.max()), eps)
    while e > eps:
        steps.append(e)
        e *= scaling
    return steps + [eps]


def entropic_ot(x: np.ndarray, y: np.ndarray, eps: float, tol: float = 1e-9, max_iter: int = 10_000,
                scaling: float = 0.5) -> Transport:
    """OT_eps between uniform clouds x (n, d) and y (m, d) by log-domain Sinkhorn.

    Stops when the potentials move less than tol (in cost units) in one sweep
    at the final epsilon; epsilon scaling (from the cloud's diameter down by
    `scaling` per sweep) only speeds up the start. Convergence slows down as
    eps shrinks relative to the spread of costs (thousands of sweeps for
    Gaussian clouds at eps ~ diameter / 20); flattened symbol sequences at
    eps ~ 1-2 converge in tens of sweeps.
    """
    C = cost_matrix(x, y)
    n, m = C.shape
    la, lb = -np.log(n), -np.log(m)
    f, g = np.zeros(n), np.zeros(m)
    it, change = 0, np.inf
    for e in _schedule(C, eps, scaling)[:-1]:
        f = _softmin(e, C, g, lb)
        g = _softmin(e, C.T, f, la)
        it += 1
    while it < max_iter:
        f_new = _softmin(eps, C, g, lb)
        g_new = _softmin(eps, C.T, f_new, la)
        change = max(np.abs(f_new - f).max(), np.abs(g_new - g).max())
        f, g = f_new, g_new
        it += 1
        if change < tol:
            break
    plan = np.exp((f[:, None] + g[None, :] - C) / eps + la + lb)
    return Transport(float(f.mean() + g.mean()), f, g, plan, it, bool(change < tol))


def entropic_ot_self(x: np.ndarray, eps: float, tol: float = 1e-9, max_iter: int = 10_000,
                     scaling: float = 0.5) -> Transport:
    """OT_eps(x, x) by the symmetric (averaged) Sinkhorn update, which converges in few sweeps."""
    C = cost_matrix(x, x)
    n = C.shape[0]
    la = -np.log(n)
    f = np.zeros(n)
    it, change = 0, np.inf
    for e in _schedule(C, eps, scaling)[:-1]:
        f = 0.5 * (f + _softmin(e, C, f, la))
        it += 1
    while it < max_iter:
        f_new = 0.5 * (f + _softmin(eps, C, f, la))
        change = np.abs(f_new - f).max()
        f = f_new
        it += 1
        if change < tol:
            break
    f = _softmin(eps, C, f, la)  # one plain sweep: the exact potential given f
    plan = np.exp((f[:, None] + f[None, :] - C) / eps + 2 * la)
    return Transport(float(2 * f.mean()), f, f, plan, it, bool(change < tol))


def sinkhorn_divergence(x: np.ndarray, y: np.ndarray, eps: float, tol: float = 1e-9, max_iter: int = 10_000,
                        scaling: float = 0.5) -> tuple[float, np.ndarray]:
    """(S_eps(x, y), dS/dx (n, d)) for clouds x (n, d), y (m, d) (module docstring)."""
    x, y = _pair(x, y)
    if not eps > 0:
        raise ValueError(f"Sinkhorn epsilon must be > 0, got {eps}")
    xy = entropic_ot(x, y, eps, tol, max_iter, scaling)
    xx = entropic_ot_self(x, eps, tol, max_iter, scaling)
    yy = entropic_ot_self(y, eps, tol, max_iter, scaling)
    value = xy.value - 0.5 * (xx.value + yy.value)
    grad = xy.plan.sum(axis=1)[:, None] * x - xy.plan @ y
    grad -= xx.plan.sum(axis=1)[:, None] * x - xx.plan @ x  # -1/2 * 2 * sum_j pi_ij (x_i - x_j)
    return float(value), grad


def mmd(x: np.ndarray, y: np.ndarray, bandwidths=(1.0,), unbiased: bool = False) -> tuple[float, np.ndarray]:
    """(MMD^2(x, y), d MMD^2/dx (n, d)) with a sum of Gaussian kernels of the given bandwidths.

    unbiased: the U-statistic (module docstring); needs at least 2 points per cloud.
    """
    x, y = _pair(x, y)
    bandwidths = np.atleast_1d(np.asarray(bandwidths, dtype=float))
    if bandwidths.size == 0 or not np.all(bandwidths > 0):
        raise ValueError(f"MMD bandwidths must be a non-empty list of positive numbers, got {bandwidths.tolist()}")
    n, m = len(x), len(y)
    if unbiased and min(n, m) < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 points per cloud, got {n} and {m}")
    return _mmd_terms(x, y, bandwidths, unbiased)


def _mmd_terms(x: np.ndarray, y: np.ndarray, bandwidths, unbiased: bool) -> tuple[float, np.ndarray]:
    """mmd's value and gradient, computed in x's dtype (float32 is about 3x faster, for window_mmd)."""
    n, m = len(x), len(y)
    # pairs within a cloud: n^2 with the i = j terms (V-statistic), n(n - 1) without (U-statistic)
    pairs_x, pairs_y = (n * (n - 1), m * (m - 1)) if unbiased else (n**2, m**2)
    diagonal = 1.0 if unbiased else 0.0  # k(x_i, x_i) = 1 per bandwidth, left out of the U-statistic
    Cxx, Cxy, Cyy = 2 * cost_matrix(x, x), 2 * cost_matrix(x, y), 2 * cost_matrix(y, y)  # squared distances
    value, grad = 0.0, np.zeros_like(x)
    for s in bandwidths:
        Kxx, Kxy, Kyy = (np.exp(-D / x.dtype.type(2 * s * s)) for D in (Cxx, Cxy, Cyy))
        value += ((float(Kxx.sum(dtype=np.float64)) - diagonal * n) / pairs_x
                  + (float(Kyy.sum(dtype=np.float64)) - diagonal * m) / pairs_y
                  - 2 * float(Kxy.sum(dtype=np.float64)) / (n * m))
        # d k(x_i, z)/dx_i = -k (x_i - z) / s^2; x_i appears twice in the xx sum (k(x_i, x_i) has no gradient)
        gxx = (Kxx.sum(axis=1)[:, None] * x - Kxx @ x) * x.dtype.type(-2 / (pairs_x * s * s))
        gxy = (Kxy.sum(axis=1)[:, None] * x - Kxy @ y) * x.dtype.type(2 / (n * m * s * s))
        grad += gxx + gxy
    return float(value), grad


def window_mmd(x: np.ndarray, y: np.ndarray, n_steps: int, windows, bandwidths=(1.0,),
               dtype=np.float64) -> tuple[float, np.ndarray]:
    """(sum over window lengths w of the mean over positions t of the unbiased MMD^2 between the windows
    x[:, t:t+w] and y[:, t:t+w], its gradient with respect to x (n, d)) for sequences flattened to
    (n, n_steps * n_symbols) (module docstring). The kernels are evaluated in `dtype`: float32 (the
    generative trainer's choice for float32 networks) is about 3x faster, the loss's cost here."""
    x, y = _pair(x, y)
    if x.shape[1] % n_steps:
        raise ValueError(f"sequences of {x.shape[1]} values are not {n_steps} symbols")
    n, m = len(x), len(y)
    if min(n, m) < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 points per cloud, got {n} and {m}")
    x3, y3 = x.reshape(n, n_steps, -1).astype(dtype), y.reshape(m, n_steps, -1).astype(dtype)
    value, grad = 0.0, np.zeros_like(x3)
    for w in windows:
        if not 1 <= w <= n_steps:
            raise ValueError(f"MMD windows must be from 1 to the sequence length ({n_steps}), got {w}")
        positions = n_steps - w + 1
        for t in range(positions):
            v, g = _mmd_terms(x3[:, t:t + w].reshape(n, -1), y3[:, t:t + w].reshape(m, -1), bandwidths, True)
            value += v / positions
            grad[:, t:t + w] += g.reshape(n, w, -1) / positions
    return value, grad.reshape(n, -1).astype(np.float64)


def divergence(x: np.ndarray, y: np.ndarray, kind: str = "sinkhorn", epsilon: float = 0.1, tol: float = 1e-9,
               max_iter: int = 10_000, scaling: float = 0.5, bandwidths=(1.0,)) -> tuple[float, np.ndarray]:
    """The divergence named by `kind` and its gradient with respect to x.

    'sinkhorn': debiased Sinkhorn divergence; 'mmd': biased MMD^2; 'mmd_unbiased': unbiased MMD^2.
    """
    if kind == "sinkhorn":
        return sinkhorn_divergence(x, y, epsilon, tol, max_iter, scaling)
    if kind in ("mmd", "mmd_unbiased"):
        return mmd(x, y, bandwidths, unbiased=kind == "mmd_unbiased")
    raise ValueError(f"divergence must be one of {list(DIVERGENCES)}, got {kind!r}")


def _pair(x, y):
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"point clouds must be (n, d) and (m, d) with the same d, got {x.shape} and {y.shape}")
    return x, y

"""Fixed points and slow points of a trained network under a constant input, by optimisation.

For the noise-free map F(x) = (1 - a) x + a (W phi(x) + W_in u + b) (see
`stability.rnn_map`) the search minimises the speed

    q(x) = 0.5 ||F(x) - x||^2

on the map itself (not on the continuous-time field (F(x) - x) / a, whose q is
1/a^2 times larger); every tolerance below refers to this q. Its gradient is
closed-form, dq/dx = (J - I)^T (F(x) - x) = a (diag(phi'(x)) W^T e - e) with
e = F(x) - x, so one step for a batch of n states costs two (n, N) @ (N, N)
products. The steps:

1. Adam on q from all initial states at once, in a numba kernel that does the
   two products through BLAS and fuses everything elementwise (activation,
   slopes, residual, gradient, Adam update) into one pass per product. Rows
   whose q is below `q_tol` stop moving; the batch is compacted to the moving
   rows as they finish. (benchmarks/fixed_points.py compares the kernel with
   the same optimiser in vectorised numpy; see benchmarks/README.md.)
2. Duplicates are merged, then Newton as a polish: dx solves (J - I) dx = -e,
   a step being halved until q decreases (the Newton step is always a descent
   direction of q). A candidate is replaced by its refined point only if that
   is a fixed point (q < q_tol): fixed points converge quadratically, slow
   points stay where Adam left them.
3. Points with q < q_tol are `fixed`, q_tol <= q < slow_tol `slow`, the rest
   dropped; duplicates merged again (absolute Euclidean distance < unique_tol,
   the lowest q kept). With the reference scale s = mean distance of the
   initial states from the centroid of the visited states: outliers further
   than outlier_factor * s from that centroid are dropped, and so are slow
   points within slow_exclusion * s of a fixed point (rows still on their way
   into it along its slowest direction). Set slow_exclusion = 0 to keep those,
   e.g. to trace a line attractor, whose slow points lead into its fixed points.
   How many slow points remain depends on max_iters: with more iterations more
   of them reach the fixed points they lead to.
4. Each kept point is classified from its closed-form Jacobian
   (`stability.classify`).

Defaults follow FixedPointFinder: q tolerance 1e-12, unique tolerance 1e-3,
outliers beyond 10x the mean initial distance. Everything runs in float64
whatever the dtype of the weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from ..model.network import ModelConfig, Params
from .stability import activation_slope, classify, jacobian, rnn_map

TABLE_COLUMNS = ["point", "kind", "period", "q", "stability", "n_unstable", "spiral", "max_modulus",
                 "eig_real", "eig_imag"]
POINT_KINDS = ("fixed", "slow")
_TANH, _RELU = 0, 1


# --------------------------------------------------------------------------- initial states

def sample_initial_states(states, n: int, noise_scale: float, rng: np.random.Generator) -> np.ndarray:
    """n random rows of `states` plus Gaussian noise, as starting points of the search.

    states: states the network visited, (M, N) or any (..., N) (e.g. a (T+1, B, N)
    trajectory; leading dimensions are flattened). Rows are drawn without
    replacement when n <= M. The noise has standard deviation noise_scale x the
    states' typical spread, the root mean square over units of each unit's
    standard deviation, so noise_scale is relative and unit-free.
    """
    states = np.asarray(states, dtype=np.float64)
    if states.ndim < 2 or states.shape[-1] < 1 or states.size == 0:
        raise ValueError(f"states must be (M, N) with M, N >= 1, got shape {states.shape}")
    states = states.reshape(-1, states.shape[-1])
    if not np.all(np.isfinite(states)):
        raise ValueError("states contains NaN or infinite values")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if not np.isfinite(noise_scale) or noise_scale < 0:
        raise ValueError(f"noise_scale must be a finite number >= 0, got {noise_scale!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    M = states.shape[0]
    rows = rng.choice(M, size=n, replace=n > M)
    spread = float(np.sqrt(np.mean(states.var(axis=0))))
    return states[rows] + noise_scale * spread * rng.standard_normal((n, states.shape[1]))


# --------------------------------------------------------------------------- the optimiser

@njit(cache=True, error_model="numpy")
def _phi_and_slope(v, act):
    """phi(v) and phi'(v); tanh from one exp (accurate to about 1 ulp, and it vectorises)."""
    if act == _TANH:
        e = np.expm1(-2.0 * abs(v))
        t = -e / (2.0 + e)
        if v < 0:
            t = -t
        return t, 1.0 - t * t
    if v > 0:
        return v, 1.0
    return 0.0, 0.0


@njit(cache=True, error_model="numpy")
def adam_steps(X, M, V, W, W_T, c, alpha, act, lr, beta1, beta2, eps, t0, n_iters, q_freeze, q, n_relu=-1):
    """n_iters Adam steps on q(x) = 0.5 ||F(x) - x||^2 for every row of X (n, N), in place.

    M, V: Adam moments (n, N); W_T = W.T (C order); c = W_in u + b; act 0
    tanh, 1 relu; t0 steps already taken (bias correction). A row whose q is below q_freeze is left where it is. On return
    q (n,) holds each row's q at the start of the last step. n_relu >= 0 (with act 1): an AL-RNN, units from n_relu
    on are linear.
    """
    n, N = X.shape
    R = np.empty((n, N))
    D = np.empty((n, N))
    H = np.empty((n, N))
    E = np.empty((n, N))
    G = np.empty((n, N))
    for it in range(n_iters):
        t = t0 + it + 1
        for i in range(n):
            for j in range(N):
                R[i, j], D[i, j] = _phi_and_slope(X[i, j], act)
        if n_relu >= 0:
            for i in range(n):
                for j in range(n_relu, N):
                    R[i, j], D[i, j] = X[i, j], 1.0
        np.dot(R, W_T, H)  # H[i] = W phi(x_i)
        for i in range(n):
            s = 0.0
            for j in range(N):
                e = alpha * (H[i, j] + c[j]) - alpha * X[i, j]  # F(x) - x
                E[i, j] = e
                s += e * e
            q[i] = 0.5 * s
        np.dot(E, W, G)  # G[i] = W^T e_i
        step = lr * np.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
        eps_hat = eps * np.sqrt(1.0 - beta2 ** t)
        for i in range(n):
            if q[i] < q_freeze:
                continue
            for j in range(N):
                g = alpha * (D[i, j] * G[i, j] - E[i, j])  # (J - I)^T e
                m = beta1 * M[i, j] + (1.0 - beta1) * g
                v = beta2 * V[i, j] + (1.0 - beta2) * g * g
                M[i, j] = m
                V[i, j] = v
                X[i, j] -= step * m / (np.sqrt(v) + eps_hat)


def speed(params: Params, cfg: ModelConfig, x, u) -> np.ndarray:
    """q(x) = 0.5 ||F(x) - x||^2 for states x (..., N), in float64."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * np.sum((rnn_map(params, cfg, x, u) - x) ** 2, axis=-1)


def speed_gradient(params: Params, cfg: ModelConfig, x, u) -> np.ndarray:
    """dq/dx = (J - I)^T (F(x) - x) for states x (..., N), closed form."""
    x = np.asarray(x, dtype=np.float64)
    e = rnn_map(params, cfg, x, u) - x
    W = np.asarray(params.W, dtype=np.float64)
    return cfg.alpha * (activation_slope(x, cfg.activation, cfg.n_relu) * (e @ W) - e)


def minimise_speed(params: Params, cfg: ModelConfig, u, x0, *, max_iters: int = 2000, lr: float = 1e-2,
                   beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, q_tol: float = 1e-12,
                   check_every: int = 50) -> tuple[np.ndarray, np.ndarray, int]:
    """Adam on q from every row of x0 (n, N); returns (x, q, iterations run).

    Every `check_every` steps, rows with q < q_tol are set aside (they are done)
    and the others carry on; the search ends when all are done or after max_iters.
    """
    W = np.ascontiguousarray(params.W, dtype=np.float64)
    W_T = np.ascontiguousarray(W.T)
    c = np.asarray(params.W_in, np.float64) @ np.asarray(u, np.float64) + np.asarray(params.b, np.float64)
    act = _TANH if cfg.activation == "tanh" else _RELU  # alrnn: relu, and n_relu marks the linear units
    n_relu = cfg.n_relu if cfg.activation == "alrnn" else -1
    X = np.array(x0, dtype=np.float64, order="C", copy=True)
    n = X.shape[0]
    active = np.arange(n)
    Xa, Ma, Va = X, np.zeros_like(X), np.zeros_like(X)
    qa = np.empty(n)
    t = 0
    while t < max_iters and active.size:
        k = min(check_every, max_iters - t)
        adam_steps(Xa, Ma, Va, W, W_T, c, float(cfg.alpha), act, lr, beta1, beta2, eps, t, k, q_tol, qa, n_relu)
        t += k
        X[active] = Xa
        moving = qa >= q_tol
        if not moving.all():
            active = active[moving]
            Xa, Ma, Va = Xa[moving].copy(), Ma[moving].copy(), Va[moving].copy()
            qa = np.empty(active.size)
    return X, speed(params, cfg, X, u), t


def newton_refine(params: Params, cfg: ModelConfig, u, x, *, max_iters: int = 20, max_halvings: int = 12,
                  q_stop: float = 1e-28, chunk: int = 64) -> np.ndarray:
    """Damped Newton on F(x) - x = 0 from every row of x (K, N); returns the refined states.

    Each step solves (J - I) dx = -(F(x) - x) and is halved until q decreases
    (at most max_halvings times; otherwise the row stays put). Rows stop once
    q < q_stop or no step helps. Rows are processed `chunk` at a time to bound
    the memory of the stacked Jacobians.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    W = np.asarray(params.W, dtype=np.float64)
    eye = np.eye(x.shape[1])
    for lo in range(0, x.shape[0], chunk):
        xs = x[lo:lo + chunk]
        q = speed(params, cfg, xs, u)
        live = q >= q_stop
        for _ in range(max_iters):
            if not live.any():
                break
            xl = xs[live]
            e = rnn_map(params, cfg, xl, u) - xl
            JmI = cfg.alpha * (W[None] * activation_slope(xl, cfg.activation, cfg.n_relu)[:, None, :] - eye)
            try:
                dx = np.linalg.solve(JmI, -e[..., None])[..., 0]
            except np.linalg.LinAlgError:  # one singular Jacobian: solve row by row, skipping it
                dx = np.zeros_like(xl)
                for r in range(xl.shape[0]):
                    try:
                        dx[r] = np.linalg.solve(JmI[r], -e[r])
                    except np.linalg.LinAlgError:
                        pass
            ql = q[live]
            new_x, new_q = xl.copy(), ql.copy()
            pending = np.isfinite(dx).all(axis=1) & (np.abs(dx).sum(axis=1) > 0)
            scale = 1.0
            for _ in range(max_halvings + 1):
                if not pending.any():
                    break
                trial = xl[pending] + scale * dx[pending]
                qt = speed(params, cfg, trial, u)
                better = qt < ql[pending]
                idx = np.flatnonzero(pending)[better]
                new_x[idx], new_q[idx] = trial[better], qt[better]
                pending[np.flatnonzero(pending)[better]] = False
                scale *= 0.5
            improved = new_q < ql
            rows = np.flatnonzero(live)
            xs[rows], q[rows] = new_x, new_q
            live[rows] = improved & (new_q >= q_stop)
        x[lo:lo + chunk] = xs
    return x


# --------------------------------------------------------------------------- clean-up

def unique_points(x, q, tol: float) -> np.ndarray:
    """Indices of points that remain when any two closer than tol (Euclidean) are merged.

    Greedy in order of increasing q: a point is kept unless a kept one lies within tol.
    """
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(np.asarray(q), kind="stable")
    if x.shape[0] == 0:
        return order
    sq = np.sum(x * x, axis=1)
    kept = []
    for i in order:
        if kept:
            k = np.asarray(kept)
            d2 = sq[k] + sq[i] - 2 * (x[k] @ x[i])
            if np.min(d2) < tol * tol:
                # recheck exactly: the expansion above loses precision for nearby points
                if np.min(np.sum((x[k] - x[i]) ** 2, axis=1)) < tol * tol:
                    continue
        kept.append(i)
    return np.asarray(kept, dtype=np.intp)


def reference_scale(initial_states, visited=None) -> tuple[np.ndarray, float]:
    """Centroid of the visited states (of the initial states if None) and the mean distance of the
    initial states from it: the length scale of the outlier and slow-point rules."""
    ref = np.asarray(initial_states if visited is None else visited, dtype=np.float64)
    centroid = ref.reshape(-1, ref.shape[-1]).mean(axis=0)
    return centroid, float(np.mean(np.linalg.norm(np.asarray(initial_states) - centroid, axis=1)))


def inlier_mask(x, initial_states, visited, factor: float) -> np.ndarray:
    """True for points within factor x the reference scale of the centroid (see reference_scale)."""
    centroid, scale = reference_scale(initial_states, visited)
    return np.linalg.norm(np.asarray(x) - centroid, axis=1) <= factor * scale


def near_fixed_mask(x, fixed, radius: float) -> np.ndarray:
    """True for rows of x (K, N) within radius (Euclidean) of a row of fixed (F, N)."""
    x, fixed = np.asarray(x, dtype=np.float64), np.asarray(fixed, dtype=np.float64)
    if x.shape[0] == 0 or fixed.shape[0] == 0:
        return np.zeros(x.shape[0], dtype=bool)
    return np.linalg.norm(x[:, None, :] - fixed[None], axis=2).min(axis=1) < radius


# --------------------------------------------------------------------------- the result

@dataclass
class FixedPoints:
    """Fixed and slow points of one network under one constant input, with their stability.

    Arrays have one row per point: x (K, N) states, q (K,) speeds, kind
    ("fixed"/"slow"), stability (one of STABILITY_KINDS), n_unstable, spiral,
    eigvals (K, N) map eigenvalues sorted by decreasing modulus, cont_eigvals
    (K, N) those of the continuous-time system, eigvecs (K, N, n_dominant) the
    eigenvectors of the leading ones (as columns).
    """

    x: np.ndarray
    q: np.ndarray
    kind: np.ndarray
    stability: np.ndarray
    n_unstable: np.ndarray
    spiral: np.ndarray
    eigvals: np.ndarray
    cont_eigvals: np.ndarray
    eigvecs: np.ndarray
    u: np.ndarray
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.x.shape[0]

    def table(self) -> pd.DataFrame:
        """One row per point: point, kind, period, q, stability, n_unstable, spiral, max_modulus, eig_real, eig_imag."""
        K = len(self)
        lead = self.eigvals[:, 0] if self.eigvals.shape[1] else np.zeros(K, dtype=complex)
        return pd.DataFrame({
            "point": np.arange(K, dtype=np.int64),
            "kind": pd.Series(self.kind, dtype=object),
            "period": np.ones(K, dtype=np.int64),
            "q": self.q.astype(np.float64),
            "stability": pd.Series(self.stability, dtype=object),
            "n_unstable": self.n_unstable.astype(np.int64),
            "spiral": self.spiral.astype(bool),
            "max_modulus": np.abs(lead).astype(np.float64),
            "eig_real": lead.real.astype(np.float64),
            "eig_imag": lead.imag.astype(np.float64),
        }, columns=TABLE_COLUMNS)

    def arrays(self) -> dict:
        """x (K, N), q (K,), eigvals (K, N) complex, eigvecs (K, N, n_dominant) complex."""
        return {"x": self.x, "q": self.q, "eigvals": self.eigvals, "eigvecs": self.eigvecs}


def describe(params: Params, cfg: ModelConfig, u, x, q, kind, n_dominant: int = 3, info=None) -> FixedPoints:
    """Classify the points x (K, N) from their Jacobians and pack them into FixedPoints."""
    x = np.asarray(x, dtype=np.float64).reshape(-1, cfg.n_rec)
    K, N = x.shape
    nd = min(n_dominant, N)
    eigvals = np.empty((K, N), dtype=complex)
    cont = np.empty((K, N), dtype=complex)
    eigvecs = np.empty((K, N, nd), dtype=complex)
    stab = np.empty(K, dtype=object)
    n_unstable = np.empty(K, dtype=np.int64)
    spiral = np.empty(K, dtype=bool)
    for k in range(K):
        st = classify(jacobian(params, cfg, x[k]), cfg.alpha, n_dominant=nd)
        eigvals[k], cont[k], eigvecs[k] = st.eigvals, st.cont_eigvals, st.eigvecs
        stab[k], n_unstable[k], spiral[k] = st.kind, st.n_unstable, st.spiral
    return FixedPoints(x=x, q=np.asarray(q, dtype=np.float64), kind=np.asarray(kind, dtype=object).reshape(K),
                       stability=stab, n_unstable=n_unstable, spiral=spiral, eigvals=eigvals, cont_eigvals=cont,
                       eigvecs=eigvecs, u=np.asarray(u, dtype=np.float64), info=dict(info or {}))


# --------------------------------------------------------------------------- the search

def _polish(params, cfg, u, x, q, q_tol, slow_tol, unique_tol):
    """Newton as a polish: a candidate is replaced by its refined point only if that is a fixed point.

    A candidate that is itself slow and that Newton carried further than
    unique_tol (typically along a slow valley into a fixed point) is kept as
    well, so that slow points are not lost to the fixed point they lead to.
    """
    refined = newton_refine(params, cfg, u, x)
    q_new = speed(params, cfg, refined, u)
    fixed = q_new < q_tol
    moved = np.linalg.norm(refined - x, axis=1) > unique_tol
    also = fixed & moved & (q < slow_tol)
    x_out = np.concatenate([np.where(fixed[:, None], refined, x), x[also]])
    q_out = np.concatenate([np.where(fixed, q_new, q), q[also]])
    return x_out, q_out


def _check_inputs(params, cfg, u, initial_states, visited):
    if not isinstance(cfg, ModelConfig):
        raise TypeError("cfg must be an altrnn ModelConfig")
    N = cfg.n_rec
    expected = {"W": (N, N), "W_in": (N, cfg.n_in), "b": (N,)}
    for name, shape in expected.items():
        a = np.asarray(getattr(params, name))
        if a.shape != shape:
            raise ValueError(f"params.{name} has shape {a.shape}, expected {shape} for this cfg")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"params.{name} contains NaN or infinite values")
    u = np.asarray(u, dtype=np.float64)
    if u.shape != (cfg.n_in,):
        raise ValueError(f"u must have shape ({cfg.n_in},), got {u.shape}")
    if not np.all(np.isfinite(u)):
        raise ValueError("u contains NaN or infinite values")
    x0 = np.asarray(initial_states, dtype=np.float64)
    if x0.ndim != 2 or x0.shape[1] != N or x0.shape[0] < 1:
        raise ValueError(f"initial_states must have shape (n, {N}) with n >= 1, got {x0.shape}")
    if not np.all(np.isfinite(x0)):
        raise ValueError("initial_states contains NaN or infinite values")
    if visited is not None:
        visited = np.asarray(visited, dtype=np.float64)
        if visited.ndim < 2 or visited.shape[-1] != N or visited.size == 0:
            raise ValueError(f"visited must have shape (M, {N}) (or (..., {N})), got {visited.shape}")
        visited = visited.reshape(-1, N)
    return u, x0, visited


def find_fixed_points(params: Params, cfg: ModelConfig, u, initial_states, *, q_tol: float = 1e-12,
                      slow_tol: float = 1e-6, unique_tol: float = 1e-3, outlier_factor: float = 10.0,
                      slow_exclusion: float = 0.05, max_iters: int = 2000, lr: float = 1e-2, newton: bool = True,
                      visited=None, n_dominant: int = 3) -> FixedPoints:
    """Fixed points (q < q_tol) and slow points (q_tol <= q < slow_tol) reached from initial_states (n, N).

    u (n_in,) is the constant input; q = 0.5 ||F(x) - x||^2 on the map. Adam
    (max_iters steps at most, learning rate lr), then Newton refinement unless
    newton=False; duplicates within unique_tol (absolute, Euclidean) merged
    keeping the lowest q. Distances are then measured in units of the mean
    distance of the initial states from the centroid of `visited` (default: of
    the initial states): points beyond outlier_factor of these units from the
    centroid are dropped, and so are slow points within slow_exclusion of them
    from a fixed point (such points are merely on their way into it; 0 keeps
    them). Points come sorted by kind (fixed first), then by q.
    """
    u, x0, visited = _check_inputs(params, cfg, u, initial_states, visited)
    for name, v in (("q_tol", q_tol), ("slow_tol", slow_tol), ("unique_tol", unique_tol),
                    ("outlier_factor", outlier_factor), ("lr", lr)):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    if slow_tol < q_tol:
        raise ValueError(f"slow_tol ({slow_tol}) must be >= q_tol ({q_tol})")
    if not np.isfinite(slow_exclusion) or slow_exclusion < 0:
        raise ValueError(f"slow_exclusion must be a finite number >= 0, got {slow_exclusion!r}")
    if not isinstance(max_iters, (int, np.integer)) or isinstance(max_iters, bool) or max_iters < 0:
        raise ValueError(f"max_iters must be an int >= 0, got {max_iters!r}")
    if not isinstance(n_dominant, (int, np.integer)) or n_dominant < 1:
        raise ValueError(f"n_dominant must be an int >= 1, got {n_dominant!r}")

    x, q, iters = minimise_speed(params, cfg, u, x0, max_iters=max_iters, lr=lr, q_tol=q_tol)
    info = {"n_initial": x0.shape[0], "adam_iters": iters}
    keep = np.flatnonzero(np.isfinite(q))
    keep = keep[unique_points(x[keep], q[keep], unique_tol)]
    x, q = x[keep], q[keep]
    if newton and x.shape[0]:
        x, q = _polish(params, cfg, u, x, q, q_tol, slow_tol, unique_tol)
    good = q < slow_tol
    x, q = x[good], q[good]
    keep = unique_points(x, q, unique_tol)
    x, q = x[keep], q[keep]
    centroid, scale = reference_scale(x0, visited)
    inl = np.linalg.norm(x - centroid, axis=1) <= outlier_factor * scale
    info["n_outliers"] = int(np.sum(~inl))
    x, q = x[inl], q[inl]
    fixed = q < q_tol
    near = ~fixed & near_fixed_mask(x, x[fixed], slow_exclusion * scale)
    info["n_slow_excluded"] = int(np.sum(near))
    x, q, fixed = x[~near], q[~near], fixed[~near]
    kind = np.where(fixed, "fixed", "slow").astype(object)
    order = np.lexsort((q, ~fixed))
    return describe(params, cfg, u, x[order], q[order], kind[order], n_dominant=n_dominant, info=info)

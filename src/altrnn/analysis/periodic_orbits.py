"""Periodic orbits (limit cycles) of a smooth network under a constant input.

The noise-free map F (`stability.rnn_map`) is iterated from states the network
visited until transients die out; a state x_0 to which its trajectory comes
back (first_return) marks a recurrent orbit whose period, rounded to whole
steps, is k (2 <= k <= max_steps + 1). It is refined by Levenberg-Marquardt on
G(x) = F^k(x) - x with the exact Jacobian dG/dx = M - I, M = J(x_{k-1}) ...
J(x_0) the product of the map's Jacobians along the orbit (the monodromy
matrix).

With a = dt/tau < 1 the map discretises a flow, and an attracting limit cycle
of that flow is an invariant closed curve of the map on which it turns by a
non-integer number of steps per revolution. Such an orbit closes only up to a
phase slip: it is a `near_cycle`, listed as the recorded orbit x_0..x_{k-1}
(on the attractor), with q = 0.5 ||F^k(x_0) - x_0||^2 and its period in steps
period_steps, the step at which the trajectory, interpolated between steps,
passes x_0 again. An orbit that refines to
q < q_tol is an exact periodic orbit of the map, a `cycle`, with period_steps = k.

Floquet multipliers are the eigenvalues of M. For a flow-like cycle one of
them is close to 1, with its eigenvector along the orbit: a shift of phase,
neither growing nor decaying. That phase multiplier (the one nearest 1, if
within phase_tol of 1 and its eigenvector within 25 degrees of x_1 - x_0) is
reported but left out of the stability class, which the other multipliers
decide as for fixed points (stability.classify's tolerance). A near cycle
does not close, so M there maps the tangent at x_0 to that at x_k, a fraction
of a step off, and its eigenvalues mix phase and speed. Its multipliers are
instead those of a section through x_0 across the orbit, as for a flow's
Poincare map: (I - f n^T / n.f) M with n = x_1 - x_0 and f = x_{k+1} - x_k,
whose zero eigenvalue (along the orbit) is reported as the phase multiplier 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model.network import ModelConfig, Params
from .fixed_points import TABLE_COLUMNS
from .stability import jacobian, rnn_map

CYCLE_KINDS = ("cycle", "near_cycle")


def trajectory(params: Params, cfg: ModelConfig, u, x0, n_steps: int) -> np.ndarray:
    """States (n_steps + 1, B, N) of the noise-free map from x0 (B, N), in float64."""
    X = [np.asarray(x0, dtype=np.float64)]
    for _ in range(n_steps):
        X.append(rnn_map(params, cfg, X[-1], u))
    return np.stack(X)


def monodromy(params: Params, cfg: ModelConfig, u, x0, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The orbit x_0..x_k (k + 1, N) from x0 and the product Jacobian M = J(x_{k-1}) ... J(x_0) of F^k at x0."""
    orbit = trajectory(params, cfg, u, np.asarray(x0, dtype=np.float64)[None], k)[:, 0]
    M = np.eye(orbit.shape[1])
    for x in orbit[:-1]:
        M = jacobian(params, cfg, x) @ M
    return orbit, M


def first_return(traj, max_steps: int, return_tol: float, min_spread: float):
    """Per trajectory (T, B, N), T >= max_steps + 2: when it first comes back to its first state x_0.

    Between steps j - 1 and j + 1 the trajectory is taken as the parabola
    through x_{j-1}, x_j, x_{j+1}, p(j + s) for |s| <= 1/2; it returns at
    step j + s when p passes within return_tol x spread of x_0 (spread: root
    mean square distance of x_0..x_max_steps from their mean), once it has
    left x_0. An orbit turning by a non-integer number of steps per revolution
    is so caught on its first revolution. Orbits with spread < min_spread
    (fixed points) do not return. Returns (k (B,), the return step rounded,
    0 if none; period (B,), j + s, NaN if none; ||x_k - x_0|| / spread (B,),
    inf if none).
    """
    window = traj[: max_steps + 2]
    spread = np.sqrt(np.mean(np.sum((window[:-1] - window[:-1].mean(axis=0)) ** 2, axis=2), axis=0))
    s = np.linspace(-0.5, 0.5, 101)
    B = traj.shape[1]
    ks, periods, mismatch = np.zeros(B, dtype=np.int64), np.full(B, np.nan), np.full(B, np.inf)
    for b in np.flatnonzero(spread >= min_spread):
        x, tol = window[:, b], return_tol * spread[b]
        dist = np.linalg.norm(x[1:] - x[0], axis=1)  # steps 1..max_steps + 1
        left = 1 + int(np.argmax(dist > tol))
        if dist[left - 1] <= tol:
            continue  # never leaves x_0
        chord = np.linalg.norm(x[2:] - x[1:-1], axis=1)  # step j -> j + 1, j = 1..max_steps
        for j in range(left, max_steps + 1):
            if dist[j - 1] > tol + max(chord[j - 1], chord[j - 2] if j >= 2 else 0.0):
                continue  # too far for the parabola around x_j to reach x_0
            vel, acc = 0.5 * (x[j + 1] - x[j - 1]), x[j + 1] - 2 * x[j] + x[j - 1]
            curve = x[j] + s[:, None] * vel + 0.5 * (s ** 2)[:, None] * acc
            d = np.linalg.norm(curve - x[0], axis=1)
            if d.min() < tol:
                period = j + s[np.argmin(d)]
                k = max(2, int(np.rint(period)))
                ks[b], periods[b] = k, period
                mismatch[b] = np.linalg.norm(x[k] - x[0]) / spread[b]
                break
    return ks, periods, mismatch


def refine(params: Params, cfg: ModelConfig, u, x0, k: int, max_iters: int = 30, q_stop: float = 1e-28):
    """Levenberg-Marquardt on G(x) = F^k(x) - x from x0; returns (x, q = 0.5 ||G(x)||^2).

    Steps solve (A^T A + mu I) dx = -A^T G with A = M - I; mu falls after a
    step that lowers q and rises otherwise, so the near-singular phase
    direction of a flow-like orbit cannot throw the search off.
    """
    x = np.asarray(x0, dtype=np.float64).copy()
    orbit, M = monodromy(params, cfg, u, x, k)
    g = orbit[-1] - x
    q = 0.5 * float(g @ g)
    mu = 1e-3
    eye = np.eye(x.size)
    for _ in range(max_iters):
        if q < q_stop:
            break
        A = M - eye
        try:
            dx = np.linalg.solve(A.T @ A + mu * eye, -A.T @ g)
        except np.linalg.LinAlgError:
            break
        orbit_t, M_t = monodromy(params, cfg, u, x + dx, k)
        g_t = orbit_t[-1] - (x + dx)
        q_t = 0.5 * float(g_t @ g_t)
        if np.isfinite(q_t) and q_t < q:
            x, g, q, M, mu = x + dx, g_t, q_t, M_t, max(mu / 10, 1e-12)
        else:
            mu *= 10
            if mu > 1e8:
                break
    return x, q


def floquet(M, step, step_end=None, phase_tol: float = 0.05, marginal_tol: float = 1e-3):
    """Multipliers sorted by decreasing modulus, the index of the phase multiplier (-1 if none), the
    stability class of the others and how many of them lie outside the unit circle (see the module notes).

    step = x_1 - x_0. Without step_end (an exact cycle) the multipliers are the eigenvalues of M.
    With step_end = x_{k+1} - x_k (a near cycle) they are those of the section map
    (I - f n^T / n.f) M, n = step, f = step_end, whose zero eigenvalue stands for the phase and is
    reported as 1.
    """
    M = np.asarray(M, dtype=np.float64)
    if step_end is not None:
        M = M - np.outer(step_end, step @ M) / (step @ step_end)
    vals, vecs = np.linalg.eig(M)
    order = np.argsort(-np.abs(vals), kind="stable")
    vals, vecs = vals[order], vecs[:, order]
    if step_end is not None:
        phase = int(np.argmin(np.abs(vals)))
        vals[phase] = 1.0
        order = np.argsort(-np.abs(vals), kind="stable")
        vals, phase = vals[order], int(np.flatnonzero(order == phase)[0])
    else:
        near = int(np.argmin(np.abs(vals - 1)))
        v = vecs[:, near]
        cos = abs(np.vdot(v, step)) / (np.linalg.norm(v) * np.linalg.norm(step) + 1e-300)
        phase = near if abs(vals[near] - 1) < phase_tol and cos > np.cos(np.radians(25)) else -1
    others = np.abs(np.delete(vals, phase) if phase >= 0 else vals)
    n_unstable = int(np.sum(others > 1 + marginal_tol))
    if n_unstable == 0:
        kind = "marginal" if np.any(others >= 1 - marginal_tol) else "stable"
    else:
        kind = "unstable" if n_unstable == others.size else "saddle"
    return vals, phase, kind, n_unstable


@dataclass
class Cycles:
    """Periodic orbits of one network under one input, one row each.

    orbits: list of (k, N) orbit points; kind "cycle" (exact) or "near_cycle";
    q (K,) 0.5 ||F^k(x_0) - x_0||^2; period_steps (K,) the period in steps
    (non-integer for near cycles); multipliers (K, N) complex, by decreasing
    modulus; phase (K,) index of the phase multiplier in its row (-1 if none);
    stability, n_unstable as for fixed points (the phase multiplier left out).
    """

    orbits: list = field(default_factory=list)
    kind: list = field(default_factory=list)
    q: list = field(default_factory=list)
    period_steps: list = field(default_factory=list)
    multipliers: list = field(default_factory=list)
    phase: list = field(default_factory=list)
    stability: list = field(default_factory=list)
    n_unstable: list = field(default_factory=list)
    n: int = 0

    def __len__(self) -> int:
        return len(self.orbits)

    @property
    def periods(self) -> np.ndarray:
        return np.array([len(o) for o in self.orbits], dtype=np.int64)

    def table(self) -> pd.DataFrame:
        """One row per orbit with the fixed-point columns (fixed_points.TABLE_COLUMNS); the leading
        multiplier is the largest one apart from the phase multiplier."""
        rows = []
        for i in range(len(self)):
            mult = self.multipliers[i]
            lead = mult[0 if self.phase[i] != 0 else min(1, mult.size - 1)]
            rows.append({"point": i, "kind": self.kind[i], "period": len(self.orbits[i]), "q": self.q[i],
                         "stability": self.stability[i], "n_unstable": self.n_unstable[i],
                         "spiral": bool(abs(lead.imag) > 1e-12), "max_modulus": float(abs(lead)),
                         "eig_real": float(lead.real), "eig_imag": float(lead.imag)})
        table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
        return table.astype({"point": np.int64, "kind": object, "period": np.int64, "q": float, "stability": object,
                             "n_unstable": np.int64, "spiral": bool, "max_modulus": float, "eig_real": float,
                             "eig_imag": float})

    def arrays(self) -> dict:
        """x (K, N) first orbit points, period (K,), period_steps (K,), q (K,), eigvals (K, N) the
        multipliers, phase (K,), orbit (P, N) every orbit point, orbit_point (P,) its row."""
        N, K = self.n, len(self)
        return {
            "x": np.array([o[0] for o in self.orbits]).reshape(K, N),
            "period": self.periods,
            "period_steps": np.asarray(self.period_steps, dtype=np.float64),
            "q": np.asarray(self.q, dtype=np.float64),
            "eigvals": np.array(self.multipliers, dtype=complex).reshape(K, N),
            "phase": np.asarray(self.phase, dtype=np.int64),
            "orbit": np.concatenate(self.orbits).reshape(-1, N) if K else np.empty((0, N)),
            "orbit_point": np.repeat(np.arange(K), self.periods),
        }


def distance_to_orbit(x, orbit) -> np.ndarray:
    """Euclidean distance of each row of x (B, N) from the closed polygon through the orbit's points (k, N)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    a = np.asarray(orbit, dtype=np.float64)
    d = np.roll(a, -1, axis=0) - a  # segment i: a_i -> a_{i+1}, closing back to a_0
    rel = x[:, None, :] - a[None]  # (B, k, N)
    t = np.clip(np.einsum("bkn,kn->bk", rel, d) / np.maximum(np.sum(d * d, axis=1), 1e-300), 0.0, 1.0)
    return np.min(np.linalg.norm(rel - t[..., None] * d[None], axis=2), axis=1)


def orbit_tolerance(orbit, tol: float) -> float:
    """tol plus how far the polygon through the orbit's points may cut inside the curve they sample
    (a quarter of the largest second difference; about twice the sagitta of a circle)."""
    a = np.asarray(orbit, dtype=np.float64)
    if a.shape[0] < 3:
        return tol
    second = np.roll(a, -1, axis=0) - 2 * a + np.roll(a, 1, axis=0)
    return tol + 0.25 * float(np.max(np.linalg.norm(second, axis=1)))


def find_cycles(params: Params, cfg: ModelConfig, u, initial_states, *, max_steps: int = 400,
                n_transient: int = 2000, return_tol: float = 0.01, q_tol: float = 1e-12, unique_tol: float = 1e-3,
                phase_tol: float = 0.05, max_iters: int = 30) -> Cycles:
    """Periodic orbits with periods 2..max_steps reached from initial_states (B, N) (see the module notes).

    Each state is iterated n_transient steps, then max_steps + 1 more to detect
    its first return (first_return); orbits whose first point lies within unique_tol
    (plus the polygon's sagging, see orbit_tolerance) of one already found,
    at the same period, are the same orbit at another phase. The others are
    refined; one that reaches q < q_tol is an exact cycle, kept by its refined
    orbit (rotated to its lexicographically smallest point), the rest stay
    near cycles on their recorded orbit.
    """
    u = np.asarray(u, dtype=np.float64)
    if u.shape != (cfg.n_in,):
        raise ValueError(f"u must have shape ({cfg.n_in},), got {u.shape}")
    x0 = np.asarray(initial_states, dtype=np.float64)
    if x0.ndim != 2 or x0.shape[1] != cfg.n_rec or not np.all(np.isfinite(x0)):
        raise ValueError(f"initial_states must be finite with shape (B, {cfg.n_rec}), got {x0.shape}")
    for name, v in (("max_steps", max_steps), ("n_transient", n_transient), ("max_iters", max_iters)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < (2 if name == "max_steps" else 0):
            raise ValueError(f"{name} must be an int >= {2 if name == 'max_steps' else 0}, got {v!r}")
    for name, v in (("return_tol", return_tol), ("q_tol", q_tol), ("unique_tol", unique_tol),
                    ("phase_tol", phase_tol)):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")

    N = cfg.n_rec
    start = trajectory(params, cfg, u, x0, n_transient)[-1]
    traj = trajectory(params, cfg, u, start, max_steps + 1)
    ks, periods, mismatch = first_return(traj, max_steps, return_tol, min_spread=unique_tol)
    res = Cycles(n=N)
    for b in np.argsort(mismatch, kind="stable"):
        k = int(ks[b])
        if k == 0 or not np.all(np.isfinite(traj[:, b])):
            continue
        if any(len(o) == k and distance_to_orbit(traj[0, b], o)[0] < orbit_tolerance(o, unique_tol)
               for o in res.orbits):
            continue
        x, q = refine(params, cfg, u, traj[0, b], k, max_iters=max_iters)
        if q < q_tol:
            orbit = trajectory(params, cfg, u, x[None], k)[:, 0]
            if any(np.linalg.norm(orbit[j] - orbit[0]) < unique_tol for j in range(1, k) if k % j == 0):
                continue  # a shorter orbit, or a fixed point, met k times
            first = min(range(k), key=lambda j: tuple(np.round(orbit[j], 9)))
            orbit = np.roll(orbit[:k], -first, axis=0)
            kind, period_steps = "cycle", float(k)
        else:
            orbit, period_steps = traj[: k + 1, b], float(periods[b])
            kind = "near_cycle"
        if any(distance_to_orbit(orbit[0], o)[0] < orbit_tolerance(o, unique_tol) for o in res.orbits):
            continue  # refined onto an orbit already found
        closed, M = monodromy(params, cfg, u, orbit[0], k)
        step_end = rnn_map(params, cfg, closed[k], u) - closed[k] if kind == "near_cycle" else None
        vals, phase, stability, n_unstable = floquet(M, closed[1] - closed[0], step_end, phase_tol)
        res.orbits.append(orbit[:k])
        res.kind.append(kind)
        res.q.append(0.5 * float(np.sum((closed[k] - closed[0]) ** 2)))
        res.period_steps.append(period_steps)
        res.multipliers.append(vals)
        res.phase.append(phase)
        res.stability.append(stability)
        res.n_unstable.append(n_unstable)
    return res

"""Heteroclinic skeleton of a smooth network: where the unstable manifolds of its saddles lead.

For every saddle among the fixed points (kind "fixed", stability "saddle";
slow points are not fixed points and have no unstable manifold), the
noise-free map is iterated from x* + s eps v, s = +-1, for every unstable
direction v: the eigenvector of each real unstable eigenvalue, and the real
and imaginary parts of that of each complex pair (one pair gives two
directions). Directions are unit vectors, so eps is a Euclidean distance.
A branch ends when it comes within `tol` of an attractor (by default every
stable fixed point), or of a cycle's orbit (`cycles`, e.g. from
periodic_orbits.find_cycles: within tol of the polygon through its points,
plus that polygon's sagging), when it stalls elsewhere (it reached a fixed
point not in the list), or after max_steps; `reaches` is the index of the
attractor in the FixedPoints, or len(points) + j for cycle j, -1 if none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.network import ModelConfig, Params
from .fixed_points import FixedPoints
from .periodic_orbits import distance_to_orbit, orbit_tolerance
from .stability import jacobian, rnn_map

TABLE_COLUMNS = ["saddle", "direction", "sign", "reaches", "steps"]


@dataclass
class Skeleton:
    """One row per branch (saddle, direction, sign), with its trajectory.

    x (S, N) holds every branch's states one after the other, from its start
    x* + s eps v (step 0) to its last step; branch (S,) says which row of the
    table each state belongs to and step (S,) its step along that branch.
    eigval (B,) is the unstable eigenvalue each branch's direction belongs to.
    """

    saddle: np.ndarray
    direction: np.ndarray
    sign: np.ndarray
    reaches: np.ndarray
    steps: np.ndarray
    eigval: np.ndarray
    x: np.ndarray
    branch: np.ndarray
    step: np.ndarray

    def __len__(self) -> int:
        return self.saddle.shape[0]

    def table(self) -> pd.DataFrame:
        """saddle, direction, sign (+1/-1), reaches (point index, -1 if none), steps."""
        return pd.DataFrame({name: np.asarray(getattr(self, name), dtype=np.int64) for name in TABLE_COLUMNS},
                            columns=TABLE_COLUMNS)

    def arrays(self) -> dict:
        """x (S, N) concatenated trajectories, branch (S,) table row, step (S,) step along it."""
        return {"x": self.x, "branch": self.branch, "step": self.step}

    def trajectory(self, row: int) -> np.ndarray:
        """The states (steps + 1, N) of one branch."""
        return self.x[self.branch == row]


def unstable_directions(J, marginal_tol: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """Unit unstable directions (k, N) of the Jacobian J and the eigenvalue each comes from.

    Eigenvalues with modulus > 1 + marginal_tol (as in stability.classify), by
    decreasing modulus; a complex pair contributes the real and the imaginary
    part of its eigenvector.
    """
    vals, vecs = np.linalg.eig(np.asarray(J, dtype=np.float64))
    order = np.argsort(-np.abs(vals), kind="stable")
    vals, vecs = vals[order], vecs[:, order]
    dirs, lams = [], []
    for k in np.flatnonzero(np.abs(vals) > 1 + marginal_tol):
        lam, v = vals[k], vecs[:, k]
        if lam.imag == 0:
            parts = [v.real]
        elif lam.imag > 0:
            parts = [v.real, v.imag]
        else:
            continue  # the conjugate of a pair already taken
        for p in parts:
            dirs.append(p / np.linalg.norm(p))
            lams.append(lam)
    N = vals.shape[0]
    return np.asarray(dirs, dtype=np.float64).reshape(-1, N), np.asarray(lams, dtype=complex)


def unstable_manifolds(params: Params, cfg: ModelConfig, u, points: FixedPoints, eps: float = 1e-3,
                       max_steps: int = 2000, tol: float = 1e-3, attractors=None,
                       stall_speed: float = 1e-12, cycles=(), check_every: int = 10) -> Skeleton:
    """Follow both branches of every unstable direction of every saddle until they reach an attractor.

    attractors: indices into `points` of the states that count as destinations
    (default: the stable fixed points). A branch stops within tol (Euclidean)
    of one of them, or when its step ||F(x) - x|| falls below stall_speed away
    from all of them (reaches -1), or after max_steps (reaches -1). cycles: orbits (k, N) each; a
    branch within tol (plus the polygon's sagging) of cycle j's orbit stops with reaches =
    len(points) + j (checked every check_every steps).
    """
    if not isinstance(points, FixedPoints):
        raise TypeError("points must be a FixedPoints (from find_fixed_points)")
    u = np.asarray(u, dtype=np.float64)
    if u.shape != (cfg.n_in,):
        raise ValueError(f"u must have shape ({cfg.n_in},), got {u.shape}")
    for name, v in (("eps", eps), ("tol", tol), ("stall_speed", stall_speed)):
        if not np.isfinite(v) or v <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")
    if not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    fixed = points.kind == "fixed"
    if attractors is None:
        attractors = np.flatnonzero(fixed & (points.stability == "stable"))
    attractors = np.asarray(attractors, dtype=np.intp).reshape(-1)
    if attractors.size and (attractors.min() < 0 or attractors.max() >= len(points)):
        raise ValueError(f"attractors must index the {len(points)} points, got {attractors.tolist()}")
    targets = points.x[attractors]
    cycles = [np.asarray(o, dtype=np.float64).reshape(-1, cfg.n_rec) for o in cycles]
    cycle_tols = [orbit_tolerance(o, tol) for o in cycles]

    saddle, direction, sign, eigval, starts = [], [], [], [], []
    for k in np.flatnonzero(fixed & (points.stability == "saddle")):
        dirs, lams = unstable_directions(jacobian(params, cfg, points.x[k]))
        for d, (v, lam) in enumerate(zip(dirs, lams)):
            for s in (1, -1):
                saddle.append(k), direction.append(d), sign.append(s), eigval.append(lam)
                starts.append(points.x[k] + s * eps * v)
    B, N = len(starts), cfg.n_rec
    reaches = np.full(B, -1, dtype=np.int64)
    steps = np.zeros(B, dtype=np.int64)
    chunks_x, chunks_b, chunks_t = [], [], []
    X = np.asarray(starts, dtype=np.float64).reshape(B, N)
    live = np.arange(B)
    for t in range(max_steps + 1):
        chunks_x.append(X), chunks_b.append(live), chunks_t.append(np.full(live.size, t))
        steps[live] = t
        done = np.zeros(live.size, dtype=bool)
        if targets.shape[0]:
            dist = np.linalg.norm(X[:, None, :] - targets[None], axis=2)
            near = dist.min(axis=1) < tol
            reaches[live[near]] = attractors[dist[near].argmin(axis=1)]
            done |= near
        if cycles and t % check_every == 0:
            for j, (orbit, ctol) in enumerate(zip(cycles, cycle_tols)):
                near = ~done & (distance_to_orbit(X, orbit) < ctol)
                reaches[live[near]] = len(points) + j
                done |= near
        if t == max_steps:
            break
        X_next = rnn_map(params, cfg, X, u)
        done |= np.linalg.norm(X_next - X, axis=1) < stall_speed
        live, X = live[~done], X_next[~done]
        if not live.size:
            break
    x = np.concatenate(chunks_x) if chunks_x else np.empty((0, N))
    branch = np.concatenate(chunks_b).astype(np.int64)
    step = np.concatenate(chunks_t).astype(np.int64)
    order = np.lexsort((step, branch))
    return Skeleton(saddle=np.asarray(saddle, dtype=np.int64), direction=np.asarray(direction, dtype=np.int64),
                    sign=np.asarray(sign, dtype=np.int64), reaches=reaches, steps=steps,
                    eigval=np.asarray(eigval, dtype=complex), x=x[order].reshape(-1, N), branch=branch[order],
                    step=step[order])

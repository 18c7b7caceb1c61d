"""Homoclinic and heteroclinic intersections of computed stable and unstable manifolds (ReLU networks).

Both manifolds are unions of affine pieces per linear region (`manifolds_nd`),
so two pieces of one region meet where their affine subspaces do, within that
region: the points p_u + V_u a of the unstable piece that satisfy the stable
piece's equations Q_s^T (x - p_s) = 0, a small linear system solved exactly
(least squares, accepted when its residual is at rounding level). A point on the
unstable manifold of orbit A and the stable manifold of orbit B is homoclinic
(A = B, apart from the orbit itself) or heteroclinic (A != B). Transversal
homoclinic points of a map certify chaos (Smale-Birkhoff); for
non-invertible maps a homoclinic orbit through a fold (snap-back repeller)
does too (Marotto). When the two subspaces share a direction the intersection
is a line or more; a point of it inside the region is found by a small linear
program that keeps away from the region's boundaries.

Each intersection is checked independently: its forward orbit under F must
approach B's orbit (`approach`, the smallest distance over `n_check` steps;
`verified` when it comes within verify_tol). A meeting of the subspaces outside
the part of a piece that really belongs to the manifold (a piece is exact only
where its points follow the itinerary it was built along) fails this check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.optimize

from .manifolds_nd import ManifoldND, Piece
from .plrnn import PLSystem, in_regions

COLUMNS = ["kind", "unstable", "stable", "piece_unstable", "piece_stable", "dimension", "distance_to_orbit",
           "approach", "verified"]


def _meet(u: Piece, s: Piece, tol: float, n_switch: int | None = None):
    """A point where the two pieces' subspaces meet inside their (shared) region, and the dimension
    of the meeting set; None when they do not meet there."""
    # points p_u + V_u a of the unstable piece that satisfy the stable piece's equations Q_s^T (x - p_s) = 0
    V, Q = u.basis, s.normals
    G = Q.T @ V
    rhs = Q.T @ (s.point - u.point)
    scale = max(1.0, float(np.abs(u.point).max()), float(np.abs(s.point).max()))
    a = np.linalg.lstsq(G, rhs, rcond=None)[0] if G.size else np.zeros(V.shape[1])
    if np.linalg.norm(G @ a - rhs) > tol * scale:
        return None
    q = u.point + V @ a
    if V.shape[1] and G.size:
        _, sv, vt = np.linalg.svd(G)
        rank = int(np.sum(sv > 1e-10 * max(1.0, sv[0])))
        D = V @ vt[rank:].T  # directions of the meeting set (orthonormal: V and vt are)
    else:
        D = V
    if D.shape[1] == 0:
        return (q, 0) if in_regions(q, u.region, tol, n_switch) else None
    # largest margin r with sgn_i (q + D w)_i >= r inside the region (switching units), bounded |w| <= 10 scale
    P = len(q) if n_switch is None else n_switch
    sgn = np.where(u.region, 1.0, -1.0)[:P]
    q_s, D_s = q[:P], D[:P]
    m = D.shape[1]
    A_ub = np.concatenate([-(sgn[:, None] * D_s), np.ones((P, 1))], axis=1)
    b_ub = sgn * q_s
    res = scipy.optimize.linprog(np.r_[np.zeros(m), -1.0], A_ub=A_ub, b_ub=b_ub,
                                 bounds=[(-10 * scale, 10 * scale)] * m + [(None, scale)], method="highs")
    if res.status != 0 or res.x[-1] < -tol * scale:
        return None
    return q + D @ res.x[:m], m


def find_intersections(system: PLSystem, unstable: list[ManifoldND], stable: list[ManifoldND],
                       same_orbit=None, tol: float = 1e-9, orbit_tol: float = 1e-6, n_check: int = 200,
                       verify_tol: float = 1e-6):
    """All meetings of pieces of the unstable manifolds with pieces of the stable manifolds.

    same_orbit(i, j) -> whether unstable[i] and stable[j] belong to the same orbit (homoclinic); by
    default when their orbits coincide. Meetings within orbit_tol x max(1, |x|) of that orbit's points
    (the saddle itself, where the local pieces cross) are left out, and a point found twice is listed
    once. Returns (table with COLUMNS,
    points (R, N)); `approach` is min_n dist(F^n(q), stable orbit) over n < n_check, relative to
    max(1, |orbit|).
    """
    if same_orbit is None:
        def same_orbit(i, j):
            a, b = unstable[i].orbit, stable[j].orbit
            return a.shape == b.shape and all(np.min(np.linalg.norm(b - x, axis=1)) < 1e-9 for x in a)
    rows, points = [], []
    for j, S in enumerate(stable):
        by_region = {}
        for ps, p in enumerate(S.pieces):
            by_region.setdefault(p.region.tobytes(), []).append(ps)
        scale = max(1.0, float(np.abs(S.orbit).max()))
        for i, U in enumerate(unstable):
            homo = bool(same_orbit(i, j))
            for pu, p in enumerate(U.pieces):
                for ps in by_region.get(p.region.tobytes(), []):
                    s = S.pieces[ps]
                    if p.dimension + s.dimension == 0:
                        continue
                    hit = _meet(p, s, tol, system.n_switch)
                    if hit is None:
                        continue
                    q, dim = hit
                    if any(r["unstable"] == i and r["stable"] == j and np.linalg.norm(q - x) <= tol * scale
                           for r, x in zip(rows, points)):
                        continue  # the same point, found from another pair of pieces
                    dist = float(np.min(np.linalg.norm(S.orbit - q, axis=1))) / scale
                    if homo and dist <= orbit_tol:
                        continue
                    if not homo and np.min(np.linalg.norm(U.orbit - q, axis=1)) <= orbit_tol * scale:
                        continue
                    x, approach = q.copy(), dist
                    for _ in range(n_check):
                        x = system.step(x)
                        approach = min(approach, float(np.min(np.linalg.norm(S.orbit - x, axis=1))) / scale)
                    rows.append({"kind": "homoclinic" if homo else "heteroclinic", "unstable": i, "stable": j,
                                 "piece_unstable": pu, "piece_stable": ps, "dimension": dim,
                                 "distance_to_orbit": dist, "approach": approach,
                                 "verified": approach <= verify_tol})
                    points.append(q)
    N = system.n
    return pd.DataFrame(rows, columns=COLUMNS), (np.array(points) if points else np.empty((0, N)))

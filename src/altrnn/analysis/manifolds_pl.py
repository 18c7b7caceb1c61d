"""Invariant manifolds and basins of attraction of ReLU networks, exact piece by piece.

The map F(x) = A_d x + c is affine on each linear region d (see `plrnn`), so the
image of a straight segment that stays inside one region is the straight segment
between the images of its ends. A polyline split at every switching hyperplane
x_i = 0 it crosses is therefore mapped exactly by mapping its vertices. This
grows 1-D unstable manifolds forward from a saddle and, with the local inverses
A_d^{-1} (y - c), 1-D stable manifolds backward, both as exact polylines (up to
rounding) rather than as sampled trajectories.

Supported: unstable manifolds of fixed points and cycles with exactly one
unstable eigenvalue (|lambda| > 1) of the (product) Jacobian; stable manifolds of
fixed points and cycles with exactly one stable eigenvalue (|lambda| < 1), which
covers every saddle of a 2-D map. Higher-dimensional stable manifolds are not
computed. Both branches are returned, ordered from the saddle outward.

`basin_map` labels a grid of initial conditions on a 2-D plane by the attractor
its forward orbit reaches; `basin_volumes` gives the share of a sample of states
(e.g. the visited ones) that each attractor captures.
Manifolds of any dimension are in `manifolds_nd`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.network import ModelConfig, Params
from .plrnn import PLResult, PLSystem, pl_system


@dataclass
class Manifold:
    """Both branches of a 1-D invariant manifold as polylines (M_i, N), starting at the saddle.

    kind: "unstable" or "stable"; eigval: the eigenvalue of the (product) Jacobian along it;
    direction: its unit eigenvector; stopped: why each branch stopped ("iterations", "length",
    "points", "diverged", "converged", "fold", "singular" or "switches").
    """

    kind: str
    x: np.ndarray
    period: int
    eigval: float
    direction: np.ndarray
    branches: list
    stopped: list


# ----------------------------------------------------------------------------------------------------------
# exact images and preimages of polylines


def split_at_boundaries(P) -> np.ndarray:
    """Insert into the polyline P (M, N) every point where a segment crosses a hyperplane x_i = 0.

    The inserted points have x_i set to exactly 0; afterwards every segment lies in one closed region.
    """
    P = np.asarray(P, dtype=np.float64)
    a, b = P[:-1], P[1:]
    seg, unit = np.nonzero((a > 0) != (b > 0))
    if seg.size == 0:
        return P
    t = a[seg, unit] / (a[seg, unit] - b[seg, unit])
    order = np.lexsort((t, seg))
    seg, unit, t = seg[order], unit[order], t[order]
    # crossings of several hyperplanes at one point (e.g. through a corner) become one point
    first = np.ones(len(seg), dtype=bool)
    first[1:] = (seg[1:] != seg[:-1]) | (t[1:] - t[:-1] > 1e-12)
    group = np.cumsum(first) - 1
    pts = a[seg[first]] + t[first][:, None] * (b[seg[first]] - a[seg[first]])
    pts[group, unit] = 0.0
    return np.insert(P, seg[first] + 1, pts, axis=0)


def refine(P, max_segment: float | None) -> np.ndarray:
    """Subdivide segments longer than max_segment into equal parts (exact for a piecewise-linear curve)."""
    if max_segment is None or len(P) < 2:
        return P
    lengths = np.linalg.norm(np.diff(P, axis=0), axis=1)
    parts = np.maximum(1, np.ceil(lengths / max_segment).astype(int))
    if np.all(parts == 1):
        return P
    out = [P[:1]]
    for i in range(len(P) - 1):
        s = np.arange(1, parts[i] + 1)[:, None] / parts[i]
        out.append(P[i] + s * (P[i + 1] - P[i]))
    return np.concatenate(out)


def image(system: PLSystem, P) -> np.ndarray:
    """The exact image F(P) of a polyline: split at the switching hyperplanes, then map the vertices."""
    return system.step(split_at_boundaries(P))


def preimage(system: PLSystem, P, start, tol: float = 1e-12, max_switches: int = 10_000):
    """The branch of F^-1(P) through `start`, a known preimage of P[0], as an exact polyline.

    Walks along P; in region d the preimage of P[0] + t (P[1] - P[0]) is linear in t,
    x(t) = A_d^{-1} (y(t) - c). Where x(t) reaches a hyperplane x_i = 0 the walk switches to the
    neighbouring region; since F is continuous both regions give the same point there. Returns
    (Q, status): status is "ok", "fold" (the neighbouring region maps back the way it came: F is
    not locally invertible and the branch ends), "singular" (A_d not invertible) or "switches"
    (more than max_switches region changes). Q then holds the part computed so far.
    """
    P = np.asarray(P, dtype=np.float64)
    x = np.asarray(start, dtype=np.float64).copy()
    d = x > 0
    out = [x.copy()]
    inv = {}

    def A_inv(d):
        key = d.tobytes()
        if key not in inv:
            A = system.A(d)
            inv[key] = None if abs(np.linalg.det(A)) < 1e-12 else np.linalg.inv(A)
        return inv[key]

    switches = 0
    for j in range(len(P) - 1):
        t, t_out = 0.0, 0.0
        while True:
            Ai = A_inv(d)
            if Ai is None:
                return np.array(out), "singular"
            dx = Ai @ (P[j + 1] - P[j])  # dx/dt in region d
            # time to leave d: active units falling to 0, inactive units rising above 0
            leave = np.where(d, dx < 0, dx > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                t_hit = np.where(leave, t + np.where(d, x / -dx, -x / dx), np.inf)
            t_hit = np.maximum(t_hit, t)
            i = int(np.argmin(t_hit))
            if t_hit[i] >= 1.0:
                x = x + (1.0 - t) * dx
                out.append(x.copy())
                break
            x = x + (t_hit[i] - t) * dx
            x[i] = 0.0
            t = t_hit[i]
            d = d.copy()
            d[i] = not d[i]
            switches += 1
            if switches > max_switches:
                return np.array(out), "switches"
            Ai = A_inv(d)
            if Ai is None:
                return np.array(out), "singular"
            dx_new = Ai @ (P[j + 1] - P[j])
            into = dx_new[i] if d[i] else -dx_new[i]  # > 0: the walk enters the new region
            if into <= tol * np.abs(dx_new).max():
                return np.array(out), "fold"
            if t > t_out + 1e-12:
                out.append(x.copy())
                t_out = t
            else:  # a second hyperplane at the same point (a corner): update that point
                out[-1] = x.copy()
    return np.array(out), "ok"


# ----------------------------------------------------------------------------------------------------------
# manifolds of saddles


def _orbit_and_jacobian(system: PLSystem, x, period: int):
    if not isinstance(period, (int, np.integer)) or period < 1:
        raise ValueError(f"period must be a positive integer, got {period!r}")
    if np.shape(x) != (system.n,):
        raise ValueError(f"x must have shape ({system.n},), got {np.shape(x)}")
    orbit = [np.asarray(x, dtype=np.float64)]
    for _ in range(period - 1):
        orbit.append(system.step(orbit[-1]))
    orbit = np.array(orbit)
    back = system.step(orbit[-1])
    scale = max(1.0, float(np.abs(orbit).max()))
    if np.linalg.norm(back - orbit[0]) > 1e-8 * scale:
        raise ValueError(f"x is not a point of a {period}-cycle: |F^{period}(x) - x| = "
                         f"{np.linalg.norm(back - orbit[0]):.3g}")
    M = np.eye(system.n)
    for o in orbit:
        M = system.A(o > 0) @ M
    return orbit, M


def _eigendirection(M, which: str):
    vals, vecs = np.linalg.eig(M)
    mod = np.abs(vals)
    sel = np.flatnonzero(mod > 1 + 1e-9) if which == "unstable" else np.flatnonzero(mod < 1 - 1e-9)
    if len(sel) != 1:
        raise ValueError(f"a 1-D {which} manifold needs exactly one {which} eigenvalue of the (product) Jacobian, "
                         f"found {len(sel)} (largest |eigenvalue| {mod.max():.4g}, smallest {mod.min():.4g})")
    lam = vals[sel[0]]
    v = vecs[:, sel[0]]
    if abs(lam.imag) > 1e-12:  # a lone eigenvalue of a real matrix is real
        raise ValueError(f"the {which} eigenvalue is complex ({lam})")
    v = np.real(v)
    return float(lam.real), v / np.linalg.norm(v)


def _first_step_eps(system: PLSystem, orbit, v, lam, eps, steps: int):
    """Shrink eps until x + eps v and its orbit under the local maps stay in the saddle orbit's regions."""
    regions = orbit > 0
    k = len(orbit)
    for _ in range(60):
        ok = True
        for sign in (1, -1):
            p = orbit[0] + sign * eps * v
            for n in range(steps):
                if not np.array_equal(p > 0, regions[n % k]):
                    ok = False
                    break
                p = system.step(p)
            ok &= np.allclose(p, orbit[0] + sign * eps * (lam ** (steps // k)) * v, rtol=0,
                              atol=1e-9 * eps + 1e-13)
        margin = np.min(np.abs(orbit[np.abs(orbit) > 0])) if np.any(orbit) else np.inf
        if ok and eps * max(abs(lam), 1 / max(abs(lam), 1e-300)) ** 2 < margin:
            return eps
        eps /= 2
    raise ValueError("x lies on a switching boundary; its manifold is not that of one linear region")


def unstable_manifold(params: Params, cfg: ModelConfig, u, x, period: int = 1, eps: float = 1e-6,
                      n_iter: int = 200, max_length: float = 1e3, max_points: int = 100_000,
                      max_segment: float | None = None, max_norm: float = 1e6, converged: float = 1e-10) -> Manifold:
    """The 1-D unstable manifold of the fixed point or period-`period` cycle point x.

    Each branch starts with the fundamental segment [x + eps v, G(x + eps v)], G = F^period
    (F^(2 period) when the eigenvalue is negative, so the branch keeps its side), and grows by
    mapping the last piece exactly through G. Stops after n_iter pieces, when the branch is
    longer than max_length, holds more than max_points points, leaves |x| < max_norm, or when a
    piece is shorter than `converged` (the branch has reached an attractor).
    max_segment: subdivide longer segments (only for a denser curve; the result is exact anyway).
    """
    system = pl_system(params, cfg, u)
    orbit, M = _orbit_and_jacobian(system, x, period)
    lam, v = _eigendirection(M, "unstable")
    steps = period * (2 if lam < 0 else 1)
    eps = _first_step_eps(system, orbit, v, lam, eps, steps)
    branches, stopped = [], []
    for sign in (1, -1):
        piece = np.array([orbit[0] + sign * eps * v])
        p1 = piece[0]
        for _ in range(steps):
            p1 = system.step(p1)
        piece = refine(np.array([piece[0], p1]), max_segment)
        parts, n_pts, length, why = [orbit[:1], piece], len(piece) + 1, 0.0, "iterations"
        for _ in range(n_iter):
            for _ in range(steps):
                piece = image(system, piece)
            piece = refine(piece, max_segment)
            seg = float(np.sum(np.linalg.norm(np.diff(piece, axis=0), axis=1)))
            if not np.all(np.isfinite(piece)) or np.abs(piece).max() > max_norm:
                why = "diverged"
                break
            parts.append(piece[1:])
            n_pts += len(piece) - 1
            length += seg
            if seg < converged:
                why = "converged"
                break
            if length > max_length:
                why = "length"
                break
            if n_pts > max_points:
                why = "points"
                break
        branches.append(np.concatenate(parts))
        stopped.append(why)
    return Manifold("unstable", orbit[0], period, lam, v, branches, stopped)


def stable_manifold(params: Params, cfg: ModelConfig, u, x, period: int = 1, eps: float = 1e-6, n_iter: int = 200,
                    max_length: float = 1e3, max_points: int = 100_000, max_segment: float | None = None,
                    max_norm: float = 1e6) -> Manifold:
    """The 1-D stable manifold of the fixed point or period-`period` cycle point x, by backward iteration.

    Starts from [x + eps v, G^-1(x + eps v)] along the stable eigenvector v (G = F^period, or
    F^(2 period) for a negative eigenvalue) and grows each branch by the exact preimage of its
    last piece (`preimage`), following the branch of F^-1 that continues the curve. A branch
    ends where that branch of F^-1 ends ("fold": the map is not locally invertible there;
    "singular": A_d is not invertible) or at the limits of `unstable_manifold`.
    """
    system = pl_system(params, cfg, u)
    orbit, M = _orbit_and_jacobian(system, x, period)
    mu, v = _eigendirection(M, "stable")
    steps = period * (2 if mu < 0 else 1)
    eps = _first_step_eps(system, orbit, v, mu, eps, steps)
    k = len(orbit)
    branches, stopped = [], []
    for sign in (1, -1):
        p0 = orbit[0] + sign * eps * v
        # the backward chain of p0 through the saddle orbit's regions: F^-1 near orbit[j] is near orbit[j-1]
        chain = [p0]
        for n in range(steps):
            A = system.A(orbit[(-n - 1) % k] > 0)
            try:
                chain.append(np.linalg.solve(A, chain[-1] - system.c))
            except np.linalg.LinAlgError:
                raise ValueError("A_d of a region on the orbit is singular: F has no local inverse there") from None
        piece = refine(np.array([p0, chain[-1]]), max_segment)
        # starts[n]: preimage under F^(n+1) of the current piece's first point, to pick the branch of F^-1
        starts = chain[1:]
        parts, n_pts, length, why = [orbit[:1], piece], len(piece) + 1, 0.0, "iterations"
        for _ in range(n_iter):
            new_starts, cur, status = [], piece, "ok"
            for n in range(steps):
                cur, status = preimage(system, cur, starts[n])
                new_starts.append(cur[-1])
                if status != "ok":
                    break
            if len(cur) > 1 and status == "ok":
                cur = refine(cur, max_segment)
            if not np.all(np.isfinite(cur)) or np.abs(cur).max() > max_norm:
                why = "diverged"
                break
            if status != "ok":  # keep the exact part found before the branch of F^-1 ended
                if n == steps - 1 and len(cur) > 1:
                    parts.append(cur[1:])
                why = status
                break
            parts.append(cur[1:])
            n_pts += len(cur) - 1
            length += float(np.sum(np.linalg.norm(np.diff(cur, axis=0), axis=1)))
            # the next piece starts where this one ends; its preimages start where this one's did end
            starts = [s for s in new_starts]
            piece = cur
            if length > max_length:
                why = "length"
                break
            if n_pts > max_points:
                why = "points"
                break
        branches.append(np.concatenate(parts))
        stopped.append(why)
    return Manifold("stable", orbit[0], period, mu, v, branches, stopped)


# ----------------------------------------------------------------------------------------------------------
# basins of attraction


@dataclass
class Basins:
    """Attractor labels of a grid of initial conditions origin + s1 basis[0] + s2 basis[1].

    labels[j, i] belongs to (s1[i], s2[j]) (rows follow s2, as for imshow with origin="lower"):
    the label of the attractor reached, -1 for none within n_steps or diverged.
    With a PLResult the labels are its `point` indices, with a list of orbits their positions.
    """

    labels: np.ndarray  # (res2, res1) int
    s1: np.ndarray
    s2: np.ndarray
    origin: np.ndarray
    basis: np.ndarray
    attractor_ids: np.ndarray
    steps: np.ndarray  # (res2, res1) steps taken until labelled (n_steps if never)

    def points(self) -> np.ndarray:
        """The grid's initial conditions, (res2, res1, N)."""
        S1, S2 = np.meshgrid(self.s1, self.s2)
        return self.origin + S1[..., None] * self.basis[0] + S2[..., None] * self.basis[1]


def _attractor_orbits(attractors):
    if isinstance(attractors, PLResult):
        table = attractors.table()
        ids = table.loc[table.stability == "stable", "point"].to_numpy(int)
        return [attractors.orbits[i] for i in ids], ids
    orbits = [np.atleast_2d(np.asarray(a, dtype=np.float64)) for a in attractors]
    return orbits, np.arange(len(orbits))


def basin_map(params: Params, cfg: ModelConfig, u, origin, basis, extent, resolution, attractors,
              n_steps: int = 5000, tol: float = 1e-6, check_every: int = 10, max_norm: float = 1e6) -> Basins:
    """Which attractor each point of a grid on a 2-D plane converges to.

    origin (N,), basis (2, N) (e.g. the top-2 principal axes of trajectories), extent
    (s1_min, s1_max, s2_min, s2_max), resolution an int or (res1, res2); attractors a PLResult
    (its stable fixed points and cycles) or a list of orbits (k, N). All grid points are iterated
    together; a point is labelled once it is within tol * max(1, |a|) of a point of attractor a's
    orbit, and -1 if it leaves |x| < max_norm or is not labelled after n_steps.
    """
    system = pl_system(params, cfg, u)
    N = system.n
    origin = np.asarray(origin, dtype=np.float64)
    basis = np.asarray(basis, dtype=np.float64)
    if origin.shape != (N,):
        raise ValueError(f"origin must have shape ({N},), got {origin.shape}")
    if basis.shape != (2, N):
        raise ValueError(f"basis must have shape (2, {N}), got {basis.shape}")
    if len(extent) != 4 or not (extent[0] < extent[1] and extent[2] < extent[3]):
        raise ValueError(f"extent must be (s1_min, s1_max, s2_min, s2_max) with min < max, got {extent}")
    res = (resolution, resolution) if np.isscalar(resolution) else tuple(resolution)
    if len(res) != 2 or min(res) < 1:
        raise ValueError(f"resolution must be a positive int or a pair of them, got {resolution}")
    orbits, ids = _attractor_orbits(attractors)
    if any(o.shape[-1] != N for o in orbits):
        raise ValueError(f"attractor orbits must have {N} columns")
    s1 = np.linspace(extent[0], extent[1], res[0])
    s2 = np.linspace(extent[2], extent[3], res[1])
    out = Basins(labels=np.full((res[1], res[0]), -1), s1=s1, s2=s2, origin=origin, basis=basis,
                 attractor_ids=ids, steps=np.full((res[1], res[0]), n_steps))
    labels, steps = attractor_labels(system, out.points().reshape(-1, N), orbits, ids, n_steps, tol, check_every,
                                     max_norm)
    out.labels[:], out.steps[:] = labels.reshape(out.labels.shape), steps.reshape(out.steps.shape)
    return out


def attractor_labels(system: PLSystem, X, orbits, ids, n_steps: int = 5000, tol: float = 1e-6,
                     check_every: int = 10, max_norm: float = 1e6):
    """The attractor each initial state X (M, N) reaches: (labels (M,), steps (M,)), as in `basin_map`."""
    X = np.asarray(X, dtype=np.float64)
    labels = np.full(len(X), -1)
    steps = np.full(len(X), n_steps)
    active = np.arange(len(X))
    if not orbits:  # nothing to reach
        return labels, steps
    if orbits:
        targets = np.concatenate(orbits)
        owner = np.repeat(ids, [len(o) for o in orbits])
        radius = tol * np.maximum(1.0, np.abs(targets).max(axis=1))
    for step in range(0, n_steps + 1, check_every):
        if orbits and len(active):
            hit = np.stack([np.linalg.norm(X - t, axis=1) <= r for t, r in zip(targets, radius)], axis=1)
            done = hit.any(axis=1)
            labels[active[done]] = owner[np.argmax(hit[done], axis=1)]
            steps[active[done]] = step
            keep = ~done & np.all(np.abs(X) < max_norm, axis=1)
            X, active = X[keep], active[keep]
        if len(active) == 0 or step == n_steps:
            break
        for _ in range(min(check_every, n_steps - step)):
            X = system.step(X)
    return labels, steps


def basin_volumes(params: Params, cfg: ModelConfig, u, states, attractors, **kw):
    """The share of the states (M, N) (e.g. sampled visited states) each attractor captures.

    attractors: a PLResult (its stable points and cycles) or a list of orbits (k, N). Returns
    (ids, shares, labels): ids the attractors' labels as in `basin_map` plus -1 (none reached),
    shares (len(ids),) summing to 1, labels (M,). Keywords as `attractor_labels`.
    """
    system = pl_system(params, cfg, u)
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    if states.shape[1] != system.n:
        raise ValueError(f"states must have shape (M, {system.n}), got {states.shape}")
    orbits, ids = _attractor_orbits(attractors)
    labels, _ = attractor_labels(system, states, orbits, ids, **kw)
    ids = np.append(ids, -1)
    return ids, np.array([np.mean(labels == i) for i in ids]), labels


def boundary_points(system: PLSystem, a, b, orbits, ids, n_bisect: int = 20, **kw):
    """Points on the boundary between two basins, by bisection of the segments [a_i, b_i] (M, N).

    Each pair's ends must reach different attractors (labels as `attractor_labels`, which takes the
    keywords); each bisection keeps the half whose ends still differ. Returns (M, N) midpoints of the
    final segments, 2^-n_bisect of the original length.
    """
    a, b = np.array(a, dtype=np.float64, ndmin=2), np.array(b, dtype=np.float64, ndmin=2)
    la, _ = attractor_labels(system, a, orbits, ids, **kw)
    for _ in range(n_bisect):
        mid = (a + b) / 2
        lm, _ = attractor_labels(system, mid, orbits, ids, **kw)
        same = lm == la
        a[same] = mid[same]
        b[~same] = mid[~same]
    return (a + b) / 2

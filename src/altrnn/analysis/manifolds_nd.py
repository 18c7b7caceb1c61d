"""Stable and unstable manifolds of any dimension of saddles and saddle cycles of ReLU networks.

A semi-analytic construction in the spirit of Eisenmann et al. (2025). The map
F(x) = A_d x + c is affine on each linear region d (see `plrnn`), so inside one
region every part of an invariant manifold is a piece of an affine subspace:

* Near an orbit point x_j of a fixed point or k-cycle the manifold is the exact
  invariant subspace of the product Jacobian M_j (ordered real Schur form:
  |lambda| < 1 stable, |lambda| > 1 unstable), on a ball small enough that the
  orbits of its points stay in the cycle's regions, and beyond it wherever a
  point's orbit (forward, or backward) is checked to stay in those regions.
* Support points sampled on these local pieces are pushed forward through F
  (unstable) or back through the region-wise inverse x = A_d^-1 (y - c), the
  region d of the preimage found by jumping to the sign pattern of the candidate
  (stable). Where a support point lands in a new region the manifold piece there
  is the exact image, or preimage, of the subspace it came from:
  unstable (A_d p + c, span A_d V); stable {x : P_perp (A_d x + c - p) = 0},
  P_perp the projector orthogonal to span V.
* Folds: a region whose A_d is singular (a unit switched off with alpha = 1,
  or otherwise rank deficient) is not invertible. The preimage subspace is still
  exact (it is the null space above, possibly of higher dimension) and the
  image subspace drops dimension; each such step is counted as a fold.

Support points between steps are refilled with convex combinations of points of
the same piece (a piece is convex: an affine subspace within a convex region),
so that the cloud does not thin out as it spreads. The construction is bounded
by the number of steps, pieces and support points, and by a radius around the
orbit. `invariance_error` measures the reconstruction: fresh points of each piece
are mapped forward by F and their distance to the manifold's pieces of the
region they land in is recorded (0 up to rounding for an exact reconstruction).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from .plrnn import PLSystem, in_regions

KINDS = ("stable", "unstable")


def _complement(B):
    """Orthonormal basis (N, N - rank) of the orthogonal complement of the column span of B (N, k)."""
    N = B.shape[0]
    if B.shape[1] == 0:
        return np.eye(N)
    Q, sv, _ = np.linalg.svd(B, full_matrices=True)
    rank = int(np.sum(sv > 1e-10 * max(1.0, sv[0])))
    return Q[:, rank:]


class Piece:
    """One affine piece of a manifold: the subspace point + span(basis) within `region`.

    The subspace is given by an orthonormal basis (N, k) or by orthonormal normals (N, N - k),
    whichever is cheaper to carry (a stable manifold of a saddle with one unstable direction has one
    normal); the other is computed on demand. generation: steps from the local pieces (0).
    """

    def __init__(self, region, point, basis=None, generation: int = 0, fold: bool = False, normals=None):
        if basis is None and normals is None:
            raise ValueError("a piece needs a basis or normals")
        self.region, self.point = np.asarray(region, dtype=bool), np.asarray(point, dtype=np.float64)
        self._basis, self._normals = basis, normals
        self.generation, self.fold = int(generation), bool(fold)

    @property
    def basis(self) -> np.ndarray:
        if self._basis is None:
            self._basis = _complement(self._normals)
        return self._basis

    @property
    def normals(self) -> np.ndarray:
        if self._normals is None:
            self._normals = _complement(self._basis)
        return self._normals

    @property
    def dimension(self) -> int:
        return self._basis.shape[1] if self._basis is not None else len(self.point) - self._normals.shape[1]

    def distance(self, X) -> np.ndarray:
        """Euclidean distance of points X (..., N) to the piece's affine subspace (ignoring the region)."""
        D = np.asarray(X) - self.point
        if self._normals is not None and (self._basis is None or self._normals.shape[1] <= self._basis.shape[1]):
            return np.linalg.norm(D @ self._normals, axis=-1)
        return np.linalg.norm(D - (D @ self._basis) @ self._basis.T, axis=-1)


@dataclass
class ManifoldND:
    """A stable or unstable manifold of a fixed point (period 1) or cycle, as affine pieces per region.

    support (S, N) support points, support_piece (S,) the piece each lies on, support_step (S,) the
    step that produced it (0: sampled on a local piece); links: pairs (i, j) of pieces where F maps
    part of piece i into piece j; folds: steps through a
    non-invertible region; lost: support points without a preimage (stable) or beyond the radius;
    stopped: "steps", "pieces" or "empty" (no support points left to push).
    """

    kind: str
    orbit: np.ndarray
    dimension: int
    eigvals: np.ndarray
    n_switch: int | None = None
    pieces: list = field(default_factory=list)
    support: np.ndarray | None = None
    support_piece: np.ndarray | None = None
    support_step: np.ndarray | None = None
    links: set = field(default_factory=set)
    folds: int = 0
    lost: int = 0
    stopped: str = "steps"

    @property
    def n_regions(self) -> int:
        return len({p.region.tobytes() for p in self.pieces})

    def distance(self, X, regions=None) -> np.ndarray:
        """Distance of points X (M, N) to the manifold: the nearest piece of the point's own region
        (`regions` (M, N) bool, default the sign pattern with the `plrnn` tolerance); inf where no piece is."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        out = np.full(len(X), np.inf)
        for p in self.pieces:
            if regions is None:
                inside = in_regions(X, p.region, 1e-9, self.n_switch)
            else:
                inside = np.all(regions == p.region, axis=1)
            if inside.any():
                out[inside] = np.minimum(out[inside], p.distance(X[inside]))
        return out


# ----------------------------------------------------------------------------------------------------------
# local pieces


def invariant_subspace(M, kind: str, tol: float = 1e-9):
    """Orthonormal basis (N, k) of the stable (|lambda| < 1) or unstable (|lambda| > 1) invariant subspace
    of M, from its ordered real Schur form, those eigenvalues, and normals (N, N - k) (the rest of the
    Schur vectors: an orthonormal basis of the orthogonal complement)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind == "stable":
        def select(re, im):
            return re * re + im * im < (1 - tol) ** 2
    else:
        def select(re, im):
            return re * re + im * im > (1 + tol) ** 2
    T, Z, k = scipy.linalg.schur(np.asarray(M, dtype=np.float64), output="real", sort=select)
    vals = scipy.linalg.eigvals(T[:k, :k]) if k else np.empty(0, complex)
    return Z[:, :k], vals, Z[:, k:]


def _orbit_regions(system: PLSystem, orbit, regions):
    orbit = np.atleast_2d(np.asarray(orbit, dtype=np.float64))
    if orbit.shape[1] != system.n:
        raise ValueError(f"orbit must have shape (k, {system.n}), got {orbit.shape}")
    regions = system.pattern(orbit) if regions is None else np.atleast_2d(np.asarray(regions, dtype=bool))
    back = system.step_region(orbit, regions)
    scale = max(1.0, float(np.abs(orbit).max()))
    if np.max(np.linalg.norm(back - np.roll(orbit, -1, axis=0), axis=1)) > 1e-8 * scale:
        raise ValueError("orbit is not a fixed point or cycle of the network: F(x_j) != x_{j+1}")
    return orbit, regions


def _restricted_maps(system: PLSystem, regions, bases):
    """R_j (k, k) with A_{d_j} V_j = V_{j+1} R_j: the cycle's maps in the invariant subspaces' coordinates."""
    A = system.A(regions)
    k = len(regions)
    return [bases[(j + 1) % k].T @ A[j] @ bases[j] for j in range(k)]


def _local_radius(R, j: int, kind: str, margin: float, n_max: int = 200) -> float:
    """A radius r such that x_j + V_j s, |s| <= r, keeps its orbit (forward for stable, backward for
    unstable) within `margin` / 2 of the cycle, hence in the cycle's regions (R from `_restricted_maps`)."""
    k = len(R)
    P, g = np.eye(R[0].shape[1]), 1.0
    for n in range(n_max):
        P = R[(j + n) % k] @ P if kind == "stable" else np.linalg.solve(R[(j - n - 1) % k], P)
        size = float(np.linalg.norm(P))  # Frobenius: a cheap upper bound of the 2-norm
        g = max(g, size)
        if size < 1e-3:
            break
    return 0.5 * margin / g


def _local_samples(system: PLSystem, orbit, regions, bases, R, radii, j: int, kind: str, n: int, reach: float,
                   rng, n_max: int = 500) -> np.ndarray:
    """Up to n points x_j + V_j s of the local manifold at orbit point j, |s| log-uniform in [r_j / 10, reach].

    A point farther than r_j (the radius of `_local_radius`) is kept only if its orbit under the
    cycle's own affine maps (forward for stable, backward for unstable) stays in the cycle's regions
    until it is within r_{j'} of an orbit point x_{j'}: then it lies on the manifold exactly. This
    reaches along slow directions (|lambda| near 1) that pushing from a small ball would take many steps.
    """
    k, dim = len(orbit), bases[j].shape[1]
    m = 4 * n
    u = rng.standard_normal((m, dim))
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-300)
    lo, hi = np.log(radii[j] / 10), np.log(max(reach, radii[j]))
    S0 = u * np.exp(lo + (hi - lo) * rng.random((m, 1)))
    S = S0.copy()
    keep = in_regions(orbit[j] + S @ bases[j].T, regions[j], 0.0, system.n_switch)
    pending = keep & (np.linalg.norm(S, axis=1) > radii[j])
    inv = [np.linalg.inv(r) for r in R] if kind == "unstable" else None
    for step in range(n_max):
        if not pending.any():
            break
        if kind == "stable":
            jj = (j + step + 1) % k
            S[pending] = S[pending] @ R[(j + step) % k].T
        else:
            jj = (j - step - 1) % k
            S[pending] = S[pending] @ inv[jj].T
        idx = np.flatnonzero(pending)
        inside = in_regions(orbit[jj] + S[idx] @ bases[jj].T, regions[jj], 0.0, system.n_switch)
        keep[idx[~inside]] = False
        pending[idx[~inside]] = False
        pending[idx[inside & (np.linalg.norm(S[idx], axis=1) <= radii[jj])]] = False
    keep &= ~pending
    return orbit[j] + (S0[keep][:n] @ bases[j].T)


# ----------------------------------------------------------------------------------------------------------
# pushing support points and pieces


def _orth(B, tol=1e-10):
    """Orthonormal basis of the column span of B and whether it lost rank."""
    if B.shape[1] == 0:
        return B, False
    U, sv, _ = np.linalg.svd(B, full_matrices=False)
    rank = int(np.sum(sv > tol * max(1.0, sv[0])))
    return U[:, :rank], rank < B.shape[1]


def _preimage_piece(system: PLSystem, piece: Piece, d, point, generation: int) -> Piece:
    """The piece {x : A_d x + c in piece's subspace} through `point`, by its normals A_d^T Q (Q the
    piece's normals); fold: A_d is singular or the normals lose rank (the preimage is wider)."""
    A = system.A(d)
    normals, lost = _orth(A.T @ piece.normals)
    fold = lost or abs(np.linalg.det(A)) < 1e-12
    return Piece(d, point, None, generation, fold, normals=normals)


def preimages(system: PLSystem, Y, guess, region_tol: float = 1e-9, max_jumps: int = 30):
    """Preimages x of points Y (S, N) under F in the region x lies in, or NaN where none was found.

    Starts from the regions `guess` (S, N) bool and jumps to the region pattern of each candidate
    A_d^-1 (Y - c) until it lies in d. Singular A_d: a least-squares candidate, kept only if exact.
    """
    Y = np.asarray(Y, dtype=np.float64)
    X = np.full(Y.shape, np.nan)
    d = np.asarray(guess, dtype=bool).copy()
    todo = np.arange(len(Y))
    for _ in range(max_jumps + 1):
        if len(todo) == 0:
            break
        A = system.A(d[todo])
        rhs = Y[todo] - system.c
        try:
            x = np.linalg.solve(A, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            x = np.stack([np.linalg.lstsq(a, r, rcond=None)[0] for a, r in zip(A, rhs)])
        bad = ~np.all(np.isfinite(x), axis=1) | (np.linalg.norm(np.einsum("sij,sj->si", A, x) - rhs, axis=1)
                                                 > 1e-9 * np.maximum(1.0, np.abs(rhs).max(axis=1)))
        ok = in_regions(x, d[todo], region_tol, system.n_switch) & ~bad
        X[todo[ok]] = x[ok]
        nxt = ~ok & ~bad
        new_d = system.pattern(x[nxt])
        d[todo[nxt]] = new_d
        todo = todo[nxt]
    return X


def _same_subspace(a: Piece, b: Piece, tol: float) -> bool:
    scale = max(1.0, float(np.abs(b.point).max()))
    if a.dimension != b.dimension or a.distance(b.point) > tol * scale:
        return False
    if b._normals is not None and a._normals is not None:
        return np.linalg.norm(b.normals - a.normals @ (a.normals.T @ b.normals)) <= tol
    return b.dimension == 0 or np.linalg.norm(b.basis - a.basis @ (a.basis.T @ b.basis)) <= tol


def grow_manifold(system: PLSystem, orbit, kind: str, regions=None, n_support: int = 64, n_steps: int = 20,
                  max_pieces: int = 100, radius: float | None = None, rng=None, region_tol: float = 1e-9,
                  same_tol: float = 1e-8) -> ManifoldND:
    """The stable or unstable manifold of the cycle `orbit` (k, N) (k = 1: a fixed point) of `system`.

    n_support: support points per step (sampled on the local pieces, then refilled); n_steps: steps
    pushed; max_pieces: pieces kept at most; radius: support points farther than this from every
    orbit point are dropped (default: no limit), and local samples reach this far (default: 100
    times the guaranteed local radius). regions (k, N) bool: the orbit's regions (default
    the orbit's sign patterns); an orbit point within region_tol of a switching hyperplane has no local piece of
    one region and is refused (ValueError).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    orbit, regions = _orbit_regions(system, orbit, regions)
    k, N = orbit.shape
    rng = np.random.default_rng(rng)
    margin = float(np.min(np.abs(orbit[:, : system.p])))
    if margin <= region_tol * max(1.0, float(np.abs(orbit).max())):
        raise ValueError("the orbit lies on a switching boundary; its local manifold is not that of one region")
    A = system.A(regions)
    out = ManifoldND(kind=kind, orbit=orbit, dimension=0, eigvals=np.empty(0, complex), n_switch=system.n_switch)
    by_region = {}

    def add_piece(piece: Piece) -> int:
        key = piece.region.tobytes()
        for i in by_region.get(key, []):
            if _same_subspace(out.pieces[i], piece, same_tol):
                return i
        if len(out.pieces) >= max_pieces:
            return -1
        out.pieces.append(piece)
        by_region.setdefault(key, []).append(len(out.pieces) - 1)
        return len(out.pieces) - 1

    # local pieces: the invariant subspace of each orbit point's product Jacobian
    bases, normals = [], []
    for j in range(k):
        M = np.eye(N)
        for n in range(k):
            M = A[(j + n) % k] @ M
        V, vals, Q = invariant_subspace(M, kind)
        if j == 0:
            out.dimension, out.eigvals = V.shape[1], vals
        if V.shape[1] != out.dimension:
            raise ValueError("the orbit's points have invariant subspaces of different dimensions")
        bases.append(V)
        normals.append(Q)
    if out.dimension == 0:
        return out
    R = _restricted_maps(system, regions, bases)
    radii = [_local_radius(R, j, kind, margin) for j in range(k)]
    reach = 100 * max(radii) if radius is None else radius
    X, owner = [], []
    local = [add_piece(Piece(regions[j], orbit[j], bases[j], 0, normals=normals[j])) for j in range(k)]
    out.links.update((local[j], local[(j + 1) % k]) for j in range(k))
    for j in range(k):
        X.append(_local_samples(system, orbit, regions, bases, R, radii, j, kind, max(2, n_support // k), reach,
                                rng))
        owner.append(np.full(len(X[-1]), local[j]))
    X, owner = np.concatenate(X), np.concatenate(owner)
    kept_X, kept_owner = [X], [owner]
    out.stopped = "steps"
    for _ in range(n_steps):
        X, owner = _refill(X, owner, n_support, rng)
        if kind == "unstable":
            d = system.pattern(X)
            Y = system.step_region(X, d)
        else:
            Y = preimages(system, X, system.pattern(X), region_tol)
        valid = np.all(np.isfinite(Y), axis=1)
        if radius is not None:
            dist = np.min(np.linalg.norm(Y[:, None, :] - orbit[None], axis=2), axis=1)
            valid &= dist <= radius
        out.lost += int(np.sum(~valid))
        Y, src = Y[valid], owner[valid]
        new_owner = np.full(len(Y), -1)
        land = system.pattern(Y)
        keys = {}
        for s in range(len(Y)):
            keys.setdefault((int(src[s]), land[s].tobytes()), []).append(s)
        full = False
        for (pi, _), members in keys.items():
            piece = out.pieces[pi]
            e = land[members[0]]
            if kind == "unstable":
                basis, fold = _orth(system.A(piece.region) @ piece.basis)
                new = Piece(e, Y[members[0]], basis, piece.generation + 1, fold)
            else:
                new = _preimage_piece(system, piece, e, Y[members[0]], piece.generation + 1)
            out.folds += int(new.fold)
            i = add_piece(new)
            if i < 0:
                full = True
            else:
                out.links.add((pi, i) if kind == "unstable" else (i, pi))
            new_owner[members] = i
        keep = new_owner >= 0
        X, owner = Y[keep], new_owner[keep]
        kept_X.append(X)
        kept_owner.append(owner)
        if full:
            out.stopped = "pieces"
            break
        if len(X) == 0:
            out.stopped = "empty"
            break
    out.support = np.concatenate(kept_X)
    out.support_piece = np.concatenate(kept_owner)
    out.support_step = np.repeat(np.arange(len(kept_X)), [len(x) for x in kept_X])
    return out


def _refill(X, owner, n: int, rng):
    """Top the support points up to n with convex combinations of pairs on the same piece."""
    if len(X) >= n or len(X) < 2:
        return X, owner
    pieces, counts = np.unique(owner, return_counts=True)
    pieces = pieces[counts >= 2]
    if len(pieces) == 0:
        return X, owner
    picks = rng.choice(pieces, size=n - len(X))
    new = np.empty((len(picks), X.shape[1]))
    for m, p in enumerate(picks):
        idx = np.flatnonzero(owner == p)
        a, b = rng.choice(idx, size=2, replace=False)
        t = rng.random()
        new[m] = t * X[a] + (1 - t) * X[b]
    return np.concatenate([X, new]), np.concatenate([owner, picks])


# ----------------------------------------------------------------------------------------------------------
# quality


def invariance_error(system: PLSystem, manifold: ManifoldND, n_test: int = 4, rng=None):
    """How well the pieces satisfy invariance: fresh points of each piece mapped by F stay on the manifold.

    Test points are convex combinations of pairs of each piece's support points. The image of a point
    of piece i must lie on a piece j with (i, j) in `links` of the region the image lands in. Unstable
    manifolds use the support points of all but the last step (the image of the last was not built).
    Returns (error, coverage): the largest distance of an image to those pieces, relative to
    max(1, |image|), over the images that land in a region holding one; and the share that do (the
    others fall where no support point landed: a gap in the sampling, not an error of the pieces).
    """
    rng = np.random.default_rng(rng)
    if not manifold.pieces or manifold.support is None or len(manifold.support) == 0:
        return np.nan, np.nan
    use = np.ones(len(manifold.support), dtype=bool)
    if manifold.kind == "unstable":
        use = manifold.support_step < manifold.support_step.max()
    targets = {}
    for i, j in manifold.links:
        targets.setdefault(i, []).append(j)
    dist = []
    for i in range(len(manifold.pieces)):
        S = manifold.support[use & (manifold.support_piece == i)]
        if len(S) == 0:
            continue
        a = rng.integers(len(S), size=n_test)
        b = rng.integers(len(S), size=n_test)
        t = rng.random((n_test, 1))
        Y = system.step(t * S[a] + (1 - t) * S[b])
        d = np.full(n_test, np.inf)
        for j in targets.get(i, []):
            q = manifold.pieces[j]
            inside = in_regions(Y, q.region, 1e-9, system.n_switch)
            d[inside] = np.minimum(d[inside], q.distance(Y[inside]))
        dist.append(d / np.maximum(1.0, np.abs(Y).max(axis=1)))
    if not dist:
        return np.nan, np.nan
    dist = np.concatenate(dist)
    found = np.isfinite(dist)
    return (float(dist[found].max()) if found.any() else np.nan), float(found.mean())


# ----------------------------------------------------------------------------------------------------------
# separatrices on a plane


def plane_section(manifold: ManifoldND, origin, axes, extent, tol: float = 1e-9):
    """The intersection of each piece with the plane origin + t1 axes[0] + t2 axes[1], within its region.

    Pieces of codimension 1 cut the plane in lines, clipped to the piece's region and the plotted
    extent (t1_min, t1_max, t2_min, t2_max): segments (M, 2, 2) in plane coordinates. Pieces of
    codimension 2 or more meet it at most in a point (a degenerate segment). Returns (segments,
    piece index of each segment).
    """
    origin, axes = np.asarray(origin, dtype=np.float64), np.asarray(axes, dtype=np.float64)
    segs, owner = [], []
    for i, p in enumerate(manifold.pieces):
        N = len(origin)
        Q = p.normals  # (N, N - k)
        G = Q.T @ axes.T  # (m, 2)
        h = Q.T @ (p.point - origin)
        # region constraints sgn_i (origin_i + axes[:, i] . t) >= 0 and the extent box
        P = manifold.n_switch if manifold.n_switch is not None else N
        sgn = np.where(p.region, 1.0, -1.0)[:P]
        C = np.concatenate([sgn[:, None] * axes[:, :P].T, [[1, 0], [-1, 0], [0, 1], [0, -1]]])
        f = np.concatenate([sgn * origin[:P], [-extent[0], extent[1], -extent[2], extent[3]]])  # C t + f >= 0
        if Q.shape[1] == 0:
            continue  # the piece is full-dimensional: it fills the region
        U, sv, vt = np.linalg.svd(G)
        rank = int(np.sum(sv > 1e-12 * max(1.0, np.abs(G).max())))
        if rank == 0:
            continue
        t0 = np.linalg.lstsq(G, h, rcond=None)[0]
        if np.linalg.norm(G @ t0 - h) > tol * max(1.0, np.abs(h).max()):
            continue  # no common point
        if rank == 2:
            if np.all(C @ t0 + f >= -tol):
                segs.append([t0, t0])
                owner.append(i)
            continue
        e = vt[1]  # direction of the line within the plane
        lo, hi = -np.inf, np.inf
        ce, cf = C @ e, C @ t0 + f
        for a, b in zip(ce, cf):  # a tau + b >= 0
            if abs(a) < 1e-15:
                if b < -tol:
                    lo, hi = 1.0, 0.0
                    break
            elif a > 0:
                lo = max(lo, -b / a)
            else:
                hi = min(hi, -b / a)
        if lo < hi:
            segs.append([t0 + lo * e, t0 + hi * e])
            owner.append(i)
    return np.array(segs).reshape(-1, 2, 2), np.array(owner, dtype=np.int64)


# ----------------------------------------------------------------------------------------------------------
# storage


def arrays(manifolds: list, n: int | None = None) -> dict:
    """Flat arrays of the pieces of several manifolds (of networks with n units), for an npz.

    piece_manifold (P,), piece_region (P, N) bool, piece_point (P, N), piece_dimension (P,),
    piece_generation (P,), piece_fold (P,); each piece's subspace as the smaller of its basis
    and its normals: piece_normal (P,) bool, vectors (V, N) with vector_piece (V,).
    """
    rows = [(m, p) for m, man in enumerate(manifolds) for p in man.pieces]
    N = manifolds[0].orbit.shape[1] if manifolds else n
    if N is None:
        raise ValueError("arrays of no manifolds need the number of units n")
    vecs, vec_piece, normal = [], [], []
    for i, (_, p) in enumerate(rows):
        use_normals = p.dimension > N / 2
        B = p.normals if use_normals else p.basis
        vecs.append(B.T)
        vec_piece.append(np.full(B.shape[1], i))
        normal.append(use_normals)
    return {
        "piece_manifold": np.array([m for m, _ in rows], dtype=np.int64),
        "piece_region": np.array([p.region for _, p in rows], dtype=bool).reshape(-1, N),
        "piece_point": np.array([p.point for _, p in rows]).reshape(-1, N),
        "piece_dimension": np.array([p.dimension for _, p in rows], dtype=np.int64),
        "piece_generation": np.array([p.generation for _, p in rows], dtype=np.int64),
        "piece_fold": np.array([p.fold for _, p in rows], dtype=bool),
        "piece_normal": np.array(normal, dtype=bool),
        "vectors": np.concatenate(vecs).reshape(-1, N) if vecs else np.empty((0, N)),
        "vector_piece": np.concatenate(vec_piece).astype(np.int64) if vec_piece else np.empty(0, np.int64),
    }


def local_normals(system: PLSystem, orbit, regions=None) -> list:
    """Normals (N, n_unstable) of the local stable manifold at each point of a fixed point or cycle:
    the orthogonal complement of the stable invariant subspace of that point's product Jacobian."""
    orbit, regions = _orbit_regions(system, orbit, regions)
    A = system.A(regions)
    k = len(orbit)
    out = []
    for j in range(k):
        M = np.eye(system.n)
        for n in range(k):
            M = A[(j + n) % k] @ M
        out.append(invariant_subspace(M, "stable")[2])
    return out


def boundary_sections(system: PLSystem, saddles: list, seeds, origin, axes, half_width: float,
                      n_max: int = 500, region_tol: float = 1e-9, verify_tol: float = 1e-8):
    """Exact pieces of stable manifolds through points near a basin boundary, cut with a plane.

    saddles: orbits (k, N) of saddles or saddle cycles. Each seed (a point of the plane origin +
    t axes between two basins, near a separatrix) is iterated until it comes closest to an orbit
    point x_j of one of them, inside x_j's region. Its itinerary d_0..d_{T-1} is then exact
    ground: the stable manifold in region d_0 near the seed is {x : Q^T (Phi(x) - x_j) = 0}, Phi the
    affine map along the itinerary, Q the local normals at x_j (`local_normals`); its normals
    Phi'^T Q are pulled back step by step, the seed projected onto it, and the projection checked
    to follow the same itinerary to the local manifold. Stable manifolds of codimension 1 give a
    segment of the plane (clipped to +-half_width around the seed and to the points that follow the
    itinerary), codimension 2 a point, higher ones are skipped. A segment is kept only if its
    midpoint, iterated by F, comes within verify_tol x max(1, |x_j|) of x_j (a point off the
    manifold by e gets no closer than about e). Seeds should lie close to the boundary
    (`manifolds_pl.boundary_points`): the orbit of a rough one passes the saddle too far off to
    enter its region. Returns (segments (M, 2, 2) in plane coordinates, index of the saddle (M,)).
    """
    seeds = np.atleast_2d(np.asarray(seeds, dtype=np.float64))
    origin, axes = np.asarray(origin, dtype=np.float64), np.asarray(axes, dtype=np.float64)
    targets = []  # (saddle, orbit point, region, normals)
    for si, orbit in enumerate(saddles):
        orbit = np.atleast_2d(orbit)
        if np.min(np.abs(orbit[:, : system.p])) <= region_tol * max(1.0, float(np.abs(orbit).max())):
            continue  # on a switching boundary: no single region's local manifold
        for j, Q in enumerate(local_normals(system, orbit)):
            if 0 < Q.shape[1] <= 2:
                targets.append((si, orbit[j], system.pattern(orbit[j]), Q))
    segs, owner, goal = [], [], []
    if not targets or not len(seeds):
        return np.empty((0, 2, 2)), np.empty(0, dtype=np.int64)
    pts = np.array([t[1] for t in targets])
    regions = np.array([t[2] for t in targets])
    pts = np.array([t[2] for t in targets])
    X = seeds.copy()
    best = np.full(len(X), np.inf)
    when = np.zeros(len(X), dtype=int)
    which = np.zeros(len(X), dtype=int)
    pattern = np.empty((n_max + 1,) + X.shape, dtype=bool)
    for t in range(n_max + 1):
        pattern[t] = system.pattern(X)
        d = np.linalg.norm(X[:, None, :] - pts[None], axis=2)  # (S, targets)
        same = np.all(pattern[t][:, None, :] == regions[None], axis=2)
        d = np.where(same, d, np.inf)
        k = np.argmin(d, axis=1)
        closer = d[np.arange(len(X)), k] < best
        best[closer], when[closer], which[closer] = d[closer, k[closer]], t, k[closer]
        if t < n_max:
            X = system.step(X)
    for s in np.flatnonzero(np.isfinite(best)):
        mi, xj, _, Q = targets[which[s]]
        T = when[s]
        # pull the normals back along the itinerary and map the seed forward along it
        Nt, y = Q.copy(), seeds[s].copy()
        A = system.A(pattern[:T, s]) if T else np.empty((0, system.n, system.n))
        for t in range(T):
            y = A[t] @ y + system.c
        for t in reversed(range(T)):
            Nt = A[t].T @ Nt
        r = Q.T @ (y - xj)
        G = Nt.T @ Nt
        if np.linalg.cond(G) > 1e12:
            continue
        x0 = seeds[s] - Nt @ np.linalg.solve(G, r)
        z, ok = x0.copy(), True
        for t in range(T):  # the projection must follow the same itinerary
            if not in_regions(z, pattern[t, s], region_tol, system.n_switch):
                ok = False
                break
            z = A[t] @ z + system.c
        if not ok or np.linalg.norm(Q.T @ (z - xj)) > 1e-8 * max(1.0, float(np.abs(z).max())):
            continue
        piece = Piece(pattern[0, s], x0, None, T, normals=_orth(Nt)[0])
        t0 = (seeds[s] - origin) @ axes.T
        box = (t0[0] - half_width, t0[0] + half_width, t0[1] - half_width, t0[1] + half_width)
        one = ManifoldND("stable", xj[None], piece.dimension, np.empty(0), system.n_switch, [piece])
        seg, _ = plane_section(one, origin, axes, box)
        for e0, e1 in seg:  # keep the part whose points follow the itinerary (there the piece is exact)
            z, w = origin + e0 @ axes, (e1 - e0) @ axes
            lo, hi = 0.0, 1.0
            for t in range(T + 1):
                d = pattern[t, s] if t < T else system.pattern(xj)
                sgn = np.where(d, 1.0, -1.0)[: system.p]
                a, b = sgn * w[: system.p], sgn * z[: system.p]  # a tau + b >= 0
                with np.errstate(divide="ignore", invalid="ignore"):
                    lo = max(lo, np.max(np.where(a > 0, -b / a, -np.inf), initial=-np.inf))
                    hi = min(hi, np.min(np.where(a < 0, -b / a, np.inf), initial=np.inf))
                if np.any((a == 0) & (b < 0)):
                    hi = -np.inf
                if t < T:
                    z, w = A[t] @ z + system.c, A[t] @ w
            if hi > lo:
                segs.append([e0 + lo * (e1 - e0), e0 + hi * (e1 - e0)])
                owner.append(mi)
                goal.append(xj)
    segs, owner = np.array(segs).reshape(-1, 2, 2), np.array(owner, dtype=np.int64)
    if len(segs):  # brute force: the midpoint of every segment must run into its saddle
        X, goal = origin + segs.mean(axis=1) @ axes, np.array(goal)
        best = np.full(len(X), np.inf)
        for _ in range(int(when.max()) + 200):
            best = np.minimum(best, np.linalg.norm(X - goal, axis=1))
            X = system.step(X)
        keep = best <= verify_tol * np.maximum(1.0, np.abs(goal).max(axis=1))
        segs, owner = segs[keep], owner[keep]
    return segs, owner

"""Exact fixed points and k-cycles of ReLU networks and AL-RNNs, seen as piecewise-linear maps.

With phi = relu the noise-free network F(x) = (1 - a) x + a (W relu(x) + h),
h = W_in u + b, is affine in each linear region, the set of states with one
sign pattern d = (x > 0) in {0, 1}^N:

    F(x) = A_d x + c,   A_d = (1 - a) I + a W diag(d),   c = a h.

This is the PLRNN form z' = (A + W D) z + h. In an AL-RNN (activation alrnn)
only the first P = n_relu units switch; the others are linear, so diag(d) has
ones there whatever their sign, and a region is fixed by P bits: 2^P regions.
Internally (solving, enumerating, searching) region patterns are N bits with the
linear units' bits set; the patterns reported in PLResult are the signs of every
unit (x > 0, as the manifold code computes regions), which `A` and `step_region`
read only on the P switching units. For a sequence of regions
d_1..d_k the k-step map x -> F^k(x) is affine too, so a k-cycle visiting those
regions is the solution of one linear system, accepted only if every point of
its orbit lies in the region it was assumed to lie in.

Region membership and its tolerance: x lies in d when x_i > -tol where d_i = 1
and x_i <= tol where d_i = 0 (switching units only), with tol = region_tol * max(1, |x|_inf). On a
switching boundary x_i = 0 the affine maps of the two neighbouring regions
agree (the column of W that differs is multiplied by x_i = 0), so a point on
the boundary is the same solution of both regions' systems; the tolerance keeps
it from being lost to rounding, and the duplicate is merged. Such points are
flagged `on_boundary` in `PLResult.arrays()`; their Jacobian (taken from the
region that produced them) is one of the one-sided Jacobians.

Two ways to find them:

* `enumerate_fixed_points` / `enumerate_cycles`: all 2^(P k) region sequences
  (P = N for relu), the exact reference for tiny networks or few switching units.
* `find_cycles`: a search in the spirit of SCYFI (Eisenmann et al. 2023).
  Candidate region sequences are seeded from the regions the network visits;
  each candidate is solved, and when its solution does not lie in the assumed
  regions the search jumps to the regions the solution's orbit does lie in and
  solves again, for a bounded number of jumps. A sequence already solved is never
  solved twice, so a seed stops as soon as it joins a path already walked.

Speed: all candidates of one round are handled at once in numpy. The k-step
maps are built with A_d X = (1 - a) X + a W (diag(d) X): W is shared by all
candidates, so each step is one large GEMM over the whole stack, and the systems
are solved together with batched `numpy.linalg.solve` (LAPACK). The work is
O(N^3) dense linear algebra per candidate, which BLAS/LAPACK already do at full
speed; a numba kernel would only re-implement the same factorisations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model.network import ModelConfig, Params
from .stability import classify, rnn_map

TABLE_COLUMNS = ("point", "kind", "period", "q", "stability", "n_unstable", "spiral", "max_modulus",
                 "eig_real", "eig_imag")


@dataclass
class PLSystem:
    """The affine pieces of one ReLU network or AL-RNN under a constant input: F(x) = A_d x + c on region d.

    Units 0..n_switch-1 switch (relu), the others are linear (n_switch None: all switch)."""

    W: np.ndarray  # (N, N), float64
    alpha: float
    c: np.ndarray  # (N,) = alpha * (W_in u + b)
    n_switch: int | None = None

    @property
    def n(self) -> int:
        return self.W.shape[0]

    @property
    def p(self) -> int:
        """Number of switching units P (N for a ReLU network)."""
        return self.n if self.n_switch is None else self.n_switch

    def slopes(self, d) -> np.ndarray:
        """diag of D for region patterns d (..., N): d on the switching units, 1 on the linear ones."""
        d = np.array(d, dtype=np.float64)
        d[..., self.p:] = 1.0
        return d

    def pattern(self, x) -> np.ndarray:
        """The internal region pattern of states x (..., N): x > 0, linear units set."""
        d = np.asarray(x) > 0
        d[..., self.p:] = True
        return d

    def A(self, d) -> np.ndarray:
        """A_d for region patterns d (..., N) bool: (..., N, N)."""
        A = self.alpha * self.W * self.slopes(d)[..., None, :]
        idx = np.arange(self.n)
        A[..., idx, idx] += 1 - self.alpha
        return A

    def step_region(self, x, d) -> np.ndarray:
        """A_d x + c for states x (S, N) and region patterns d (S, N)."""
        return (1 - self.alpha) * x + (self.slopes(d) * x) @ (self.alpha * self.W.T) + self.c

    def step(self, x) -> np.ndarray:
        """F(x) for states x (..., N): the exact piecewise-linear map."""
        r = np.array(x, dtype=np.float64)
        r[..., :self.p] = np.maximum(r[..., :self.p], 0)
        return (1 - self.alpha) * x + r @ (self.alpha * self.W.T) + self.c


def pl_system(params: Params, cfg: ModelConfig, u) -> PLSystem:
    """Check the network is piecewise linear (relu or alrnn) and collect its affine pieces under the constant input u."""
    if cfg.activation not in ("relu", "alrnn"):
        raise ValueError(f"cfg.activation must be 'relu' or 'alrnn' for the piecewise-linear analysis, "
                         f"got {cfg.activation!r}")
    W = np.asarray(params.W, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    if u.shape != (cfg.n_in,):
        raise ValueError(f"u must have shape ({cfg.n_in},), got {u.shape}")
    if W.shape != (cfg.n_rec, cfg.n_rec):
        raise ValueError(f"params.W must have shape ({cfg.n_rec}, {cfg.n_rec}), got {W.shape}")
    h = np.asarray(params.W_in, dtype=np.float64) @ u + np.asarray(params.b, dtype=np.float64)
    return PLSystem(W=W, alpha=float(cfg.alpha), c=cfg.alpha * h,
                    n_switch=cfg.n_relu if cfg.activation == "alrnn" else None)


# ----------------------------------------------------------------------------------------------------------
# solving candidate region sequences


def in_regions(x, d, region_tol: float, n_switch: int | None = None) -> np.ndarray:
    """Whether each point x (..., N) lies in region d (..., N) bool, with the tolerance of the module doc;
    only the first n_switch units are checked (None: all)."""
    tol = region_tol * np.maximum(1.0, np.max(np.abs(x), axis=-1, keepdims=True))
    inside = np.where(d, x > -tol, x <= tol)
    return np.all(inside if n_switch is None else inside[..., :n_switch], axis=-1)


def _solve_batch(M, v):
    """Solve (I - M) x = v for a stack; rows whose system is singular come back as NaN."""
    n = M.shape[-1]
    lhs = np.eye(n) - M
    try:
        return np.linalg.solve(lhs, v[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(v.shape, np.nan)
        for i in range(len(v)):
            try:
                out[i] = np.linalg.solve(lhs[i], v[i])
            except np.linalg.LinAlgError:
                pass
        return out


def solve_sequences(system: PLSystem, seqs):
    """Closed-form k-cycle candidates of region sequences seqs (S, k, N) bool.

    Returns (orbit (S, k, N), M (S, N, N)): orbit[:, 0] solves x = F_{d_k} o ... o F_{d_1}(x)
    with the assumed affine maps, orbit[:, j] its j-th image under them, and M the product
    A_{d_k} ... A_{d_1}. Singular systems give NaN orbits.
    """
    seqs = np.asarray(seqs, dtype=bool)
    S, k, N = seqs.shape
    a, W = system.alpha, system.W
    d = system.slopes(seqs)
    # A_d X = (1 - a) X + a W (diag(d) X): W is shared, so each step is one large GEMM
    M = system.A(seqs[:, 0])
    v = np.broadcast_to(system.c, (S, N)).copy()
    for j in range(1, k):
        DM = np.ascontiguousarray((d[:, j, :, None] * M).transpose(1, 0, 2)).reshape(N, S * N)
        M = (1 - a) * M + a * (W @ DM).reshape(N, S, N).transpose(1, 0, 2)
        v = system.step_region(v, d[:, j])
    orbit = np.empty((S, k, N))
    x = _solve_batch(M, v)
    for j in range(k):
        orbit[:, j] = x
        x = system.step_region(x, d[:, j])
    return orbit, M


def _check(system: PLSystem, seqs, region_tol: float, distinct_tol: float):
    """Solve seqs and return (orbit, M, accepted (S,) bool)."""
    orbit, M = solve_sequences(system, seqs)
    finite = np.all(np.isfinite(orbit), axis=(1, 2))
    ok = finite & np.all(in_regions(orbit, seqs, region_tol, system.p), axis=1)
    k = seqs.shape[1]
    scale = np.maximum(1.0, np.max(np.abs(np.nan_to_num(orbit)), axis=(1, 2)))
    for j in range(1, k):  # minimal period k: no orbit point returns to the first before k steps
        ok &= np.linalg.norm(orbit[:, j] - orbit[:, 0], axis=-1) > distinct_tol * scale
    return orbit, M, ok


# ----------------------------------------------------------------------------------------------------------
# results


@dataclass
class PLResult:
    """Unique fixed points (period 1) and cycles (period k > 1) of a ReLU network under one input.

    Each is stored by its orbit, rotated to a canonical first point, and the product Jacobian
    A_{d_k} ... A_{d_1} of the regions it visits (for k = 1, A_d).
    """

    orbits: list = field(default_factory=list)  # (k, N) each
    regions: list = field(default_factory=list)  # (k, N) bool each
    jacobians: list = field(default_factory=list)  # (N, N) each
    q: list = field(default_factory=list)
    stability: list = field(default_factory=list)  # Stability each
    n: int = 0
    n_solved: dict = field(default_factory=dict)  # period -> number of region sequences solved
    n_switch: int | None = None  # AL-RNN: units 0..n_switch-1 switch, the others are linear (None: all switch)

    def __len__(self):
        return len(self.orbits)

    @property
    def periods(self) -> np.ndarray:
        return np.array([len(o) for o in self.orbits], dtype=int)

    def table(self) -> pd.DataFrame:
        """One row per fixed point or cycle, with the columns TABLE_COLUMNS."""
        rows = []
        for i, (o, q, st) in enumerate(zip(self.orbits, self.q, self.stability)):
            rows.append({"point": i, "kind": "fixed" if len(o) == 1 else "cycle", "period": len(o), "q": float(q),
                         "stability": st.kind, "n_unstable": st.n_unstable, "spiral": st.spiral,
                         "max_modulus": st.max_modulus, "eig_real": float(st.eigvals[0].real),
                         "eig_imag": float(st.eigvals[0].imag)})
        table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
        return table.astype({"point": int, "kind": object, "period": int, "q": float, "stability": object,
                             "n_unstable": int, "spiral": bool, "max_modulus": float, "eig_real": float,
                             "eig_imag": float})

    def arrays(self) -> dict:
        """Arrays for saving (K rows, P = sum of periods, N units).

        x (K, N) first orbit point; period (K,); q (K,); eigvals (K, N) complex, sorted by
        decreasing modulus; jacobian (K, N, N) (product) Jacobian; region (K, N) bool region of
        the first point; orbit (P, N) all orbit points in order; orbit_point (P,) the row each
        orbit point belongs to; orbit_region (P, N) bool; on_boundary (K,) bool, some orbit
        point lies within the tolerance of a switching boundary. Regions are the signs x > 0 of
        every unit; in an AL-RNN only the first n_switch bits select the linear region.
        """
        N, K = self.n, len(self)
        if K == 0:
            return {"x": np.empty((0, N)), "period": np.empty(0, int), "q": np.empty(0),
                    "eigvals": np.empty((0, N), complex), "jacobian": np.empty((0, N, N)),
                    "region": np.empty((0, N), bool), "orbit": np.empty((0, N)), "orbit_point": np.empty(0, int),
                    "orbit_region": np.empty((0, N), bool), "on_boundary": np.empty(0, bool)}
        orbit = np.concatenate(self.orbits)
        return {
            "x": np.array([o[0] for o in self.orbits]),
            "period": self.periods,
            "q": np.array(self.q, dtype=float),
            "eigvals": np.array([st.eigvals for st in self.stability], dtype=complex),
            "jacobian": np.array(self.jacobians),
            "region": np.array([r[0] for r in self.regions]),
            "orbit": orbit,
            "orbit_point": np.repeat(np.arange(K), self.periods),
            "orbit_region": np.concatenate(self.regions),
            "on_boundary": np.array([bool(np.any(np.abs(o[:, :self.n_switch]) <= 1e-9 * max(1.0, np.abs(o).max())))
                                     for o in self.orbits]),
        }


class _Collector:
    """Accumulates accepted orbits, merging rotations and near-duplicates."""

    def __init__(self, system: PLSystem, unique_tol: float):
        self.system, self.unique_tol = system, unique_tol
        self.items = {}  # period -> list of (orbit, regions, M)

    def add(self, orbit, regions, M):
        k = len(orbit)
        regions = regions.copy()
        p = self.system.p
        regions[:, p:] = orbit[:, p:] > 0  # report the linear units' signs (A_d does not read them)
        start = _canonical_start(orbit, regions)
        orbit, regions = np.roll(orbit, -start, axis=0), np.roll(regions, -start, axis=0)
        if start:  # the product Jacobian of the rotated cycle starts at the new first point
            A = self.system.A(regions)
            M = np.eye(self.system.n)
            for j in range(k):
                M = A[j] @ M
        scale = max(1.0, float(np.abs(orbit).max()))
        for other, _, _ in self.items.get(k, []):
            if np.min(np.linalg.norm(other - orbit[0], axis=1)) <= self.unique_tol * scale:
                return
        self.items.setdefault(k, []).append((orbit, regions, M))

    def result(self, alpha: float) -> PLResult:
        res = PLResult(n=self.system.n, n_switch=self.system.n_switch)
        for k in sorted(self.items):
            for orbit, regions, M in sorted(self.items[k], key=lambda it: tuple(it[0][0])):
                x = orbit[0]
                for _ in range(k):
                    x = self.system.step(x)
                res.orbits.append(orbit)
                res.regions.append(regions)
                res.jacobians.append(M)
                res.q.append(0.5 * float(np.sum((x - orbit[0]) ** 2)))
                res.stability.append(classify(M, alpha=alpha if k == 1 else None, n_dominant=self.system.n))
        return res


def _canonical_start(orbit, regions) -> int:
    """Index of the orbit point a cycle is listed from: smallest region pattern, then smallest state."""
    keys = [tuple(r.astype(int)) + tuple(np.round(o, 9)) for o, r in zip(orbit, regions)]
    return min(range(len(keys)), key=keys.__getitem__)


# ----------------------------------------------------------------------------------------------------------
# brute force


def _all_patterns(n: int) -> np.ndarray:
    return ((np.arange(2 ** n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def enumerate_cycles(params: Params, cfg: ModelConfig, u, period: int = 2, max_sequences: int = 2 ** 20,
                     region_tol: float = 1e-9, unique_tol: float = 1e-8, distinct_tol: float = 1e-8,
                     chunk: int | None = None) -> PLResult:
    """All cycles of minimal period `period` by solving every one of the 2^(P period) region sequences.

    The exact reference for tiny networks (P = N) or AL-RNNs with few ReLU units P; raises ValueError when
    2^(P period) > max_sequences.
    """
    system = pl_system(params, cfg, u)
    N, P = system.n, system.p
    if not isinstance(period, (int, np.integer)) or period < 1:
        raise ValueError(f"period must be a positive integer, got {period!r}")
    if P * period > np.log2(max_sequences):
        raise ValueError(f"brute-force enumeration needs 2^(P*period) = 2^{P * period} region sequences (P = {P} "
                         f"switching units of n_rec = {N}), more than max_sequences = {max_sequences}; use find_cycles")
    patterns = np.ones((2 ** P, N), dtype=bool)
    patterns[:, :P] = _all_patterns(P)
    n_total = 2 ** (P * period)
    chunk = chunk or max(1, 2 ** 22 // (period * N * N + 1))
    collect = _Collector(system, unique_tol)
    for start in range(0, n_total, chunk):
        idx = np.arange(start, min(start + chunk, n_total))
        digits = (idx[:, None] >> (P * np.arange(period))[None, :]) & (2 ** P - 1)  # (S, period)
        seqs = patterns[digits]
        orbit, M, ok = _check(system, seqs, region_tol, distinct_tol)
        for s in np.flatnonzero(ok):
            collect.add(orbit[s], seqs[s], M[s])
    res = collect.result(cfg.alpha)
    res.n_solved = {period: n_total}
    return res


def enumerate_fixed_points(params: Params, cfg: ModelConfig, u, max_units: int = 16, **kw) -> PLResult:
    """All fixed points by solving the 2^P region systems (P = N for relu, n_relu for alrnn); ValueError when
    P > max_units."""
    if cfg.n_switching > max_units:
        raise ValueError(f"brute-force enumeration over 2^P regions needs P <= max_units = {max_units}, got "
                         f"P = {cfg.n_switching} switching units (n_rec = {cfg.n_rec}); use find_cycles")
    return enumerate_cycles(params, cfg, u, period=1, max_sequences=2 ** max_units, **kw)


# ----------------------------------------------------------------------------------------------------------
# SCYFI-style search


def _visited_patterns(visited_states, N: int):
    """Sign patterns of visited states as trajectories (B, T, N) bool, or None."""
    if visited_states is None:
        return None
    v = np.asarray(visited_states, dtype=np.float64)
    if v.shape[-1] != N or v.ndim not in (2, 3):
        raise ValueError(f"visited_states must have shape (T, N) or (T, B, N) with N = {N}, got {v.shape}")
    if v.ndim == 2:
        v = v[:, None, :]
    return np.transpose(v > 0, (1, 0, 2))


def _seed_sequences(patterns, k: int, n_seeds: int, N: int, rng) -> np.ndarray:
    """Up to n_seeds distinct windows of k consecutive visited sign patterns, (S, k, N) bool."""
    if patterns is None or n_seeds == 0 or patterns.shape[1] < k:
        return np.empty((0, k, N), bool)
    windows = np.lib.stride_tricks.sliding_window_view(patterns, k, axis=1)  # (B, T-k+1, N, k)
    windows = np.moveaxis(windows, -1, -2).reshape(-1, k * N)
    _, first = np.unique(np.packbits(windows, axis=1), axis=0, return_index=True)
    windows = windows[first].reshape(-1, k, N)
    return windows[rng.permutation(len(windows))[:n_seeds]]


def _reseed(seqs, n_new: int, p_active, tried: set, rng, draws: int = 4) -> np.ndarray:
    """n_new fresh sequences, not yet solved where possible: half random with the units' activity
    rates, half a sequence of this round with about two bits flipped."""
    if n_new == 0:
        return seqs[:0]
    _, k, N = seqs.shape
    m = draws * n_new
    fresh = rng.random((m, k, N)) < p_active
    mutate = rng.random(m) < 0.5
    fresh[mutate] = seqs[rng.integers(len(seqs), size=int(mutate.sum()))] ^ (
        rng.random((int(mutate.sum()), k, N)) < 2.0 / N)
    keys = list(map(bytes, np.packbits(fresh.reshape(m, -1), axis=1)))
    untried = np.array([key not in tried for key in keys])
    order = np.argsort(~untried, kind="stable")  # untried first
    return fresh[order[:n_new]]


def find_cycles(params: Params, cfg: ModelConfig, u, visited_states=None, max_period: int = 4, n_seeds: int = 100,
                n_random: int = 100, n_reseeds: int = 200, max_iters: int = 20, rng=None, region_tol: float = 1e-9,
                unique_tol: float = 1e-8, distinct_tol: float = 1e-8) -> PLResult:
    """Fixed points and cycles of periods 1..max_period by a SCYFI-style search.

    visited_states: states the network visits, (T, N) one trajectory or (T, B, N) trajectories
    (time-major, as `forward` returns them), or None. For each period k the search starts from
    up to n_seeds distinct windows of k consecutive visited sign patterns and n_random random
    sequences (each unit active with the rate it is active in visited_states, 1/2 without them).
    A candidate whose solution is inconsistent jumps to the regions its orbit lies in, at most
    max_iters times. A walk that ends (accepted, singular, back on a sequence already solved, or
    out of jumps) is replaced by a random sequence, or by one of the current sequences with about
    two bits flipped (half each), until n_reseeds replacements are used.
    At most (n_seeds + n_random + n_reseeds) (max_iters + 1) systems are solved per period
    (`PLResult.n_solved` has the counts).
    """
    system = pl_system(params, cfg, u)
    N = system.n
    if not isinstance(max_period, (int, np.integer)) or max_period < 1:
        raise ValueError(f"max_period must be a positive integer, got {max_period!r}")
    for name, val in (("n_seeds", n_seeds), ("n_random", n_random), ("n_reseeds", n_reseeds),
                      ("max_iters", max_iters)):
        if not isinstance(val, (int, np.integer)) or val < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {val!r}")
    rng = np.random.default_rng(rng)
    patterns = _visited_patterns(visited_states, N)
    p_active = np.full(N, 0.5) if patterns is None else np.clip(patterns.mean(axis=(0, 1)), 0.05, 0.95)
    if patterns is not None:
        patterns[..., system.p:] = True
    p_active[system.p:] = 1.0  # linear units: always "on" (random() < 1)
    collect = _Collector(system, unique_tol)
    n_solved = {}
    for k in range(1, max_period + 1):
        seqs = _seed_sequences(patterns, k, n_seeds, N, rng)
        seqs = np.concatenate([seqs, rng.random((n_random, k, N)) < p_active])
        age = np.zeros(len(seqs), dtype=int)
        reseeds_left = n_reseeds
        tried = set()
        n_solved[k] = 0
        while len(seqs):
            keys = list(map(bytes, np.packbits(seqs.reshape(len(seqs), -1), axis=1)))
            new = np.zeros(len(seqs), dtype=bool)
            for i, key in enumerate(keys):
                if key not in tried:
                    tried.add(key)
                    new[i] = True
            orbit, M, ok = _check(system, seqs[new], region_tol, distinct_tol)
            n_solved[k] += int(new.sum())
            for s in np.flatnonzero(ok):
                collect.add(orbit[s], seqs[new][s], M[s])
            # walks that go on: new, inconsistent, finite solution, jumps left
            go_on = ~ok & np.all(np.isfinite(orbit), axis=(1, 2)) & (age[new] < max_iters)
            nxt, nxt_age = system.pattern(orbit[go_on]), age[new][go_on] + 1
            n_new = min(reseeds_left, len(seqs) - len(nxt))
            reseeds_left -= n_new
            fresh = _reseed(seqs, n_new, p_active, tried, rng)
            fresh[..., system.p:] = True
            seqs = np.concatenate([nxt, fresh])
            age = np.concatenate([nxt_age, np.zeros(n_new, dtype=int)])
    res = collect.result(cfg.alpha)
    res.n_solved = n_solved
    return res


def check_orbit(params: Params, cfg: ModelConfig, u, orbit) -> float:
    """max_j |F(x_j) - x_{j+1}| around an orbit (k, N) with the network's own map: an independent residual."""
    orbit = np.asarray(orbit, dtype=np.float64)
    image = rnn_map(params, cfg, orbit, u)
    return float(np.max(np.abs(image - np.roll(orbit, -1, axis=0))))

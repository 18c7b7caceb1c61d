"""Surrogates of smooth networks: an AL-RNN fitted to a network's own states, read back in its state space.

A tanh network's fixed points are found by optimisation and its cycles by
iteration; an almost-linear RNN (AL-RNN) fitted to the same trajectories is a
piecewise-linear map whose fixed points and k-cycles are exact solutions of
linear systems (analysis.plrnn). This module holds the geometry between the two:

* `Projection`: the coordinates the surrogate is fitted in. The network's
  states x (N) are centred on their mean, projected on their top D principal
  axes and divided by one scale s (the RMS of the projections, so that the fit
  sees numbers of order 1): z = (x - mean) axes^T / s, and back
  x = mean + s z axes. D is given, or the smallest number of axes explaining a
  share `variance` of the states' variance.
* `match`: pairs of points or orbits of the two systems. Distances between
  orbits are symmetric: the mean distance of each orbit's points from the other
  orbit's closed polygon (periodic_orbits.distance_to_orbit), averaged over the
  two directions; for two fixed points this is their Euclidean distance. Points
  (fixed or slow, period 1) are compared only with points, cycles (period > 1,
  exact or near) only with cycles. Every object gets its nearest partner of its condition; a pair
  *matches* when each is the other's nearest and their distance, relative to
  the spread of the visited states (the RMS distance of the states from their
  mean), is at most `tol`.
* `same_reaches`: the skeleton compared. `reaches` lists the objects (own
  side) that a saddle's unstable branches reach (analysis.skeleton on either
  side); a matched pair agrees when one's list, carried over by the matching,
  is the other's (both empty for two attractors).
* `r2`: the coefficient of determination of predictions, pooled over dimensions.
* `rotation`: how a long-run orbit turns in a plane: the angle it advances per
  step around its own centre (the mean of its states), unwrapped over the whole
  run, as steps per turn, and its RMS distance from that centre (the radius).
  Steps per turn are NaN when the orbit advances less than 1e-4 rad per step
  or its radius is below 1e-6 of its size: it has stopped, e.g. on a fixed point.
  An attracting invariant circle (a limit cycle whose period is not a whole
  number of steps) has no exact k-cycle, but a finite period here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .periodic_orbits import distance_to_orbit

MATCH_COLUMNS = ["condition", "side", "index", "kind", "period", "stability", "n_unstable", "spiral",
                 "max_modulus", "eig_real", "eig_imag", "partner", "distance", "matched", "same_stability",
                 "same_spiral", "reaches", "same_reaches", "outside", "pc1", "pc2"]


@dataclass(frozen=True)
class Projection:
    """z = (x - mean) axes^T / scale and its inverse (module doc); explained (D,) holds each axis's share."""

    mean: np.ndarray  # (N,)
    axes: np.ndarray  # (D, N), orthonormal rows
    scale: float
    explained: np.ndarray  # (D,) share of the states' variance along each axis

    @property
    def n_components(self) -> int:
        return self.axes.shape[0]

    def to_latent(self, x) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean) @ self.axes.T / self.scale

    def to_states(self, z) -> np.ndarray:
        return self.mean + self.scale * np.asarray(z, dtype=np.float64) @ self.axes

    def arrays(self, prefix: str = "projection_") -> dict:
        return {prefix + k: np.asarray(v) for k, v in
                (("mean", self.mean), ("axes", self.axes), ("scale", self.scale), ("explained", self.explained))}

    @classmethod
    def from_arrays(cls, arrays: dict, prefix: str = "projection_") -> "Projection":
        return cls(*(np.asarray(arrays[prefix + k], dtype=np.float64) for k in ("mean", "axes")),
                   float(arrays[prefix + "scale"]), np.asarray(arrays[prefix + "explained"], dtype=np.float64))


def fit_projection(states, n_components: int | None = None, variance: float = 0.9) -> Projection:
    """The principal axes of states (..., N): n_components of them, or (None) the fewest whose explained
    variance reaches `variance`; signs fixed so that each axis's largest entry is positive."""
    X = np.asarray(states, dtype=np.float64).reshape(-1, np.shape(states)[-1])
    if len(X) < 2 or not np.all(np.isfinite(X)):
        raise ValueError(f"the states to project must be finite, with at least 2 rows; got shape {np.shape(states)}")
    mean = X.mean(axis=0)
    _, sv, vt = np.linalg.svd(X - mean, full_matrices=False)
    share = sv ** 2 / max(float(np.sum(sv ** 2)), 1e-300)
    if n_components is None:
        if not 0 < variance <= 1:
            raise ValueError(f"surrogate.variance must be in (0, 1], got {variance}")
        n_components = int(np.searchsorted(np.cumsum(share), variance - 1e-12) + 1)
    if not 1 <= n_components <= len(sv):
        raise ValueError(f"surrogate.n_components must be between 1 and {len(sv)} (the states' rank bound), "
                         f"got {n_components}")
    axes = vt[:n_components]
    axes = axes * np.sign(axes[np.arange(n_components), np.argmax(np.abs(axes), axis=1)])[:, None]
    proj = (X - mean) @ axes.T
    scale = float(np.sqrt(np.mean(proj ** 2))) or 1.0
    return Projection(mean, axes, scale, share[:n_components])


def spread(states) -> float:
    """The RMS distance of states (..., N) from their mean: the unit of every relative distance here."""
    X = np.asarray(states, dtype=np.float64).reshape(-1, np.shape(states)[-1])
    return float(np.sqrt(np.mean(np.sum((X - X.mean(axis=0)) ** 2, axis=1))))


def orbit_distance(a, b) -> float:
    """Symmetric distance of two orbits (k, N) and (l, N) (module doc); Euclidean for two points."""
    a, b = np.atleast_2d(np.asarray(a, dtype=np.float64)), np.atleast_2d(np.asarray(b, dtype=np.float64))
    return 0.5 * float(np.mean(distance_to_orbit(a, b)) + np.mean(distance_to_orbit(b, a)))


def nearest_partners(dist, tol: float):
    """Nearest partners in a distance matrix (K_a, K_b) (np.inf: not comparable).

    Returns (partner_a, dist_a, matched_a, partner_b, dist_b, matched_b): each row's nearest column and
    the distance (-1 and NaN when none is comparable), the same for each column, and whether the two are
    each other's nearest at a distance of at most tol.
    """
    dist = np.asarray(dist, dtype=np.float64)
    if dist.ndim != 2:
        raise ValueError(f"the distance matrix must be 2-D, got shape {dist.shape}")

    def side(d):
        j = np.argmin(d, axis=1) if d.shape[1] else np.zeros(len(d), dtype=int)
        dj = d[np.arange(len(d)), j] if d.shape[1] else np.full(len(d), np.inf)
        ok = np.isfinite(dj)
        return np.where(ok, j, -1), np.where(ok, dj, np.nan)

    pa, da = side(dist)
    pb, db = side(dist.T)
    ma = np.array([p >= 0 and pb[p] == i and da[i] <= tol for i, p in enumerate(pa)], dtype=bool)
    mb = np.array([p >= 0 and pa[p] == j and db[j] <= tol for j, p in enumerate(pb)], dtype=bool)
    return pa, da, ma, pb, db, mb


def _side(name, own, other, partner, distance, matched) -> pd.DataFrame:
    t = own.reset_index(drop=True).assign(side=name, distance=distance, matched=matched)
    has = partner >= 0

    def of_partner(col):
        if not len(other):
            return np.full(len(t), None, dtype=object)
        return np.where(has, other[col].to_numpy(dtype=object)[np.maximum(partner, 0)], None)

    t["partner"] = np.where(has, of_partner("index"), -1).astype(int)
    for col in ("stability", "spiral"):
        t[f"same_{col}"] = has & (t[col].to_numpy(dtype=object) == of_partner(col))
    return t


def match(condition: str, surrogate: pd.DataFrame, surrogate_orbits, network: pd.DataFrame, network_orbits,
          unit: float, tol: float) -> pd.DataFrame:
    """The match table (MATCH_COLUMNS) of one condition.

    surrogate, network: one row per object with the columns index (its row in its own results), kind,
    period (> 1: a cycle), stability, n_unstable, spiral, max_modulus, eig_real, eig_imag, pc1, pc2,
    reaches (';'-joined indices of the objects its unstable branches reach; '' none), optionally outside
    (how far the object lies from the space the distances are measured in, reported as given);
    *_orbits the matching orbits (k, N), all in the network's state space. Distances are divided by
    `unit` (the spread of the visited states) before they are compared with tol.
    """
    if not unit > 0:
        raise ValueError(f"the spread of the visited states must be > 0, got {unit}")
    cyc_s = (surrogate["period"] > 1).to_numpy()
    cyc_n = (network["period"] > 1).to_numpy()
    dist = np.full((len(surrogate), len(network)), np.inf)
    for i, a in enumerate(surrogate_orbits):
        for j, b in enumerate(network_orbits):
            if cyc_s[i] == cyc_n[j]:
                dist[i, j] = orbit_distance(a, b) / unit
    ps, ds, ms, pn, dn, mn = nearest_partners(dist, tol)
    parts = [_side("surrogate", surrogate, network, ps, ds, ms), _side("network", network, surrogate, pn, dn, mn)]
    out = pd.concat([p for p in parts if len(p)] or [pd.DataFrame(columns=MATCH_COLUMNS)], ignore_index=True)
    out = out.assign(condition=condition).reindex(columns=MATCH_COLUMNS)
    out["same_reaches"] = _same_reaches(out)
    return out


def _reach_set(value) -> set:
    return {int(v) for v in str(value).split(";") if v not in ("", "nan", "None")} if isinstance(value, str) else set()


def _same_reaches(table: pd.DataFrame) -> np.ndarray:
    """Per row: matched, and its reached objects carried over by the matching are its partner's (module doc)."""
    partner = {(side, int(i)): int(p) for side, i, p, m in
               zip(table["side"], table["index"], table["partner"], table["matched"]) if m}
    reach = {(side, int(i)): _reach_set(r) for side, i, r in zip(table["side"], table["index"], table["reaches"])}
    out = np.zeros(len(table), dtype=bool)
    for k, (side, i, m) in enumerate(zip(table["side"], table["index"], table["matched"])):
        if m:
            other = "network" if side == "surrogate" else "surrogate"
            carried = {partner.get((side, r), -1) for r in reach[(side, int(i))]}
            out[k] = carried == reach[(other, partner[(side, int(i))])]
    return out


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per condition, side and kind: how many objects, how many matched, how many of those agree in
    stability and in where their unstable branches lead, and the median relative distance to the
    nearest partner."""
    t = table.assign(kind=np.where(table["period"] > 1, "cycle", "point"))
    rows = []
    for (cond, side, kind), g in t.groupby(["condition", "side", "kind"], sort=True):
        rows.append({"condition": cond, "side": side, "kind": kind, "n": len(g), "n_matched": int(g["matched"].sum()),
                     "n_same_stability": int((g["matched"] & g["same_stability"]).sum()),
                     "n_same_reaches": int((g["matched"] & g["same_reaches"]).sum()),
                     "median_distance": float(g["distance"].median()) if g["distance"].notna().any() else np.nan})
    return pd.DataFrame(rows, columns=["condition", "side", "kind", "n", "n_matched", "n_same_stability",
                                       "n_same_reaches", "median_distance"])


def r2(true, predicted) -> float:
    """1 - sum (predicted - true)^2 / sum (true - mean true)^2, pooled over every dimension (..., D)."""
    y = np.asarray(true, dtype=np.float64).reshape(-1, np.shape(true)[-1])
    p = np.asarray(predicted, dtype=np.float64).reshape(y.shape)
    total = float(np.sum((y - y.mean(axis=0)) ** 2))
    if total == 0:
        raise ValueError("r2 is undefined for constant data")
    return 1.0 - float(np.sum((p - y) ** 2)) / total


def rotation(orbit) -> tuple[float, float]:
    """(steps per turn, radius) of one long-run orbit (T, 2) in a plane (module doc); median over
    trajectories for (T, B, 2)."""
    z = np.asarray(orbit, dtype=np.float64)
    if z.ndim == 3:
        per = np.array([rotation(z[:, b]) for b in range(z.shape[1])])
        return float(np.median(per[:, 0])), float(np.median(per[:, 1]))
    if z.ndim != 2 or z.shape[1] != 2 or len(z) < 3:
        raise ValueError(f"a long-run orbit must be (T >= 3, 2) or (T, B, 2), got shape {z.shape}")
    rel = z - z.mean(axis=0)
    angle = np.unwrap(np.arctan2(rel[:, 1], rel[:, 0]))
    rate = abs(angle[-1] - angle[0]) / (len(z) - 1)
    radius = float(np.sqrt(np.mean(np.sum(rel ** 2, axis=1))))
    turning = rate >= 1e-4 and radius > 1e-6 * max(1.0, float(np.abs(z).max()))
    return (2 * np.pi / rate if turning else float("nan")), radius

"""How far a network lies from a group of standard networks, in units of the group's own spread.

At each level (behaviour, dynamics, weights) a distance d(X, s) between two
networks is given. For a network X outside the standard group S:

    distance = mean over s in S of d(X, s)
    within   = mean over pairs s != s' in S of d(s, s')      (the natural degeneracy)
    ratio    = distance / within

A ratio of 1: X is as far from the standard networks as they are from each
other; 6: "six natural degeneracies away". The distances:

- dynamics: DSA (the similarity stage's table, the two directions averaged);
- weights: the published weight distance (analysis.degeneracy.weight_distance:
  Frobenius norm of the difference after the best relabelling of neurons). Its
  1/N^2 cancels in the ratio, so the ratio is one of plain Frobenius distances;
- behaviour: the Euclidean distance between two networks' profiles of log10
  loss over the out-of-distribution conditions. The same kind of quantity as
  the other two levels (a distance between two networks, averaged), so that
  the three ratios read alike; on the log scale a tenfold loss difference
  counts the same at any loss level. (A z-score against the group's standard
  deviation would divide by a quantity estimated from few networks and near 0
  where the networks agree.)

The 95% percentile-bootstrap interval of the ratio resamples the standard
networks (analysis.statistics): both the mean distance of X and the within
spread are recomputed on each resample; it reflects how many standard networks
were trained, not the randomness of X itself.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .degeneracy import IN_DISTRIBUTION, pairwise_weight_distances, weight_distance
from .statistics import bootstrap_networks, pair_mean

__all__ = ["COLUMNS", "LEVELS", "distance_ratio", "dsa_distances", "weight_distances", "behaviour_distances",
           "insd_distance_table"]

log = logging.getLogger("altrnn.analysis.insd_distance")

COLUMNS = ["net_id", "level", "distance", "within", "ratio", "ci_low", "ci_high", "n_standard"]
LEVELS = ("behaviour", "dynamics", "weights")


def distance_ratio(to_group, within, n_boot: int = 1000, seed: int = 0) -> dict:
    """distance, within, ratio and its bootstrap interval from X's distances to the n standard networks
    (to_group, shape (n,)) and their symmetric pairwise distances (within, shape (n, n))."""
    d = np.asarray(to_group, dtype=np.float64)
    D = np.asarray(within, dtype=np.float64)
    if d.ndim != 1 or D.shape != (d.size, d.size):
        raise ValueError(f"to_group must have shape (n,) and within (n, n); got {d.shape} and {D.shape}")
    if d.size < 2:
        raise ValueError("a distance in units of natural degeneracy needs at least 2 standard networks")

    def ratio(idx):
        spread = pair_mean(D, idx)
        return float(d[idx].mean() / spread) if spread > 0 else np.nan

    spread = pair_mean(D)
    if not spread > 0:
        log.warning("the standard networks do not differ (within distance %s): the ratio is NaN", spread)
    low, high = bootstrap_networks(d.size, ratio, n_boot, seed=seed)
    return {"distance": float(d.mean()), "within": spread, "ratio": ratio(np.arange(d.size)),
            "ci_low": low, "ci_high": high, "n_standard": int(d.size)}


def _check_names(standard, others):
    if len(set(standard)) != len(standard) or set(standard) & set(others):
        raise ValueError(f"standard networks must be distinct and not among the others; got {standard}, {others}")


def dsa_distances(dsa: pd.DataFrame, standard: list, others: list) -> tuple[dict, np.ndarray]:
    """({X: DSA to each standard network}, standard x standard DSA) from a long table net_a, net_b, value.

    Each pair's distance is the mean of the directions the table holds.
    """
    _check_names(standard, others)
    missing = {"net_a", "net_b", "value"} - set(dsa.columns)
    if missing:
        raise ValueError(f"dsa table is missing column(s) {sorted(missing)}")
    names = [*standard, *others]
    table = dsa[dsa["net_a"].isin(names) & dsa["net_b"].isin(names)]
    square = table.pivot_table(index="net_a", columns="net_b", values="value", aggfunc="mean")
    square = square.reindex(index=names, columns=names).to_numpy(np.float64)
    D = np.where(np.isnan(square), square.T, np.where(np.isnan(square.T), square, (square + square.T) / 2))
    n = len(standard)
    off = ~np.eye(len(names), dtype=bool)
    off[n:, n:] = False  # pairs of two non-standard networks are not used
    if not np.all(np.isfinite(D[off])):
        raise ValueError("dsa table misses some pairs of networks or has non-finite values")
    return {x: D[n + i, :n] for i, x in enumerate(others)}, D[:n, :n]


def weight_distances(weights: dict, standard: list, others: list, n_rounds: int = 20) -> tuple[dict, np.ndarray]:
    """({X: weight_distance to each standard network}, standard x standard weight_distance); weights: net_id -> W."""
    _check_names(standard, others)
    missing = [n for n in [*standard, *others] if n not in weights]
    if missing:
        raise ValueError(f"no recurrent weights for network(s) {missing}")
    within = pairwise_weight_distances({s: weights[s] for s in standard}, n_rounds, per_parameter=True)
    to_group = {x: np.array([weight_distance(weights[x], weights[s], n_rounds) for s in standard])
                for x in others}
    return to_group, within


def behaviour_distances(eval_table: pd.DataFrame, standard: list, others: list,
                        loss_floor: float = 1e-12) -> tuple[dict, np.ndarray]:
    """({X: profile distance to each standard network}, standard x standard distances) from eval rows
    (net_id, condition, loss): Euclidean distances between the log10-loss profiles over the OOD conditions
    (every condition but in_distribution)."""
    _check_names(standard, others)
    missing = {"net_id", "condition", "loss"} - set(eval_table.columns)
    if missing:
        raise ValueError(f"eval_table is missing column(s) {sorted(missing)}")
    ood = eval_table[eval_table["condition"] != IN_DISTRIBUTION]
    if ood.empty:
        raise ValueError("eval_table has no out-of-distribution condition (every row is in_distribution)")
    conditions = list(dict.fromkeys(ood["condition"]))
    names = [*standard, *others]
    logs = np.log10(np.maximum(ood["loss"].to_numpy(np.float64), loss_floor))
    M = (ood.assign(log_loss=logs).pivot_table(index="net_id", columns="condition", values="log_loss")
         .reindex(index=names, columns=conditions).to_numpy(np.float64))
    if not np.all(np.isfinite(M)):
        absent = [n for n, row in zip(names, M) if not np.all(np.isfinite(row))]
        raise ValueError(f"network(s) {absent} lack a finite loss in some of the conditions {conditions}")
    D = np.linalg.norm(M[:, None, :] - M[None, :, :], axis=-1)
    n = len(standard)
    return {x: D[n + i, :n] for i, x in enumerate(others)}, D[:n, :n]


def insd_distance_table(standard: list, others: list, eval_table=None, dsa=None, weights=None,
                        n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per network of `others` and level given (COLUMNS), in the order of LEVELS."""
    if eval_table is None and dsa is None and weights is None:
        raise ValueError("give at least one of eval_table, dsa, weights")
    levels = {"behaviour": (behaviour_distances, eval_table), "dynamics": (dsa_distances, dsa),
              "weights": (weight_distances, weights)}
    rows = []
    for level in LEVELS:
        distances, data = levels[level]
        if data is None:
            continue
        to_group, within = distances(data, list(standard), list(others))
        rows += [{"net_id": x, "level": level, **distance_ratio(to_group[x], within, n_boot, seed)} for x in others]
    return pd.DataFrame(rows, columns=COLUMNS)

"""Win and loss of single networks against the standard group, level by level of a stress grid.

For one metric at one stress level there are n standard networks s_1..s_n and
one other network (ref or an alternative) with value x. Reported:

- z = (x - mean(s)) / sd(s) (sd with n - 1), the effect size in standard-group units;
- percentile: the share of standard networks below x (ties count half), in %;
- p: the two-sided single-case test of Crawford & Howell (1998). If x and the
  s_i come from one normal distribution, t = (x - mean(s)) / (sd(s) sqrt(1 + 1/n))
  follows Student's t with n - 1 degrees of freedom exactly, so p has no floor
  and its false-positive rate is nominal for any n >= 2. A rank (permutation)
  p-value, p_rank = (1 + #{|s_i - m| >= |x - m|}) / (n + 1) around the median m
  of all n + 1 values, needs no normality but cannot go below 1 / (n + 1)
  (0.09 with 10 standard networks, 0.33 with 2): after a correction over many
  levels it can never reach 0.05, so it is reported beside p, not used for marks.
- p_adjusted: p corrected over every test of a unit (every non-standard network,
  axis, level and metric) by Holm (family-wise error) or Benjamini-Hochberg
  (false discovery rate);
- mark: `win` (better than the standard group: lower loss, higher accuracy) or
  `loss` (worse) where p_adjusted < alpha, else `none`; `n/a` where the standard
  group has no spread (e.g. every standard network at accuracy 1), so no test exists.

Losses are tested (z, p) on a log scale: task losses of a group of networks are
positive and right-skewed, and their logarithm is closer to the normal the test
assumes. Accuracies are tested as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .statistics import bootstrap_mean

__all__ = ["single_case", "rank_p", "percentile", "adjust", "stress_statistics", "read_statistics", "CORRECTIONS",
           "LOWER_IS_BETTER"]

CORRECTIONS = ("holm", "bh", "none")
LOWER_IS_BETTER = {"loss": True, "accuracy": False}  # the metrics of a stress table; loss is tested on log10
STAT_COLUMNS = ["net_id", "axis", "level", "metric", "value", "n_std", "std_mean", "std_low", "std_high",
                "z", "percentile", "p", "p_rank", "p_adjusted", "mark", "correction", "alpha"]


def single_case(x: float, group) -> tuple[float, float]:
    """(z, p): effect size of x in units of the group's sd, and the two-sided Crawford-Howell p-value.

    NaN for both when the group has fewer than 2 values or no spread.
    """
    s = np.asarray(group, dtype=np.float64)
    n = s.size
    sd = s.std(ddof=1) if n >= 2 else 0.0
    if n < 2 or not sd > 0:
        return np.nan, np.nan
    z = (x - s.mean()) / sd
    t = z / np.sqrt(1 + 1 / n)
    return float(z), float(2 * stats.t.sf(abs(t), df=n - 1))


def rank_p(x: float, group) -> float:
    """Two-sided rank p-value of x among the group: (1 + #{|s - m| >= |x - m|}) / (n + 1), m the median of all."""
    s = np.asarray(group, dtype=np.float64)
    m = np.median(np.append(s, x))
    return float((1 + np.sum(np.abs(s - m) >= abs(x - m))) / (s.size + 1))


def percentile(x: float, group) -> float:
    """Share of the group below x, ties counting half, in percent."""
    s = np.asarray(group, dtype=np.float64)
    return float(100 * (np.sum(s < x) + 0.5 * np.sum(s == x)) / s.size)


def adjust(p, method: str = "holm") -> np.ndarray:
    """Multiple-comparison adjusted p-values (Holm step-down or Benjamini-Hochberg step-up); NaN stays NaN."""
    if method not in CORRECTIONS:
        raise ValueError(f"correction: {method!r} is not one of {list(CORRECTIONS)}")
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = q.size
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if method == "holm":  # max over i' <= i of (m - i' + 1) p_(i')
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    else:  # min over i' >= i of m p_(i') / i'
        adj = np.minimum.accumulate((m * ranked / np.arange(1, m + 1))[::-1])[::-1]
    back = np.empty(m)
    back[order] = np.minimum(adj, 1.0)
    out[ok] = back
    return out


def stress_statistics(table: pd.DataFrame, standard_ids, alpha: float = 0.05, correction: str = "holm",
                      n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per non-standard network, axis, level and metric (loss, accuracy): the group's mean with its
    95% bootstrap interval over networks (raw scale), z, percentile, p, p_rank, p_adjusted and the mark.

    table: long stress table (net_id, axis, level, loss, accuracy); standard_ids: the standard group.
    The correction runs over every row, so the family is the whole unit.
    """
    missing = [c for c in ("net_id", "axis", "level", *LOWER_IS_BETTER) if c not in table.columns]
    if missing:
        raise ValueError(f"stress table: missing column(s) {missing}")
    std = [n for n in dict.fromkeys(table["net_id"]) if n in set(standard_ids)]
    others = [n for n in dict.fromkeys(table["net_id"]) if n not in set(standard_ids)]
    if len(std) < 2:
        raise ValueError(f"stress statistics need at least 2 standard networks, got {std}")
    rows = []
    for (axis, level), cell in table.groupby(["axis", "level"], sort=False):
        by_net = cell.set_index("net_id")
        for metric, lower in LOWER_IS_BETTER.items():
            s = by_net.loc[std, metric].to_numpy(np.float64)
            mean, low, high = bootstrap_mean(s, n_boot=n_boot, seed=seed)
            scale = np.log10 if lower else (lambda v: v)
            for net in others:
                x = float(by_net.loc[net, metric])
                with np.errstate(divide="ignore"):
                    z, p = single_case(scale(x), scale(s))
                rows.append({"net_id": net, "axis": axis, "level": level, "metric": metric, "value": x,
                             "n_std": len(std), "std_mean": mean, "std_low": low, "std_high": high, "z": z,
                             "percentile": percentile(x, s), "p": p, "p_rank": rank_p(x, s)})
    out = pd.DataFrame(rows, columns=STAT_COLUMNS[:-4])
    out["p_adjusted"] = adjust(out["p"].to_numpy(), correction)
    better = np.where(out["metric"].map(LOWER_IS_BETTER), out["z"] < 0, out["z"] > 0)
    significant = out["p_adjusted"] < alpha
    out["mark"] = np.where(out["p"].isna(), "n/a", np.where(significant, np.where(better, "win", "loss"), "none"))
    return out.assign(correction=correction, alpha=alpha)[STAT_COLUMNS]


def read_statistics(path) -> pd.DataFrame:
    """A stress statistics table, checked: a missing file or column raises ResultFileError naming it."""
    from ..io import read_table

    return read_table(path, STAT_COLUMNS, keep_default_na=False, na_values=[""])  # the mark "n/a" stays text

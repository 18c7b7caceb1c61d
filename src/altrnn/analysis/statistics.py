"""Bootstrap intervals for comparisons between groups of networks.

Percentile bootstrap with a seeded generator, so every table and figure is
deterministic. Statistics over pairs of networks resample *networks*, then
average over the pairs of distinct resampled networks, so that an interval
reflects how many networks were trained, not how many pairs they make.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bootstrap_mean", "bootstrap_networks", "pair_mean"]


def _bounds(samples, level):
    samples = np.asarray(samples, dtype=np.float64)
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return np.nan, np.nan
    tail = (1 - level) / 2
    return float(np.quantile(samples, tail)), float(np.quantile(samples, 1 - tail))


def bootstrap_mean(values, n_boot: int = 2000, level: float = 0.95, seed: int = 0):
    """(mean, low, high): the mean of `values` and its percentile-bootstrap interval; NaN bounds for n < 2."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    if x.size < 2:
        return float(x[0]), np.nan, np.nan
    idx = np.random.default_rng(seed).integers(0, x.size, size=(n_boot, x.size))
    low, high = _bounds(x[idx].mean(axis=1), level)
    return float(x.mean()), low, high


def bootstrap_networks(n: int, statistic, n_boot: int = 1000, level: float = 0.95, seed: int = 0):
    """(low, high) of statistic(indices) over bootstrap resamples of n networks (indices with repeats).

    A resample on which the statistic is undefined (NaN) is left out. With
    fewer than 3 networks there is no interval (NaN): resampling 2 networks
    only ever reproduces the one pair.
    """
    if n < 3:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    return _bounds([statistic(rng.integers(0, n, size=n)) for _ in range(n_boot)], level)


def pair_mean(D, idx=None) -> float:
    """Mean of the symmetric distances D over pairs i < j of networks idx with idx_i != idx_j (NaN if none)."""
    D = np.asarray(D, dtype=np.float64)
    idx = np.arange(D.shape[0]) if idx is None else np.asarray(idx)
    i, j = np.triu_indices(idx.size, 1)
    keep = idx[i] != idx[j]
    if not keep.any():
        return np.nan
    return float(D[idx[i][keep], idx[j][keep]].mean())

"""Reconstruction quality: does a generated time series have the true system's geometry and time scales?

Two measures of dynamical-systems reconstruction (as used by Koppe et al. 2019, Brenner et al. 2024), both
0 for identical data and growing as the generated series departs from the true one. Our exact definitions:

State-space divergence D_stsp = KL(p_true || p_gen), the Kullback-Leibler divergence between the
distributions of states (long-run occupation of state space), in nats, estimated one of two ways:

* "bins" (low dimension): a grid of n_bins per dimension spanning the true data's range, widened by
  `margin` times that range on each side; generated states outside the grid count in its outermost bins
  (escaping mass is kept, and diverges from the true distribution). With counts c_k, n states and K bins,
  p_k = (c_k / n + eps) / (1 + K eps) for each series (eps = `smoothing`, so that empty bins of the generated
  series give a large but finite divergence), and D_stsp = sum_k p_true,k ln(p_true,k / p_gen,k).
* "gmm" (any dimension): each series' density is the mixture of isotropic Gaussians N(x_i, s^2 I) centred on
  (up to n_points, evenly spaced) of its states, s = `scale` times the true data's per-dimension standard
  deviation averaged over dimensions. D_stsp is the Monte-Carlo estimate (1/n) sum_i ln(p_true(x_i) /
  p_gen(x_i)) at the true states x_i themselves. For one true and one generated point it is exactly the KL
  divergence of the two Gaussians, |a - b|^2 / (2 s^2).

Hellinger distance of power spectra D_H: per dimension, each series is standardised (zero mean, unit
variance), its power spectrum |rfft|^2 taken without the zero frequency, smoothed by a Gaussian kernel of
`sigma` frequency bins (0: none; cut at 4 sigma) and normalised to sum 1, giving p and q;
H = sqrt(1 - sum_f sqrt(p_f q_f)) in [0, 1] (1: no shared frequencies), computed as
sqrt(sum_f (sqrt p_f - sqrt q_f)^2 / 2), which is exactly 0 for identical spectra. D_H is the mean of H over dimensions. The two series are cut to the
shorter length so that their frequency grids agree; `max_freq` (a fraction of the Nyquist frequency) drops
the high-frequency tail, which is mostly noise.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.special import logsumexp


def _series(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a finite time series (T, d) with T >= 2, got shape {np.shape(x)}")
    return x


def state_space_divergence(true, generated, method: str = "bins", n_bins: int = 30, margin: float = 0.1,
                           smoothing: float = 1e-6, scale: float = 0.1, n_points: int = 2000) -> float:
    """D_stsp = KL(p_true || p_gen) between the state distributions of two series (T, d) (see the module doc)."""
    x, y = _series(true, "true"), _series(generated, "generated")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"true and generated must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    if method == "bins":
        return _binned_kl(x, y, n_bins, margin, smoothing)
    if method == "gmm":
        return _mixture_kl(x, y, scale, n_points)
    raise ValueError(f"method must be 'bins' or 'gmm', got {method!r}")


def _binned_kl(x, y, n_bins: int, margin: float, smoothing: float) -> float:
    d = x.shape[1]
    if n_bins ** d > 10 ** 7:
        raise ValueError(f"{n_bins}^{d} bins are too many; use method='gmm' or fewer bins")
    lo, hi = x.min(axis=0), x.max(axis=0)
    width = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - margin * width, hi + margin * width

    def probabilities(z):
        idx = np.clip(np.floor((z - lo) / (hi - lo) * n_bins).astype(np.int64), 0, n_bins - 1)
        flat = np.ravel_multi_index(idx.T, (n_bins,) * d)
        p = np.bincount(flat, minlength=n_bins ** d) / len(z)
        return (p + smoothing) / (1 + n_bins ** d * smoothing)

    p, q = probabilities(x), probabilities(y)
    return float(np.sum(p * (np.log(p) - np.log(q))))


def _mixture_kl(x, y, scale: float, n_points: int) -> float:
    def thin(z):
        return z[np.linspace(0, len(z) - 1, min(n_points, len(z))).round().astype(int)]

    x, y = thin(x), thin(y)
    s2 = (scale * float(np.mean(x.std(axis=0))) or scale) ** 2

    def log_density(points, centres):  # log mean_j N(points_i; centres_j, s2 I), without the shared constant
        d2 = (points ** 2).sum(1)[:, None] - 2 * points @ centres.T + (centres ** 2).sum(1)[None, :]
        return logsumexp(-np.maximum(d2, 0) / (2 * s2), axis=1) - np.log(len(centres))

    return float(np.mean(log_density(x, x) - log_density(x, y)))


def power_spectra(x, sigma: float = 2.0, max_freq: float = 1.0) -> np.ndarray:
    """Smoothed, normalised power spectra (n_freq, d) of a series (T, d), as D_H compares them."""
    x = _series(x, "series")
    z = (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
    power = np.abs(np.fft.rfft(z, axis=0)[1:]) ** 2
    power = power[: max(1, int(round(max_freq * len(power))))]
    if sigma > 0:
        power = gaussian_filter1d(power, sigma, axis=0, mode="constant")
    total = power.sum(axis=0)
    return power / np.where(total > 0, total, 1.0)


def hellinger_distance(true, generated, sigma: float = 2.0, max_freq: float = 1.0, per_dimension: bool = False):
    """D_H: mean over dimensions of the Hellinger distance between smoothed power spectra (see the module doc);
    with per_dimension, the array of H per dimension."""
    x, y = _series(true, "true"), _series(generated, "generated")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"true and generated must have the same dimension, got {x.shape[1]} and {y.shape[1]}")
    T = min(len(x), len(y))
    p, q = power_spectra(x[:T], sigma, max_freq), power_spectra(y[:T], sigma, max_freq)
    h = np.sqrt(np.clip(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=0), 0, 1))  # = 1 - sum sqrt(p q)
    return h if per_dimension else float(h.mean())

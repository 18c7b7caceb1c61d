"""Metric gaming: can a network look unlike an earlier one by adding units of noise?

A "new" network that is an exact copy of the earlier network's rates R plus k
units of noise Z, independent of R, is no new solution. Linear CKA, RSA and
earlier -> new predictability nevertheless fall as k grows (Z adds variance
that R cannot explain), so a network trained against them could lower them
by padding. The new -> earlier direction INSD penalises does not move: [R, Z]
still predicts R. `padding_table` measures all four on R and [R, Z] over
independent draws of the noise, beside each measure's large-sample value;
`summarise` gives each measure's mean over draws with a 95% bootstrap interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .similarity import METRICS, linear_predictability
from .statistics import bootstrap_mean

__all__ = ["MEASURES", "NOISES", "noise_units", "expected_values", "padding_table", "summarise"]

MEASURES = ("cka", "rsa", "earlier_to_new", "new_to_earlier")
NOISES = ("gaussian", "shuffled")
COLUMNS = ["padding", "n_padding", "n_units", "draw", "measure", "value", "expected"]
SUMMARY_COLUMNS = ["measure", "padding", "n_padding", "n_units", "mean", "low", "high", "n_draws", "expected"]


def _noise(noise):
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {list(NOISES)}, got {noise!r}")


def noise_units(X, k: int, rng, noise: str = "gaussian") -> np.ndarray:
    """(M, k) units independent of the rows of X (M, N), with the variance of X's units.

    gaussian: i.i.d. normal, each with the mean variance of X's units;
    shuffled: each a copy of a randomly chosen unit of X with its rows
    permuted (the same values, so the same marginal distribution, in an
    order unrelated to X's).
    """
    _noise(noise)
    X = np.asarray(X, dtype=np.float64)
    M, N = X.shape
    if noise == "gaussian":
        return np.sqrt(X.var(axis=0).mean()) * rng.standard_normal((M, k))
    out = np.empty((M, k))
    for i, j in enumerate(rng.integers(0, N, size=k)):
        out[:, i] = X[rng.permutation(M), j]
    return out


def expected_values(X, k: int, noise: str = "gaussian") -> dict:
    """Each measure between X (M, N) and [X, Z] as M grows, for k noise units Z from `noise_units`.

    With C the covariance of X's units and v_j their variances, Z^T Z / M
    tends to diag(variances of Z) and X^T Z / M to 0, so linear CKA tends to
    ||C|| / sqrt(||C||^2 + s) with s = k mean(v)^2 (gaussian) or k mean(v^2)
    (shuffled), Frobenius norms; earlier -> new r2 to the share of [X, Z]'s
    variance that lies in X, N / (N + k) (Z has X's mean unit variance, in
    expectation for shuffled); new -> earlier r2 to 1 (up to the ridge). RSA
    has no closed form (NaN).
    """
    _noise(noise)
    X = np.asarray(X, dtype=np.float64)
    N = X.shape[1]
    C = np.cov(X, rowvar=False, bias=True).reshape(N, N)
    v = np.diag(C)
    s = k * (v.mean() ** 2 if noise == "gaussian" else np.mean(v ** 2))
    cc = float(np.sum(C * C))
    return {"cka": float(np.sqrt(cc / (cc + s))), "rsa": np.nan, "earlier_to_new": N / (N + k),
            "new_to_earlier": 1.0}


def _measures(R, P, n_train, rho, rsa_options, features) -> dict:
    """The four measures between R (earlier) and P (new), both (T, B, units); trials n_train: are held out."""
    cka, rsa = METRICS["cka"], METRICS["rsa"]
    flat = [(A[:, :n_train].reshape(-1, A.shape[2]), A[:, n_train:].reshape(-1, A.shape[2])) for A in (R, P)]
    (r_train, r_test), (p_train, p_test) = flat
    return {
        "cka": cka.compare(features["cka"], cka.prepare(P)),
        "rsa": rsa.compare(features["rsa"], rsa.prepare(P, **rsa_options)),
        "earlier_to_new": linear_predictability(r_train, p_train, r_test, p_test, rho=rho),
        "new_to_earlier": linear_predictability(p_train, r_train, p_test, r_test, rho=rho),
    }


def padding_table(states, paddings, n_draws: int, seed: int, noise: str = "gaussian", test_fraction: float = 0.5,
                  rho: float = 1e-3, rsa_options: dict | None = None) -> pd.DataFrame:
    """Long table (COLUMNS): each measure between the rates `states` (T, B, N) and the same rates padded
    with n_padding = round(padding * N) noise units, for n_draws independent draws of the noise.

    Predictability is the held-out r2 of analysis.similarity (ridge rho relative),
    fitted on the first trials and scored on the last test_fraction of them;
    CKA and RSA use the metrics of analysis.similarity (RSA with rsa_options).
    expected is the measure's large-sample value (expected_values).
    """
    _noise(noise)
    R = np.asarray(states, dtype=np.float64)
    if R.ndim != 3:
        raise ValueError(f"states must be (T, B, N), got shape {R.shape}")
    T, B, N = R.shape
    if any(p < 0 for p in paddings):
        raise ValueError(f"paddings must be >= 0 (multiples of the {N} units), got {list(paddings)}")
    if n_draws < 1:
        raise ValueError(f"n_draws must be >= 1, got {n_draws}")
    n_test = max(1, int(round(B * test_fraction)))
    if not 0 < n_test < B:
        raise ValueError(f"test_fraction={test_fraction} of {B} trials leaves no training or test trials")
    rsa_options = dict(rsa_options or {})
    features = {"cka": METRICS["cka"].prepare(R), "rsa": METRICS["rsa"].prepare(R, **rsa_options)}
    flat = R.reshape(-1, N)
    rows = []
    for i, padding in enumerate(paddings):
        k = int(round(padding * N))
        expected = expected_values(flat, k, noise)
        for draw in range(n_draws):
            if k > 0 or draw == 0:  # without padding every draw is the same
                rng = np.random.default_rng([seed, i, draw])
                P = np.concatenate([R, noise_units(flat, k, rng, noise).reshape(T, B, k)], axis=2)
                values = _measures(R, P, B - n_test, rho, rsa_options, features)
            rows += [{"padding": float(padding), "n_padding": k, "n_units": N, "draw": draw, "measure": m,
                      "value": values[m], "expected": expected[m]} for m in MEASURES]
    return pd.DataFrame(rows, columns=COLUMNS)


def summarise(table: pd.DataFrame, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Each measure at each padding: mean over the noise draws with its 95% percentile-bootstrap interval
    (low, high; NaN with one draw), the number of draws and the large-sample value (SUMMARY_COLUMNS)."""
    rows = []
    for (measure, padding), group in table.groupby(["measure", "padding"], sort=False):
        mean, low, high = bootstrap_mean(group["value"], n_boot=n_boot, seed=seed)
        first = group.iloc[0]
        rows.append({"measure": measure, "padding": padding, "n_padding": int(first["n_padding"]),
                     "n_units": int(first["n_units"]), "mean": mean, "low": low, "high": high,
                     "n_draws": len(group), "expected": first["expected"]})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)

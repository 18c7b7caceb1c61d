"""Ranking hypotheses against a recording: which networks' activity resembles recorded population activity.

A recording is `activity` (T, n_trials, n_units) with the task `inputs`
(T, n_trials, n_in) of each recorded trial and optionally integer `condition`
labels (n_trials,) that group repeated trials. Without labels, trials with
identical inputs are repeats of one condition. Networks are run noise-free on
the same inputs; both sides are averaged over the trials of each condition
(time x conditions x units) and compared with the project's metrics
(analysis.similarity): held-out ridge predictability in both directions
(cross-validated over conditions), CKA, RSA, Procrustes angle, DSA.

Uncertainty: the recording's trials are resampled within each condition
(n_boot bootstrap samples; conditions of one trial are resampled as trials),
and every score is recomputed on the same resampled trials (the networks'
averages too). Resampling with replacement repeats trials, so a sample
averages fewer distinct trials: its noise is larger and lowers every
similarity. The samples are therefore re-centred (their median moved onto
the estimate) before their percentiles are taken: the interval measures the
spread due to which trials were recorded, not that bias. A family's score is
the mean over its networks, its interval that of the mean over the same
bootstrap samples.

Noise ceiling, from random split halves of each condition's trials (averages
A and B of the two halves; the mean over n_splits splits):
- network -> recording predictability: the explainable variance fraction
  sum_u cov(A_u, B_u) / sum_u var(Y_u) (Y the average of all trials): the r2
  a noise-free model of the true responses would reach, since the two halves
  share only the signal (cov(A, B) estimates the signal variance) and Y holds
  the signal plus the noise of the full average;
- every other measure: the measure between A and B, a conservative ceiling
  (each half averages half the trials, so is noisier than Y; a network can
  exceed it).
Without repeated trials there is no ceiling (NaN).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..netids import family_of, family_order, net_order

__all__ = ["Recording", "check_recording", "load_recording", "measures", "rank_hypotheses", "NETWORK_COLUMNS",
           "FAMILY_COLUMNS", "METRICS", "DEFAULT_METRICS", "BETTER", "read_ranking"]

log = logging.getLogger("altrnn.analysis.recordings")

METRICS = ("predictability", "cka", "rsa", "procrustes", "dsa")
DEFAULT_METRICS = ("predictability", "cka", "procrustes", "dsa")
BETTER = {"predictability": "higher", "cka": "higher", "rsa": "higher", "procrustes": "lower", "dsa": "lower"}
ARRAYS = {"activity": "(T, n_trials, n_units)", "inputs": "(T, n_trials, n_in)", "condition": "(n_trials,)"}
NETWORK_COLUMNS = ["net_id", "family", "metric", "direction", "better", "value", "ci_low", "ci_high", "ceiling",
                   "rank"]
FAMILY_COLUMNS = ["family", "metric", "direction", "better", "value", "ci_low", "ci_high", "ceiling",
                  "n_networks", "rank"]


@dataclass(frozen=True)
class Recording:
    """Checked recorded activity and the trials that produced it; groups: trial indices of each condition."""

    activity: np.ndarray  # (T, n_trials, n_units) float64
    inputs: np.ndarray  # (T, n_trials, n_in)
    groups: tuple  # one index array per condition, in the order of first appearance
    path: str = "recording"

    @property
    def has_repeats(self) -> bool:
        return all(g.size >= 2 for g in self.groups)


# --- checking ---------------------------------------------------------------------------------------


def _numeric(path, name, a):
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)) or a.dtype == bool:
        raise ValueError(f"{path}: array {name!r} must be numeric {ARRAYS[name]}, got dtype {a.dtype} with shape "
                         f"{a.shape}")


def _finite(path, name, a):
    bad = ~np.isfinite(a)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{path}: array {name!r} (shape {a.shape}) has {int(bad.sum())} NaN or infinite "
                         f"value(s), the first at index {first}")


def _conditions(path, condition, inputs) -> tuple:
    """Trial indices of each condition: from the labels, else from identical inputs."""
    if condition is None:
        flat = inputs.reshape(inputs.shape[0], inputs.shape[1], -1).transpose(1, 0, 2).reshape(inputs.shape[1], -1)
        _, labels = np.unique(flat, axis=0, return_inverse=True)
    else:
        labels = condition
    labels = np.asarray(labels).ravel()
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first)  # conditions in order of first appearance
    groups = tuple(np.flatnonzero(inverse == k) for k in order)
    if len(groups) < 2:
        where = "array 'condition'" if condition is not None else "array 'inputs' (trials with equal inputs)"
        raise ValueError(f"{path}: {where} makes a single condition of all {labels.size} trials; the comparison "
                         "needs at least 2 conditions (label trials with distinct `condition` values)")
    return groups


def check_recording(arrays: dict, n_in: int, path="recording") -> Recording:
    """A Recording from the arrays of a recording file; ValueError naming the file, the array and its shape."""
    unknown = sorted(set(arrays) - set(ARRAYS))
    missing = [k for k in ("activity", "inputs") if k not in arrays]
    if missing or unknown:
        raise ValueError(f"{path}: missing array(s) {missing}, unexpected array(s) {unknown}; a recording holds "
                         f"activity {ARRAYS['activity']}, inputs {ARRAYS['inputs']} and optionally condition "
                         f"{ARRAYS['condition']}")
    activity, inputs = np.asarray(arrays["activity"]), np.asarray(arrays["inputs"])
    for name, a in (("activity", activity), ("inputs", inputs)):
        if a.ndim != 3:
            raise ValueError(f"{path}: array {name!r} must be {ARRAYS[name]}, got shape {a.shape}")
        _numeric(path, name, a)
    T, K, U = activity.shape
    if T < 2 or K < 1:
        raise ValueError(f"{path}: array 'activity' {ARRAYS['activity']} needs T >= 2 time steps and at least one "
                         f"trial, got shape {activity.shape}")
    if U == 0:
        raise ValueError(f"{path}: array 'activity' {ARRAYS['activity']} has no units, shape {activity.shape}")
    if inputs.shape[:2] != (T, K):
        raise ValueError(f"{path}: arrays 'activity' {activity.shape} and 'inputs' {inputs.shape} disagree: both "
                         f"must be (T, n_trials, ...) with the same T ({T} vs {inputs.shape[0]}) and number of "
                         f"trials ({K} vs {inputs.shape[1]})")
    if inputs.shape[2] != n_in:
        raise ValueError(f"{path}: array 'inputs' has shape {inputs.shape}: {inputs.shape[2]} input channel(s), "
                         f"but the task has n_in = {n_in}")
    _finite(path, "activity", activity)
    _finite(path, "inputs", inputs)
    if np.ptp(activity) == 0:
        raise ValueError(f"{path}: array 'activity' (shape {activity.shape}) is constant: nothing to compare")
    condition = arrays.get("condition")
    if condition is not None:
        condition = np.asarray(condition)
        if condition.shape != (K,) or not np.issubdtype(condition.dtype, np.integer):
            raise ValueError(f"{path}: array 'condition' must hold one integer label per trial, shape ({K},), "
                             f"got dtype {condition.dtype} with shape {condition.shape}")
    return Recording(activity.astype(np.float64), inputs.astype(np.float64),
                     _conditions(path, condition, inputs), str(path))


def load_recording(path, n_in: int) -> Recording:
    """Read and check a recording .npz (an unreadable file raises ResultFileError naming it)."""
    from ..io import read_npz

    return check_recording(read_npz(path), n_in, path)


# --- scores ------------------------------------------------------------------------------------------


def measures(metrics) -> list[tuple[str, str]]:
    """(metric, direction) pairs: predictability in both directions, every other metric once."""
    out = []
    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"unknown recordings metric {m!r}; metrics: {list(METRICS)}")
        out += [(m, "net_to_rec"), (m, "rec_to_net")] if m == "predictability" else [(m, "symmetric")]
    return out


def better(metric: str) -> str:
    """'higher' for similarities and predictability, 'lower' for distances."""
    return BETTER[metric]


def _average(data, items) -> np.ndarray:
    """(T, C, D): data (T, K, D) averaged over the trials of each item (an index array per condition)."""
    M = np.zeros((data.shape[1], len(items)))
    for c, idx in enumerate(items):
        np.add.at(M[:, c], idx, 1.0 / len(idx))
    return np.einsum("tkd,kc->tcd", data, M)


def cv_predictability(X, Y, folds, rho) -> float:
    """Held-out ridge r2 of Y (T, C, U) from X (T, C, N), cross-validated over conditions.

    folds: the fold of each condition. Pooled over folds as 1 - sum SS_res / sum SS_tot, each fold's baseline
    the mean of its training rows (as in similarity.linear_predictability).
    """
    from . import similarity  # here: reading a ranking table (figure jobs) never loads numba

    folds = np.asarray(folds)
    res = tot = 0.0
    for f in np.unique(folds):
        test, train = folds == f, folds != f
        if not train.any():
            continue
        xtr, ytr = X[:, train].reshape(-1, X.shape[2]), Y[:, train].reshape(-1, Y.shape[2])
        xte, yte = X[:, test].reshape(-1, X.shape[2]), Y[:, test].reshape(-1, Y.shape[2])
        denom = float(np.sum((yte - ytr.mean(axis=0)) ** 2))
        r2 = similarity.linear_predictability(xtr, ytr, xte, yte, rho=rho)
        res += (1.0 - r2) * denom
        tot += denom
    return 1.0 - res / tot if tot > 0 else np.nan


def _split_options(metric, options):
    from . import similarity  # here: reading a ranking table (figure jobs) never loads numba

    m = similarity.METRICS[metric]
    opts = options.get(metric, {}) or {}
    return ({k: v for k, v in opts.items() if k in m.prepare_options},
            {k: v for k, v in opts.items() if k in m.compare_options}, m)


def _prepared(metric, A, options):
    prep, _, m = _split_options(metric, options)
    return m.prepare(A, **prep)


def _compare(metric, fa, fb, options):
    _, comp, m = _split_options(metric, options)
    return m.compare(fa, fb, **comp)


def _scores(nets: dict, Y, folds, todo, options, rho, path, warned: set) -> np.ndarray:
    """(n_nets, n_measures): every measure of every network (T, C, N) against the recording Y (T, C, U).

    A measure undefined for a network (e.g. CKA of a silent network) is NaN, with one warning naming both; one
    undefined for the recording is an error naming the file.
    """
    out = np.full((len(nets), len(todo)), np.nan)
    try:
        rec = {m: _prepared(m, Y, options) for m, _ in todo if m != "predictability"}
    except ValueError as err:
        raise ValueError(f"{path}: array 'activity' averaged by condition, shape {Y.shape} (T, conditions, "
                         f"units): {err}") from None
    for i, (name, X) in enumerate(nets.items()):
        prepared = {}
        for j, (m, direction) in enumerate(todo):
            try:
                if m == "predictability":
                    a, b = (X, Y) if direction == "net_to_rec" else (Y, X)
                    out[i, j] = cv_predictability(a, b, folds, rho)
                else:
                    if m not in prepared:
                        prepared[m] = _prepared(m, X, options)
                    out[i, j] = _compare(m, prepared[m], rec[m], options)
            except ValueError as err:
                if (name, m, direction) not in warned:
                    warned.add((name, m, direction))
                    log.warning("network %s: %s (%s) against %s is undefined (NaN): %s", name, m, direction, path,
                                err)
    return out


def _ceiling(recording, folds, todo, options, rho, n_splits, rng) -> np.ndarray:
    """(n_measures,): the noise ceiling of each measure from split halves (module docstring); NaN without repeats."""
    if not recording.has_repeats:
        sizes = [g.size for g in recording.groups]
        log.warning("%s: %d of %d conditions have a single trial: no split-half noise ceiling", recording.path,
                    sum(s < 2 for s in sizes), len(sizes))
        return np.full(len(todo), np.nan)
    values = np.zeros((n_splits, len(todo)))
    Y = _average(recording.activity, recording.groups)
    Yc = Y.reshape(-1, Y.shape[2]) - Y.reshape(-1, Y.shape[2]).mean(axis=0)
    for s in range(n_splits):
        halves = [rng.permutation(g) for g in recording.groups]
        A = _average(recording.activity, [h[: h.size // 2] for h in halves])
        B = _average(recording.activity, [h[h.size // 2:] for h in halves])
        for j, (m, direction) in enumerate(todo):
            if m == "predictability" and direction == "net_to_rec":
                a = A.reshape(-1, A.shape[2]) - A.reshape(-1, A.shape[2]).mean(axis=0)
                b = B.reshape(-1, B.shape[2]) - B.reshape(-1, B.shape[2]).mean(axis=0)
                values[s, j] = float(np.vdot(a, b)) / float(np.vdot(Yc, Yc))
            elif m == "predictability":
                values[s, j] = 0.5 * (cv_predictability(A, B, folds, rho) + cv_predictability(B, A, folds, rho))
            else:
                values[s, j] = 0.5 * (_compare(m, _prepared(m, A, options), _prepared(m, B, options), options)
                                      + _compare(m, _prepared(m, B, options), _prepared(m, A, options), options))
    return values.mean(axis=0)


def _resample(groups, rng):
    """One bootstrap sample: (items, ids): trials resampled within each condition; single-trial conditions
    resampled as trials (ids: the original condition of each item, for the folds)."""
    single = [c for c, g in enumerate(groups) if g.size == 1]
    items, ids = [], []
    for c, g in enumerate(groups):
        if g.size > 1:
            items.append(rng.choice(g, size=g.size, replace=True))
            ids.append(c)
    for c in rng.choice(single, size=len(single), replace=True) if single else []:
        items.append(groups[c])
        ids.append(c)
    return items, np.asarray(ids)


def _rank(values, higher: bool) -> np.ndarray:
    key = -values if higher else values
    key = np.where(np.isfinite(key), key, np.inf)
    return pd.Series(key).rank(method="min").to_numpy().astype(int)


def _quantiles(samples, estimate, level):
    """Percentile interval of bootstrap samples (n_boot, n) re-centred on the estimates (n,) (module docstring)."""
    tail = (1 - level) / 2
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (an undefined score) stay NaN
        samples = samples - np.nanmedian(samples, axis=0) + estimate
        ok = np.isfinite(samples).any(axis=0)
        low = np.full(samples.shape[1:], np.nan)
        high = np.full(samples.shape[1:], np.nan)
        if ok.any():
            low[ok] = np.nanquantile(samples[:, ok], tail, axis=0)
            high[ok] = np.nanquantile(samples[:, ok], 1 - tail, axis=0)
    return low, high


def rank_hypotheses(rates: dict, recording: Recording, metrics=DEFAULT_METRICS, *, options=None, n_boot=200,
                    n_splits=10, n_folds=5, rho=1e-3, level=0.95, seed=0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(networks, families): every network's and every family's score against the recording, with intervals.

    rates: net_id -> noise-free rates (T, n_trials, N) of the network on recording.inputs. options: metric ->
    keyword options of its prepare/compare steps (the similarity section's). Tables: NETWORK_COLUMNS and
    FAMILY_COLUMNS; rank 1 is the best network (family) on that measure.
    """
    if not rates:
        raise ValueError("no networks to compare with the recording")
    T, K, _ = recording.activity.shape
    shapes = {n: np.shape(r) for n, r in rates.items() if np.ndim(r) != 3 or np.shape(r)[:2] != (T, K)}
    if shapes:
        raise ValueError(f"network rates must be (T, n_trials, N) = ({T}, {K}, N) like {recording.path!r}'s "
                         f"activity, got {shapes}")
    if n_boot < 1 or n_splits < 1 or n_folds < 2:
        raise ValueError(f"need n_boot >= 1, n_splits >= 1 and n_folds >= 2, got {n_boot}, {n_splits}, {n_folds}")
    options = options or {}
    todo = measures(metrics)
    names = net_order(list(rates))
    rates = {n: np.asarray(rates[n], dtype=np.float64) for n in names}
    rng = np.random.default_rng(seed)
    C = len(recording.groups)
    fold_of = rng.permutation(C) % min(n_folds, C)

    warned = set()

    def score(items, ids):
        nets = {n: _average(r, items) for n, r in rates.items()}
        return _scores(nets, _average(recording.activity, items), fold_of[ids], todo, options, rho,
                       recording.path, warned)

    values = score(list(recording.groups), np.arange(C))
    boots = np.stack([score(*_resample(recording.groups, rng)) for _ in range(n_boot)])
    ceiling = _ceiling(recording, fold_of, todo, options, rho, n_splits, rng)
    families = [family_of(n) for n in names]
    fams = family_order(families)
    members = {f: [i for i, g in enumerate(families) if g == f] for f in fams}
    fam_values = np.stack([values[members[f]].mean(axis=0) for f in fams])
    fam_boots = np.stack([boots[:, members[f]].mean(axis=1) for f in fams], axis=1)
    net_rows, fam_rows = [], []
    for j, (m, direction) in enumerate(todo):
        higher = better(m) == "higher"
        lo, hi = _quantiles(boots[:, :, j], values[:, j], level)
        for i, n, r in zip(range(len(names)), names, _rank(values[:, j], higher)):
            net_rows.append([n, families[i], m, direction, better(m), values[i, j], lo[i], hi[i], ceiling[j], r])
        lo, hi = _quantiles(fam_boots[:, :, j], fam_values[:, j], level)
        for i, f, r in zip(range(len(fams)), fams, _rank(fam_values[:, j], higher)):
            fam_rows.append([f, m, direction, better(m), fam_values[i, j], lo[i], hi[i], ceiling[j],
                             len(members[f]), r])
    return pd.DataFrame(net_rows, columns=NETWORK_COLUMNS), pd.DataFrame(fam_rows, columns=FAMILY_COLUMNS)


def read_ranking(path) -> pd.DataFrame:
    """A ranking table (networks or families), checked: unreadable, empty or foreign files raise ResultFileError."""
    from ..errors import ResultFileError

    try:
        table = pd.read_csv(path)
    except (FileNotFoundError, pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ResultFileError(f"{path}: not a readable ranking table: {exc}") from None
    columns = NETWORK_COLUMNS if "net_id" in table.columns else FAMILY_COLUMNS
    missing = [c for c in columns if c not in table.columns]
    if missing or table.empty:
        raise ResultFileError(f"{path}: missing column(s) {missing} or no rows (truncated?)")
    return table

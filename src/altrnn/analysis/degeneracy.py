"""Degeneracy of a family of networks that solve the same task, at three levels.

- behaviour: how differently the networks generalise out of distribution
  (spread of the log loss across networks, per condition);
- dynamics: mean pairwise DSA distance;
- weights: mean pairwise distance between recurrent weight matrices after the
  best matching of neurons (networks are only defined up to a relabelling).

degeneracy_table gathers them into one tidy table: level, measure, value, ci_low, ci_high, n_networks.
"""

import itertools

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from .statistics import bootstrap_networks, pair_mean

__all__ = ["behavioural_degeneracy", "dynamical_degeneracy", "align_permutation", "permutation_distance",
           "weight_degeneracy", "degeneracy_table"]

IN_DISTRIBUTION = "in_distribution"
COLUMNS = ["level", "measure", "value", "ci_low", "ci_high", "n_networks"]


# --- behaviour ----------------------------------------------------------------------------------------


def behavioural_degeneracy(eval_table: pd.DataFrame, loss_floor=1e-12) -> pd.DataFrame:
    """Spread of the loss across networks, per evaluation condition and averaged over OOD conditions.

    eval_table: columns net_id, condition, loss (one row per network and
    condition, as the evaluate step writes them with a net_id added);
    condition "in_distribution" is the training distribution, every other
    condition an out-of-distribution variant.

    Measure "log10_loss_std[c]": the sample standard deviation (ddof=1) across
    networks of log10(loss) in condition c. On the log scale the spread does
    not depend on the task's loss units and treats a tenfold difference the
    same at any loss level: 1.0 means the networks' losses typically differ by
    a factor of ten. "ood_log10_loss_std": its mean over the OOD conditions,
    the behavioural degeneracy proper (networks that fit the training
    distribution equally well may generalise differently). Losses below
    loss_floor are raised to it before the log.
    """
    missing = {"net_id", "condition", "loss"} - set(eval_table.columns)
    if missing:
        raise ValueError(f"eval_table is missing column(s) {sorted(missing)}")
    if eval_table.duplicated(["net_id", "condition"]).any():
        raise ValueError("eval_table has more than one row for some (net_id, condition)")
    loss = eval_table["loss"].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(loss)) or np.any(loss < 0):
        raise ValueError("eval_table.loss must be finite and >= 0")
    if eval_table["net_id"].nunique() < 2:
        raise ValueError("behavioural degeneracy needs at least 2 networks in eval_table")
    logs = eval_table.assign(log_loss=np.log10(np.maximum(loss, loss_floor)))
    rows, ood = [], []
    for condition, group in logs.groupby("condition", sort=False):
        n = len(group)
        value = float(group["log_loss"].std(ddof=1)) if n >= 2 else np.nan
        rows.append({"level": "behaviour", "measure": f"log10_loss_std[{condition}]", "value": value,
                     "n_networks": n})
        if condition != IN_DISTRIBUTION:
            ood.append((value, n))
    if ood:
        values = [v for v, _ in ood]
        rows.append({"level": "behaviour", "measure": "ood_log10_loss_std",
                     "value": float(np.nanmean(values)) if not np.all(np.isnan(values)) else np.nan,
                     "n_networks": min(n for _, n in ood)})
    return pd.DataFrame(rows, columns=COLUMNS)


# --- dynamics -----------------------------------------------------------------------------------------


def _square(distances, name) -> tuple[list, np.ndarray]:
    """(names, square matrix) from a long table net_a, net_b, value or a square array."""
    if isinstance(distances, pd.DataFrame):
        missing = {"net_a", "net_b", "value"} - set(distances.columns)
        if missing:
            raise ValueError(f"{name} is missing column(s) {sorted(missing)}")
        names = list(dict.fromkeys(list(distances["net_a"]) + list(distances["net_b"])))
        square = distances.pivot_table(index="net_a", columns="net_b", values="value", aggfunc="mean")
        D = square.reindex(index=names, columns=names).to_numpy(dtype=np.float64)
    else:
        D = np.asarray(distances, dtype=np.float64)
        if D.ndim != 2 or D.shape[0] != D.shape[1]:
            raise ValueError(f"{name} must be a long table (net_a, net_b, value) or a square matrix, "
                             f"got shape {D.shape}")
        names = list(range(D.shape[0]))
    off = ~np.eye(len(names), dtype=bool)
    if not np.all(np.isfinite(D[off])):
        raise ValueError(f"{name} misses some pairs of networks or has non-finite values")
    return names, D


def dynamical_degeneracy(dsa) -> float:
    """Mean DSA distance over the unordered pairs of distinct networks ((D_ab + D_ba) / 2 per pair)."""
    names, D = _square(dsa, "dsa")
    n = len(names)
    if n < 2:
        raise ValueError("dynamical degeneracy needs at least 2 networks")
    iu = np.triu_indices(n, 1)
    return float(np.mean((D[iu] + D.T[iu]) / 2))


# --- weights ------------------------------------------------------------------------------------------


def _recurrent(name, W) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square recurrent weight matrix, got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError(f"{name} contains non-finite values")
    return W


def _signature(W) -> np.ndarray:
    """Per-neuron description that a relabelling of neurons leaves unchanged.

    Row i: [W_ii, sorted incoming weights W_i,j (j != i), sorted outgoing
    weights W_j,i (j != i)].
    """
    n = W.shape[0]
    off = ~np.eye(n, dtype=bool)
    incoming = np.sort(W[off].reshape(n, n - 1), axis=1)
    outgoing = np.sort(W.T[off].reshape(n, n - 1), axis=1)
    return np.hstack([np.diag(W)[:, None], incoming, outgoing])


def _match(W_a, W_b, p) -> float:
    return float(np.vdot(W_a[np.ix_(p, p)], W_b))


def align_permutation(W_a, W_b, n_rounds=20) -> np.ndarray:
    """Permutation p (neuron k of b <-> neuron p[k] of a) that makes W_a[p][:, p] close to W_b.

    Start: one linear assignment on the squared distance between the neurons'
    permutation-invariant signatures (self weight, sorted incoming and sorted
    outgoing weights); if W_b is an exact relabelling of W_a with distinct
    signatures, this alone recovers it. Then up to n_rounds of refinement of
    <W_a[p][:, p], W_b> (a quadratic assignment problem): linearise it at the
    current p (score of a -> k: (W_b P W_a^T + W_b^T P W_a)[k, i]), solve the
    linear assignment, keep the new p only if the match improves.
    """
    W_a, W_b = _recurrent("W_a", W_a), _recurrent("W_b", W_b)
    if W_a.shape != W_b.shape:
        raise ValueError(f"W_a and W_b must have the same shape, got {W_a.shape} and {W_b.shape}")
    if int(n_rounds) != n_rounds or n_rounds < 0:
        raise ValueError(f"n_rounds must be an integer >= 0, got {n_rounds}")
    n = W_a.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    sa, sb = _signature(W_a), _signature(W_b)
    cost = (sb ** 2).sum(1)[:, None] + (sa ** 2).sum(1)[None, :] - 2 * sb @ sa.T
    _, p = linear_sum_assignment(cost)
    best = _match(W_a, W_b, p)
    for _ in range(int(n_rounds)):
        P = np.zeros((n, n))
        P[np.arange(n), p] = 1.0
        score = W_b @ P @ W_a.T + W_b.T @ P @ W_a
        _, q = linear_sum_assignment(score, maximize=True)
        value = _match(W_a, W_b, q)
        if value <= best * (1 + 1e-12) + 1e-300:
            break
        p, best = q, value
    return p.astype(np.int64)


def permutation_distance(W_a, W_b, n_rounds=20) -> float:
    """||W_a[p][:, p] - W_b||_F / sqrt(||W_a||_F^2 + ||W_b||_F^2) at the permutation p of align_permutation.

    0 for a relabelled copy; 1 when the aligned matrices are uncorrelated
    (two independent random matrices, up to what the alignment finds);
    sqrt(2) at most. The normalisation makes it blind to a common scale.
    """
    W_a, W_b = _recurrent("W_a", W_a), _recurrent("W_b", W_b)
    denom = np.sqrt(np.vdot(W_a, W_a) + np.vdot(W_b, W_b))
    if denom == 0.0:
        raise ValueError("permutation distance is undefined when W_a and W_b are both zero")
    p = align_permutation(W_a, W_b, n_rounds)
    return float(np.linalg.norm(W_a[np.ix_(p, p)] - W_b) / denom)


def weight_degeneracy(weights: dict, n_rounds=20) -> float:
    """Mean permutation_distance over the unordered pairs of networks; weights: net_id -> W (N, N)."""
    if len(weights) < 2:
        raise ValueError("weight degeneracy needs at least 2 networks")
    return pair_mean(pairwise_weight_distances(weights, n_rounds))


# --- all levels -------------------------------------------------------------------------------------


def _log_losses(eval_table, loss_floor=1e-12):
    """(networks x conditions) matrix of log10 loss, conditions in table order, and the condition names."""
    logs = eval_table.assign(log_loss=np.log10(np.maximum(eval_table["loss"].to_numpy(np.float64), loss_floor)))
    conditions = list(dict.fromkeys(logs["condition"]))
    M = logs.pivot(index="net_id", columns="condition", values="log_loss").reindex(columns=conditions)
    return M.to_numpy(np.float64), conditions


def _behaviour_intervals(eval_table, table, n_boot, seed):
    """Bootstrap intervals (resampling networks) of every behaviour row of `table`."""
    M, conditions = _log_losses(eval_table)
    ood = [i for i, c in enumerate(conditions) if c != IN_DISTRIBUTION]

    def spread(idx, cols):
        with np.errstate(invalid="ignore"):
            sd = np.nanstd(M[np.ix_(idx, cols)], axis=0, ddof=1)
        return float(np.mean(sd)) if len(np.unique(idx)) > 1 else np.nan

    out = []
    for measure in table["measure"]:
        cols = ood if measure == "ood_log10_loss_std" else [conditions.index(measure[len("log10_loss_std["):-1])]
        out.append(bootstrap_networks(M.shape[0], lambda idx: spread(idx, cols), n_boot, seed=seed))
    return out


def pairwise_weight_distances(weights: dict, n_rounds=20) -> np.ndarray:
    """Symmetric matrix of permutation_distance between every two networks (in dict order)."""
    names = list(weights)
    D = np.zeros((len(names), len(names)))
    for i, j in itertools.combinations(range(len(names)), 2):
        D[i, j] = D[j, i] = permutation_distance(weights[names[i]], weights[names[j]], n_rounds)
    return D


def degeneracy_table(eval_table=None, dsa=None, weights=None, n_rounds=20, n_boot=1000, seed=0) -> pd.DataFrame:
    """One tidy table (level, measure, value, ci_low, ci_high, n_networks) of whichever levels are given.

    eval_table -> behaviour rows (see behavioural_degeneracy); dsa (long table
    or square matrix of DSA distances) -> dynamics row "mean_dsa_distance";
    weights (net_id -> recurrent W) -> weights row "mean_permutation_distance".
    ci_low, ci_high: 95% percentile-bootstrap interval over resampled networks
    (analysis.statistics; pairs of a resampled network with itself are left
    out); NaN with fewer than 3 networks.
    """
    if eval_table is None and dsa is None and weights is None:
        raise ValueError("give at least one of eval_table, dsa, weights")
    parts = []
    if eval_table is not None:
        behaviour = behavioural_degeneracy(eval_table)
        behaviour[["ci_low", "ci_high"]] = _behaviour_intervals(eval_table, behaviour, n_boot, seed)
        parts.append(behaviour)
    if dsa is not None:
        names, D = _square(dsa, "dsa")
        D = (D + D.T) / 2
        low, high = bootstrap_networks(len(names), lambda idx: pair_mean(D, idx), n_boot, seed=seed)
        parts.append(pd.DataFrame([{"level": "dynamics", "measure": "mean_dsa_distance",
                                    "value": dynamical_degeneracy(dsa), "ci_low": low, "ci_high": high,
                                    "n_networks": len(names)}]))
    if weights is not None:
        if len(weights) < 2:
            raise ValueError("weight degeneracy needs at least 2 networks")
        W = pairwise_weight_distances(weights, n_rounds)
        low, high = bootstrap_networks(len(weights), lambda idx: pair_mean(W, idx), n_boot, seed=seed)
        parts.append(pd.DataFrame([{"level": "weights", "measure": "mean_permutation_distance",
                                    "value": pair_mean(W), "ci_low": low, "ci_high": high,
                                    "n_networks": len(weights)}]))
    return pd.concat(parts, ignore_index=True)[COLUMNS]

"""Degeneracy of a family of networks that solve the same task, at three levels and a representational check.

The published measures (Huang et al., NeurIPS 2025) first, then variants:

- behaviour: sigma_OOD, the standard deviation across networks of the raw
  loss under temporal generalisation (condition "temporal_x2": trial length x2,
  delay x2 for delayed discrimination); variant: the spread of log10 loss per
  condition;
- dynamics: mean pairwise DSA distance, beside a same-network null (DSA between
  two independent trial sets of one network) and the ratio of the two;
- weights: Frobenius distance between recurrent weight matrices after the best
  matching of neurons (networks are only defined up to a relabelling), divided
  by the number of recurrent weights; variant: a scale-free version;
- representations: mean pairwise SVCCA (analysis.svcca).

degeneracy_table gathers them into one tidy table: level, measure, value, ci_low, ci_high, n_networks.
"""

import itertools
import logging

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from . import similarity, svcca
from .statistics import bootstrap_networks, pair_mean

__all__ = ["behavioural_degeneracy", "sigma_ood", "dynamical_degeneracy", "dsa_null", "align_permutation",
           "permutation_distance", "weight_distance", "weight_degeneracy", "degeneracy_table"]

log = logging.getLogger("altrnn.analysis.degeneracy")

IN_DISTRIBUTION = "in_distribution"
TEMPORAL = "temporal_x2"  # the evaluate stage's temporal-generalisation condition
COLUMNS = ["level", "measure", "value", "ci_low", "ci_high", "n_networks"]


# --- behaviour ----------------------------------------------------------------------------------------


def _temporal_losses(eval_table, condition=TEMPORAL) -> np.ndarray:
    """Raw loss of every network in `condition` (empty, with a warning, if no network has it)."""
    missing = {"condition", "loss"} - set(eval_table.columns)
    if missing:
        raise ValueError(f"eval_table is missing column(s) {sorted(missing)}")
    loss = eval_table.loc[eval_table["condition"] == condition, "loss"].to_numpy(np.float64)
    if loss.size == 0:
        log.warning("no eval row has condition %r: sigma_ood is NaN", condition)
    return loss


def sigma_ood(eval_table: pd.DataFrame, condition=TEMPORAL) -> float:
    """The published behavioural degeneracy: sample std (ddof=1) across networks of the raw loss in `condition`.

    NaN if fewer than 2 networks were evaluated in it (with a logged warning if none was).
    """
    loss = _temporal_losses(eval_table, condition)
    return float(np.std(loss, ddof=1)) if loss.size >= 2 else np.nan


def behavioural_degeneracy(eval_table: pd.DataFrame, loss_floor=1e-12) -> pd.DataFrame:
    """sigma_ood, and the spread of log loss across networks per condition and averaged over OOD conditions.

    eval_table: columns net_id, condition, loss (one row per network and
    condition, as the evaluate step writes them with a net_id added);
    condition "in_distribution" is the training distribution, every other
    condition an out-of-distribution variant.

    Measure "sigma_ood": see sigma_ood (raw loss in "temporal_x2"; in the
    task's loss units, so comparable only between networks of one task).
    Measure "log10_loss_std[c]": the sample standard deviation (ddof=1) across
    networks of log10(loss) in condition c. On the log scale the spread does
    not depend on the task's loss units and treats a tenfold difference the
    same at any loss level: 1.0 means the networks' losses typically differ by
    a factor of ten. "ood_log10_loss_std": its mean over the OOD conditions,
    a unit-free variant of sigma_ood (networks that fit the training
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
    rows = [{"level": "behaviour", "measure": "sigma_ood", "value": sigma_ood(eval_table),
             "n_networks": int((eval_table["condition"] == TEMPORAL).sum())}]
    ood = []
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


def dsa_null(states_1, states_2, **options) -> float:
    """DSA distance between two independent trial sets (T, B, N) of one network: the same-network null.

    The floor that sampling puts under any DSA distance: a distance between two
    networks means something only in comparison. options: those of the
    similarity stage's DSA (analysis.similarity.METRICS["dsa"]).
    """
    metric = similarity.METRICS["dsa"]
    unknown = sorted(set(options) - set(metric.prepare_options) - set(metric.compare_options))
    if unknown:
        raise ValueError(f"unknown DSA option(s) {unknown}; accepted: "
                         f"{sorted(metric.prepare_options + metric.compare_options)}")
    prepare = {k: v for k, v in options.items() if k in metric.prepare_options}
    compare = {k: v for k, v in options.items() if k in metric.compare_options}
    return float(metric.compare(metric.prepare(states_1, **prepare), metric.prepare(states_2, **prepare),
                                **compare))


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


def _aligned(W_a, W_b, n_rounds) -> np.ndarray:
    """W_a[p][:, p] - W_b at the permutation p of align_permutation."""
    p = align_permutation(W_a, W_b, n_rounds)
    return W_a[np.ix_(p, p)] - W_b


def weight_distance(W_a, W_b, n_rounds=20) -> float:
    """The published weight distance: ||W_a[p][:, p] - W_b||_F / N^2 at the permutation p of align_permutation.

    Divided by the number of recurrent weights so that networks of different
    sizes can be compared; 0 for a relabelled copy.
    """
    W_a, W_b = _recurrent("W_a", W_a), _recurrent("W_b", W_b)
    return float(np.linalg.norm(_aligned(W_a, W_b, n_rounds)) / W_b.size)


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
    return float(np.linalg.norm(_aligned(W_a, W_b, n_rounds)) / denom)


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

    loss = eval_table.loc[eval_table["condition"] == TEMPORAL, "loss"].to_numpy(np.float64)

    def sigma(idx):
        return float(np.std(loss[idx], ddof=1)) if len(np.unique(idx)) > 1 else np.nan

    out = []
    for measure in table["measure"]:
        if measure == "sigma_ood":
            out.append(bootstrap_networks(loss.size, sigma, n_boot, seed=seed))
            continue
        cols = ood if measure == "ood_log10_loss_std" else [conditions.index(measure[len("log10_loss_std["):-1])]
        out.append(bootstrap_networks(M.shape[0], lambda idx: spread(idx, cols), n_boot, seed=seed))
    return out


def pairwise_weight_distances(weights: dict, n_rounds=20, per_parameter=False) -> np.ndarray:
    """Symmetric matrix of permutation_distance (or weight_distance, per_parameter=True) between every two
    networks (in dict order)."""
    return _pairwise_weights(weights, n_rounds)[1 if per_parameter else 0]


def _pairwise_weights(weights: dict, n_rounds):
    """(permutation_distance, weight_distance) matrices, one alignment per pair."""
    W = {name: _recurrent(f"weights[{name!r}]", w) for name, w in weights.items()}
    names = list(W)
    if len({w.shape for w in W.values()}) > 1:
        raise ValueError(f"every recurrent weight matrix must have the same shape, got "
                         f"{ {n: w.shape for n, w in W.items()} }")
    scale_free, per_parameter = np.zeros((2, len(names), len(names)))
    for i, j in itertools.combinations(range(len(names)), 2):
        a, b = W[names[i]], W[names[j]]
        denom = np.sqrt(np.vdot(a, a) + np.vdot(b, b))
        if denom == 0.0:
            raise ValueError(f"recurrent weights of {names[i]!r} and {names[j]!r} are both zero")
        diff = np.linalg.norm(_aligned(a, b, n_rounds))
        scale_free[i, j] = scale_free[j, i] = diff / denom
        per_parameter[i, j] = per_parameter[j, i] = diff / b.size
    return scale_free, per_parameter


def _null_vector(dsa_null, names) -> np.ndarray:
    """Same-network DSA values in the order of `names` (dsa_null: net_id -> value, or a sequence)."""
    if isinstance(dsa_null, dict):
        missing = [n for n in names if n not in dsa_null]
        if missing:
            raise ValueError(f"dsa_null has no value for network(s) {missing}")
        values = np.array([dsa_null[n] for n in names], dtype=np.float64)
    else:
        values = np.asarray(dsa_null, dtype=np.float64)
        if values.shape != (len(names),):
            raise ValueError(f"dsa_null must hold one value per network ({len(names)}), got shape {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("dsa_null values must be finite and >= 0")
    return values


def _ratio(numerator, denominator) -> float:
    return numerator / denominator if denominator > 0 else np.nan


def _row(level, measure, value, interval, n) -> dict:
    return {"level": level, "measure": measure, "value": value, "ci_low": interval[0], "ci_high": interval[1],
            "n_networks": n}


def degeneracy_table(eval_table=None, dsa=None, weights=None, dsa_null=None, representations=None,
                     n_rounds=20, n_boot=1000, seed=0, svcca_share=0.99, svcca_k=None) -> pd.DataFrame:
    """One tidy table (level, measure, value, ci_low, ci_high, n_networks) of whichever levels are given.

    eval_table -> behaviour rows (see behavioural_degeneracy), "sigma_ood" first.
    dsa (long table or square matrix of DSA distances) -> dynamics row
    "mean_dsa_distance"; with dsa_null (net_id -> same-network DSA, or one
    value per row of a matrix) also "dsa_null" (its mean over networks) and
    "dsa_ratio" (mean_dsa_distance / dsa_null; near 1: the networks differ no
    more than one network from itself).
    weights (net_id -> recurrent W) -> weights rows "mean_permutation_distance"
    (scale-free, see permutation_distance) and "mean_weight_distance" (the
    published one, see weight_distance).
    representations (net_id -> (M, N) or (T, B, N) activity on the same
    samples) -> representations row "mean_svcca" (mean pairwise SVCCA
    similarity, analysis.svcca with svcca_share / svcca_k).
    ci_low, ci_high: 95% percentile-bootstrap interval over resampled networks
    (analysis.statistics; pairs of a resampled network with itself are left
    out; a ratio is recomputed on each resample); NaN with fewer than 3 networks.
    """
    if eval_table is None and dsa is None and weights is None and representations is None:
        raise ValueError("give at least one of eval_table, dsa, weights, representations")
    if dsa_null is not None and dsa is None:
        raise ValueError("dsa_null needs dsa (the ratio compares them)")
    parts = []

    def boot(n, statistic):
        return bootstrap_networks(n, statistic, n_boot, seed=seed)

    if eval_table is not None:
        behaviour = behavioural_degeneracy(eval_table)
        behaviour[["ci_low", "ci_high"]] = _behaviour_intervals(eval_table, behaviour, n_boot, seed)
        parts.append(behaviour)
    if dsa is not None:
        names, D = _square(dsa, "dsa")
        D = (D + D.T) / 2
        n = len(names)
        rows = [_row("dynamics", "mean_dsa_distance", dynamical_degeneracy(dsa),
                     boot(n, lambda idx: pair_mean(D, idx)), n)]
        if dsa_null is not None:
            null = _null_vector(dsa_null, names)
            ratio = _ratio(pair_mean(D), null.mean())
            if np.isnan(ratio):
                log.warning("the same-network DSA null is 0 for every network: dsa_ratio is NaN")
            rows += [_row("dynamics", "dsa_null", float(null.mean()), boot(n, lambda idx: float(null[idx].mean())), n),
                     _row("dynamics", "dsa_ratio", ratio,
                          boot(n, lambda idx: _ratio(pair_mean(D, idx), null[idx].mean())), n)]
        parts.append(pd.DataFrame(rows))
    if weights is not None:
        if len(weights) < 2:
            raise ValueError("weight degeneracy needs at least 2 networks")
        n = len(weights)
        rows = [_row("weights", measure, pair_mean(W), boot(n, lambda idx, W=W: pair_mean(W, idx)), n)
                for measure, W in zip(("mean_permutation_distance", "mean_weight_distance"),
                                      _pairwise_weights(weights, n_rounds))]
        parts.append(pd.DataFrame(rows))
    if representations is not None:
        if len(representations) < 2:
            raise ValueError("representational degeneracy needs at least 2 networks")
        n = len(representations)
        S = svcca.pairwise_svcca(representations, svcca_share, svcca_k)
        parts.append(pd.DataFrame([_row("representations", "mean_svcca", pair_mean(S),
                                        boot(n, lambda idx: pair_mean(S, idx)), n)]))
    return pd.concat(parts, ignore_index=True)[COLUMNS]

"""Similarity between the activity of two networks on the same trials.

Pairwise measures of two matrices X (M, Nx) and Y (M, Ny) whose rows are the
same samples (time steps x trials) and whose columns are units:

- linear_predictability: directional and held-out (how much of Y a ridge fit
  on X explains on unseen rows);
- linear_cka: linear centred kernel alignment, symmetric, in [0, 1];
- rsa: correlation of the representational dissimilarity matrices;
- procrustes_angle: angular shape distance after the best rotation.

METRICS turns cka, rsa, procrustes and DSA (analysis.dsa) into one interface
(prepare once per network, compare per pair) so that `pairwise` computes a
whole matrix uniformly; `distance_matrix` turns its table into distances for MDS.
"""

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.spatial.distance import pdist

from ..insd.penalty import effective_rho
from . import dsa

__all__ = ["linear_predictability", "linear_cka", "rsa", "procrustes_angle", "Metric", "METRICS", "pairwise",
           "distance_matrix"]


def _matrix(name, A) -> np.ndarray:
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D (M, N), got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains non-finite values")
    return A


def _same_rows(**arrays):
    rows = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(rows.values())) != 1:
        raise ValueError(f"arrays must have the same number of rows, got {rows}")


def linear_predictability(X_train, Y_train, X_test, Y_test, rho=1e-3, rho_mode="relative") -> float:
    """Held-out r2 of the ridge regression of Y on X (intercept via the train means), pooled over Y's columns.

    r2 = 1 - ||Y_test - Y_hat||^2 / ||Y_test - mean(Y_train)||^2 (Frobenius):
    the baseline is the training mean, i.e. the intercept-only model fitted
    on the same training rows, so 0 means no better than that model and
    nothing about the test rows enters the prediction or its baseline. (The
    test mean, as in sklearn's r2_score on test rows, would give a lower r2:
    its baseline sum of squares is smaller by
    n_test ||mean(Y_test) - mean(Y_train)||^2.)
    """
    X_train, Y_train = _matrix("X_train", X_train), _matrix("Y_train", Y_train)
    X_test, Y_test = _matrix("X_test", X_test), _matrix("Y_test", Y_test)
    _same_rows(X_train=X_train, Y_train=Y_train)
    _same_rows(X_test=X_test, Y_test=Y_test)
    if X_train.shape[1] != X_test.shape[1] or Y_train.shape[1] != Y_test.shape[1]:
        raise ValueError("train and test arrays must have the same number of columns")

    x_mean, y_mean = X_train.mean(axis=0), Y_train.mean(axis=0)
    Xc, Yc = X_train - x_mean, Y_train - y_mean
    A = Xc.T @ Xc
    A[np.diag_indices_from(A)] += effective_rho(Xc, rho, rho_mode)
    try:
        coef = cho_solve(cho_factor(A), Xc.T @ Yc)
    except LinAlgError as err:
        raise ValueError("X_train^T X_train + rho I is not positive definite; use rho > 0") from err

    Y_true = Y_test - y_mean
    denom = float(np.vdot(Y_true, Y_true))
    if denom == 0.0:
        raise ValueError("Y_test equals the train mean everywhere: r2 is undefined")
    resid = Y_true - (X_test - x_mean) @ coef
    return 1.0 - float(np.vdot(resid, resid)) / denom


def linear_cka(X, Y) -> float:
    """Linear CKA ||X^T Y||^2 / (||X^T X|| ||Y^T Y||) of column-centred X and Y (Kornblith et al. 2019)."""
    X, Y = _matrix("X", X), _matrix("Y", Y)
    _same_rows(X=X, Y=Y)
    X = X - X.mean(axis=0)
    Y = Y - Y.mean(axis=0)
    xx = np.linalg.norm(X.T @ X)
    yy = np.linalg.norm(Y.T @ Y)
    if xx == 0.0 or yy == 0.0:
        raise ValueError("linear CKA is undefined for a constant X or Y")
    return float(np.linalg.norm(X.T @ Y) ** 2 / (xx * yy))


# --- RSA -------------------------------------------------------------------------------------------

RSA_MAX_ROWS = 1000


def _subsample_rows(n_rows, max_rows) -> np.ndarray:
    """Evenly spaced row indices, at most max_rows of them (deterministic)."""
    if int(max_rows) != max_rows or max_rows < 3:
        raise ValueError(f"max_rows must be an integer >= 3, got {max_rows}")
    if n_rows <= max_rows:
        return np.arange(n_rows)
    return np.unique(np.linspace(0, n_rows - 1, int(max_rows)).round().astype(np.int64))


def _rdm_vector(X, name, dissimilarity, correlation, max_rows) -> np.ndarray:
    """Upper triangle of the RDM of X's rows, ranked for Spearman, standardised to mean 0 and norm 1."""
    if dissimilarity not in ("euclidean", "correlation"):
        raise ValueError(f"dissimilarity must be 'euclidean' or 'correlation', got {dissimilarity!r}")
    if correlation not in ("spearman", "pearson"):
        raise ValueError(f"correlation must be 'spearman' or 'pearson', got {correlation!r}")
    X = X[_subsample_rows(X.shape[0], max_rows)]
    if X.shape[0] < 3:
        raise ValueError(f"{name} needs at least 3 rows for RSA, got {X.shape[0]}")
    if dissimilarity == "correlation":
        dev = X - X.mean(axis=1, keepdims=True)
        if np.any(np.einsum("ij,ij->i", dev, dev) == 0.0):
            raise ValueError(f"{name} has rows with no variance across units: correlation distance is "
                             "undefined for them; use dissimilarity='euclidean'")
    d = pdist(X, metric=dissimilarity)
    if correlation == "spearman":
        from scipy.stats import rankdata  # scipy.stats is slow to import; only needed here

        d = rankdata(d)
    d = d - d.mean()
    norm = np.linalg.norm(d)
    if norm == 0.0:
        raise ValueError(f"all dissimilarities of {name} are equal: RSA is undefined")
    return d / norm


def rsa(X, Y, dissimilarity="euclidean", correlation="spearman", max_rows=RSA_MAX_ROWS) -> float:
    """Representational similarity: correlation between the RDMs of X's rows and of Y's rows, in [-1, 1].

    Each row (one time step of one trial, or one condition if the caller has
    averaged rows by condition) is a condition; its RDM entry for rows i, j is
    their Euclidean distance by default: defined for every row, including the
    all-zero state at a trial's start where the correlation distance
    (dissimilarity="correlation", 1 - Pearson r across units) is not, and it
    keeps the magnitude of the population vectors. The RDMs are compared with
    Spearman's rank correlation by default, which asks only that the two
    networks order their distances alike (a saturating tanh network compresses
    large distances; Pearson would count that as dissimilarity).
    Invariant to rotations, permutations, translations and isotropic scaling
    of either network's units. With more than `max_rows` rows, max_rows evenly
    spaced rows are used (the same ones for X and Y), since the RDM has
    M(M-1)/2 entries.
    """
    X, Y = _matrix("X", X), _matrix("Y", Y)
    _same_rows(X=X, Y=Y)
    a = _rdm_vector(X, "X", dissimilarity, correlation, max_rows)
    b = _rdm_vector(Y, "Y", dissimilarity, correlation, max_rows)
    return float(np.clip(a @ b, -1.0, 1.0))


# --- Procrustes shape distance ------------------------------------------------------------------


def _shape(X, name) -> np.ndarray:
    """Column-centred X scaled to unit Frobenius norm."""
    X = X - X.mean(axis=0)
    norm = np.linalg.norm(X)
    if norm == 0.0:
        raise ValueError(f"{name} is constant: the Procrustes angle is undefined")
    return X / norm


def _nuclear_angle(Xn, Yn) -> float:
    return float(np.arccos(np.clip(np.linalg.norm(Xn.T @ Yn, "nuc"), 0.0, 1.0)))


def procrustes_angle(X, Y) -> float:
    """Angular Procrustes shape distance arccos(||X^T Y||_*) in radians, in [0, pi/2].

    X and Y are column-centred and scaled to unit Frobenius norm; the nuclear
    norm of X^T Y is max over orthogonal Q of <X Q, Y>, so the angle is the
    one left after the best rotation or reflection. Different widths are
    compared as if the narrower matrix were padded with zero columns (which
    does not change ||X^T Y||_*). Invariant to rotations, reflections,
    permutations, translations and isotropic scaling of either; a metric.
    """
    X, Y = _matrix("X", X), _matrix("Y", Y)
    _same_rows(X=X, Y=Y)
    return _nuclear_angle(_shape(X, "X"), _shape(Y, "Y"))


# --- registry ---------------------------------------------------------------------------------------


def _flat(states) -> np.ndarray:
    S = np.asarray(states, dtype=np.float64)
    if S.ndim != 3:
        raise ValueError(f"states must be (T, B, N), got shape {S.shape}")
    return _matrix("states", S.reshape(-1, S.shape[2]))


def _cka_prepare(states):
    X = _flat(states)
    X = X - X.mean(axis=0)
    norm = np.linalg.norm(X.T @ X)
    if norm == 0.0:
        raise ValueError("states are constant: linear CKA is undefined")
    return X, norm


def _cka_compare(fa, fb):
    (Xa, na), (Xb, nb) = fa, fb
    return float(np.linalg.norm(Xa.T @ Xb) ** 2 / (na * nb))


def _rsa_prepare(states, dissimilarity="euclidean", correlation="spearman", max_rows=RSA_MAX_ROWS):
    return _rdm_vector(_flat(states), "states", dissimilarity, correlation, max_rows)


def _procrustes_prepare(states):
    return _shape(_flat(states), "states")


def _dsa_prepare(states, n_delays=20, rank=15, delay_interval=1, whiten=True):
    S = np.asarray(states)
    if S.ndim != 3:
        raise ValueError(f"states must be (T, B, N), got shape {S.shape}")
    return dsa.fit_dmd(S, n_delays=n_delays, rank=rank, delay_interval=delay_interval, whiten=whiten).A


def _dsa_compare(fa, fb, n_restarts=dsa.N_RESTARTS, seed=0, patience=dsa.PATIENCE):
    return dsa.dsa_distance(fa, fb, score="angular", n_restarts=n_restarts, seed=seed, patience=patience)


def _identity(value):
    return float(value)


def _one_minus(value):
    return 1.0 - float(value)


@dataclass(frozen=True)
class Metric:
    """One comparison measure: prepare(states) once per network, compare(fa, fb) per pair.

    states is (T, B, N), the noise-free states or rates of one network on the
    shared batch of trials (networks may differ in N, not in T or B).
    kind is "similarity" (larger = more alike) or "distance" (0 = identical);
    distance(value) turns a value into a distance for MDS.
    """

    name: str
    kind: str
    prepare: Callable
    compare: Callable
    distance: Callable
    symmetric: bool = True
    prepare_options: tuple = field(default=())
    compare_options: tuple = field(default=())
    description: str = ""


METRICS: dict[str, Metric] = {
    "cka": Metric("cka", "similarity", _cka_prepare, _cka_compare, _one_minus,
                  description="linear CKA of the centred (T*B, N) activity; distance 1 - CKA, in [0, 1]"),
    "rsa": Metric("rsa", "similarity", _rsa_prepare, lambda a, b: float(np.clip(a @ b, -1.0, 1.0)), _one_minus,
                  prepare_options=("dissimilarity", "correlation", "max_rows"),
                  description="Spearman correlation of Euclidean RDMs over (subsampled) time steps x trials; "
                              "distance 1 - rho, in [0, 2]"),
    "procrustes": Metric("procrustes", "distance", _procrustes_prepare, _nuclear_angle, _identity,
                         description="angular Procrustes shape distance in radians, in [0, pi/2]; "
                                     "used as the distance"),
    "dsa": Metric("dsa", "distance", _dsa_prepare, _dsa_compare, _identity,
                  prepare_options=("n_delays", "rank", "delay_interval", "whiten"),
                  compare_options=("n_restarts", "seed", "patience"),
                  description="DSA angular distance between rank-reduced DMD operators of delay-embedded "
                              "states, in radians, in [0, pi]; used as the distance"),
}


def _metric(name) -> Metric:
    if name not in METRICS:
        raise ValueError(f"metric_name must be one of {sorted(METRICS)}, got {name!r}")
    return METRICS[name]


def pairwise(metric_name, states_by_net: dict, **options) -> pd.DataFrame:
    """Long table net_a, net_b, value over all ordered pairs of networks, diagonal included.

    states_by_net: net_id -> (T, B, N) states on the same trials. Each network
    is prepared once; a symmetric metric is computed once per unordered pair
    and written for both orders. options go to the metric's prepare or
    compare (see Metric.prepare_options / compare_options).
    """
    metric = _metric(metric_name)
    unknown = sorted(set(options) - set(metric.prepare_options) - set(metric.compare_options))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for metric {metric_name!r}; accepted: "
                         f"{sorted(metric.prepare_options + metric.compare_options)}")
    if not states_by_net:
        raise ValueError("states_by_net is empty")
    shapes = {name: np.shape(s) for name, s in states_by_net.items()}
    if any(len(shape) != 3 for shape in shapes.values()):
        raise ValueError(f"every entry of states_by_net must be (T, B, N), got shapes {shapes}")
    if len({shape[:2] for shape in shapes.values()}) != 1:
        raise ValueError(f"every network must be run on the same trials (same T and B), got shapes {shapes}")
    prep_opts = {k: v for k, v in options.items() if k in metric.prepare_options}
    comp_opts = {k: v for k, v in options.items() if k in metric.compare_options}
    names = list(states_by_net)
    features = {}
    for name in names:
        try:
            features[name] = metric.prepare(states_by_net[name], **prep_opts)
        except ValueError as err:
            raise ValueError(f"network {name!r}: {err}") from err
    values = {}
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if metric.symmetric and j < i:
                values[a, b] = values[b, a]
            else:
                values[a, b] = metric.compare(features[a], features[b], **comp_opts)
    rows = [{"net_a": a, "net_b": b, "value": values[a, b]} for a in names for b in names]
    return pd.DataFrame(rows, columns=["net_a", "net_b", "value"])


def distance_matrix(table: pd.DataFrame, metric_name) -> tuple[list, np.ndarray]:
    """(names, D): the square matrix of metric.distance(value) from a pairwise table (rows net_a, cols net_b)."""
    metric = _metric(metric_name)
    missing = {"net_a", "net_b", "value"} - set(table.columns)
    if missing:
        raise ValueError(f"table is missing column(s) {sorted(missing)}")
    names = list(dict.fromkeys(list(table["net_a"]) + list(table["net_b"])))
    square = table.pivot(index="net_a", columns="net_b", values="value").reindex(index=names, columns=names)
    if square.isna().to_numpy().any():
        raise ValueError("table does not hold every ordered pair of its networks")
    D = np.vectorize(metric.distance, otypes=[float])(square.to_numpy(dtype=np.float64))
    return names, D

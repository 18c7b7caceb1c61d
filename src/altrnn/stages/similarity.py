"""Stage `similarity`: comparisons over all networks of a unit, on one shared batch of noise-free trials.

Linear predictability (full and readout-null-space rates, both directions),
and each metric of analysis.similarity (CKA, RSA, Procrustes, DSA) with the
classical MDS of its distances.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..analysis import mds, similarity
from ..insd import null_space_projector
from ..io import load_model, write_csv
from ..model import forward
from ..netids import net_of
from ..tasks import make_task

log = logging.getLogger("altrnn.stages.similarity")


def shared_rates(models: dict, task, n_trials: int, seed: int) -> dict:
    """Noise-free rates r[1..T] (T, B, N) of every network on one shared batch of trials."""
    batch = task.batch(n_trials, np.random.default_rng(seed))
    return {name: forward(m.params, m.config, batch.inputs).r[1:].astype(np.float64) for name, m in models.items()}


def linear_predictability_table(models: dict, task, n_trials: int, seed: int, test_fraction: float,
                                rho: float) -> pd.DataFrame:
    """Held-out ridge r2 of net_b's rates predicted from net_a's, on full and readout-null-space rates.

    Trials are split, not time steps, so the test set is unseen trials. Long table:
    net_a (predictor), net_b (predicted), space (full | nullspace), value.
    ("nullspace", not "null": pandas would read "null" as a missing value.)
    """
    rates = shared_rates(models, task, n_trials, seed)
    n_test = max(1, int(round(n_trials * test_fraction)))
    n_train = n_trials - n_test
    if n_train < 1:
        raise ValueError(f"similarity.test_fraction={test_fraction} leaves no training trials of {n_trials}")
    spaces = {
        "full": rates,
        "nullspace": {k: v @ null_space_projector(models[k].params.W_out) for k, v in rates.items()},
    }
    rows = []
    for space, reps in spaces.items():
        split = {k: (v[:, :n_train].reshape(-1, v.shape[2]), v[:, n_train:].reshape(-1, v.shape[2]))
                 for k, v in reps.items()}
        for a, (xa_train, xa_test) in split.items():
            for b, (yb_train, yb_test) in split.items():
                value = similarity.linear_predictability(xa_train, yb_train, xa_test, yb_test, rho=rho)
                rows.append({"net_a": a, "net_b": b, "space": space, "value": value})
    return pd.DataFrame(rows, columns=["net_a", "net_b", "space", "value"])


def similarity_table(models: dict, task, metric: str, n_trials: int, seed: int, options: dict | None = None):
    """Long table net_a, net_b, value of `metric` over every pair of networks, on shared noise-free rates."""
    rates = shared_rates(models, task, n_trials, seed)
    table = similarity.pairwise(metric, rates, **(options or {}))
    log.info("%s over %d networks: values %.3g to %.3g", metric, len(models), table["value"].min(),
             table["value"].max())
    return table


def mds_table(table: pd.DataFrame, metric: str, n_components: int = 2) -> pd.DataFrame:
    """Classical MDS of the metric's distance matrix: net_id, dim1..dimK, and each axis's eigenvalue share."""
    names, D = similarity.distance_matrix(table, metric)
    # A network's distance to itself is zero by definition; arccos-based scores
    # give about 1e-8 there. Optimiser-based metrics (DSA) agree in both
    # directions only to optimiser precision, hence the symmetrisation.
    np.fill_diagonal(D, 0.0)
    coords, eigenvalues = mds.classical_mds(D, n_components=n_components, symmetrize=True)
    out = pd.DataFrame(coords, columns=[f"dim{i + 1}" for i in range(coords.shape[1])])
    out.insert(0, "net_id", names)
    positive = eigenvalues[eigenvalues > 0].sum()
    for i in range(coords.shape[1]):
        out[f"share{i + 1}"] = max(eigenvalues[i], 0.0) / positive if positive > 0 else 0.0
    return out


def _models(model_paths) -> dict:
    return {net_of(f): load_model(f) for f in model_paths}


def predictability_job(kind: str, params: dict, settings: dict, model_paths, out_csv):
    """The workflow's linear_predictability job; settings: n_trials, seed, test_fraction, rho."""
    table = linear_predictability_table(_models(model_paths), make_task(kind, params), settings["n_trials"],
                                        settings["seed"], settings["test_fraction"], settings["rho"])
    write_csv(table, out_csv)


def metric_job(kind: str, params: dict, metric: str, settings: dict, model_paths, table_csv, mds_csv):
    """The workflow's similarity_metric job; settings: n_trials, seed, options (of this metric)."""
    table = similarity_table(_models(model_paths), make_task(kind, params), metric, settings["n_trials"],
                             settings["seed"], settings["options"])
    write_csv(table, table_csv)
    write_csv(mds_table(table, metric), mds_csv)

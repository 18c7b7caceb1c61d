"""Comparisons over all networks of a task as the workflow runs them: metric matrices, MDS, degeneracy."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .analysis import degeneracy, mds, similarity
from .experiment import shared_rates

log = logging.getLogger("altrnn.comparison")


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


def degeneracy_table(evals: dict[str, pd.DataFrame], dsa_table: pd.DataFrame, weights: dict) -> pd.DataFrame:
    """Behaviour, dynamics and weight degeneracy over the given (standard) networks."""
    nets = list(evals)
    eval_table = pd.concat([e.assign(net_id=n) for n, e in evals.items()], ignore_index=True)
    dsa_sub = dsa_table[dsa_table["net_a"].isin(nets) & dsa_table["net_b"].isin(nets)]
    return degeneracy.degeneracy_table(eval_table=eval_table, dsa=dsa_sub, weights=weights)

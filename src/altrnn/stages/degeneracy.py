"""Stage `degeneracy`: how degenerate the standard networks of a unit are, at three levels and in SVCCA."""

from __future__ import annotations

import logging

import pandas as pd

from ..analysis import degeneracy
from ..io import load_model, read_table, write_csv
from ..netids import net_of
from ..tasks import make_task
from .similarity import shared_rates

log = logging.getLogger("altrnn.stages.degeneracy")


def trial_sets(models: dict, task, n_trials: int, seed: int) -> tuple[dict, dict]:
    """Noise-free rates of every network on two independent batches of trials.

    Set 1 is the similarity stage's shared batch (the same seed), so the null
    and the pairwise DSA start from the same fits; set 2 is drawn from [seed, 1].
    """
    return shared_rates(models, task, n_trials, seed), shared_rates(models, task, n_trials, [seed, 1])


def same_network_null(set_1: dict, set_2: dict, dsa_options: dict) -> dict:
    """net_id -> DSA between the network's two trial sets (the null of the dynamics level)."""
    null = {}
    for name in set_1:
        try:
            null[name] = degeneracy.dsa_null(set_1[name], set_2[name], **dsa_options)
        except ValueError as err:
            raise ValueError(f"network {name!r}: {err}") from err
    log.info("same-network DSA null: %s", ", ".join(f"{k} {v:.3g}" for k, v in null.items()))
    return null


def degeneracy_table(evals: dict[str, pd.DataFrame], dsa_table: pd.DataFrame, weights: dict,
                     dsa_null: dict | None = None, representations: dict | None = None,
                     **bootstrap) -> pd.DataFrame:
    """Behaviour, dynamics, weight and SVCCA degeneracy over the given (standard) networks, with intervals."""
    nets = list(evals)
    eval_table = pd.concat([e.assign(net_id=n) for n, e in evals.items()], ignore_index=True)
    dsa_sub = dsa_table[dsa_table["net_a"].isin(nets) & dsa_table["net_b"].isin(nets)]
    return degeneracy.degeneracy_table(eval_table=eval_table, dsa=dsa_sub, weights=weights, dsa_null=dsa_null,
                                       representations=representations, **bootstrap)


def degeneracy_job(kind: str, params: dict, settings: dict, eval_paths, model_paths, dsa_csv, out_csv):
    """The workflow's degeneracy job; settings: n_trials, seed and dsa (the unit's similarity DSA options)."""
    evals = {net_of(f): read_table(f) for f in eval_paths}
    models = {net_of(f): load_model(f) for f in model_paths}
    set_1, set_2 = trial_sets(models, make_task(kind, params), settings["n_trials"], settings["seed"])
    null = same_network_null(set_1, set_2, settings["dsa"])
    weights = {name: m.params.W for name, m in models.items()}
    write_csv(degeneracy_table(evals, read_table(dsa_csv), weights, null, set_1), out_csv)

"""Stage `stress`: every network of a unit at every level of its stress grid, and the win/loss statistics.

One job per unit: loading the unit's models and drawing each level's trials
once costs far less than a job per network (2-3 s of start-up each), and every
network then sees the same trials and the same recurrent-noise draws at a level
(common random numbers), so differences between networks are not sampling noise.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd

from ..analysis.stress_statistics import stress_statistics
from ..io import SavedModel, load_model, write_csv
from ..model import forward, recurrent_noise
from ..netids import net_of
from ..tasks import make_task, masked_mse
from ..tasks.stress import level_setting

log = logging.getLogger("altrnn.stages.stress")

STRESS_COLUMNS = ["net_id", "axis", "level", "loss", "accuracy"]


def stress_table(models: dict[str, SavedModel], task, axes: dict, n_trials: int, seed: int) -> pd.DataFrame:
    """Loss and accuracy of every network (net_id -> model) at every level of every axis, with recurrent noise."""
    rows = []
    for a, (axis, spec) in enumerate(axes.items()):
        for i, level in enumerate(spec["levels"]):
            batch, noises = None, {}  # one draw per level (and per width and dtype), shared by the networks
            for net_id, saved in models.items():
                changes, sigma_rec = level_setting(spec, level, task.params, saved.config.sigma_rec)
                cond = task.with_params(**changes)
                if batch is None:
                    batch = cond.batch(n_trials, np.random.default_rng([seed, a, i]))
                cfg = dataclasses.replace(saved.config, sigma_rec=sigma_rec)
                T, B, _ = batch.inputs.shape
                shape = (T, B, cfg.n_rec)
                if (shape, cfg.dtype, sigma_rec == 0) not in noises:
                    noises[shape, cfg.dtype, sigma_rec == 0] = recurrent_noise(
                        cfg, shape, np.random.default_rng([seed, a, i, 1]))
                noise = noises[shape, cfg.dtype, sigma_rec == 0]
                y = forward(saved.params, cfg, batch.inputs, noise).y.astype(np.float64)
                rows.append({"net_id": net_id, "axis": axis, "level": level, "loss": masked_mse(y, batch),
                             "accuracy": cond.accuracy(y, batch)})
    return pd.DataFrame(rows, columns=STRESS_COLUMNS)


def stress_job(kind: str, params: dict, settings: dict, model_paths, standard_ids, out_table, out_stats):
    """The workflow's stress job; settings: the unit's `stress` section in canonical form."""
    models = {net_of(f): load_model(f) for f in model_paths}
    table = stress_table(models, make_task(kind, params), settings["axes"], settings["n_trials"], settings["seed"])
    stats = stress_statistics(table, standard_ids, alpha=settings["alpha"], correction=settings["correction"],
                              n_boot=settings["n_boot"], seed=settings["seed"])
    marked = stats[stats["mark"].isin(["win", "loss"])]
    log.info("wins and losses (%s, alpha %s):\n%s", settings["correction"], settings["alpha"],
             marked.to_string(index=False) if len(marked) else "none")
    write_csv(table, out_table)
    write_csv(stats, out_stats)

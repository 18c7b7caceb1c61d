"""Stage `evaluate`: loss and accuracy of one network in and out of distribution (eval.csv)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..io import SavedModel, load_model, write_csv
from ..model import forward, recurrent_noise
from ..tasks import make_task, masked_mse

log = logging.getLogger("altrnn.stages.evaluate")

EVAL_COLUMNS = ["condition", "loss", "accuracy"]


def evaluate(saved: SavedModel, task, n_trials: int, seed: int) -> pd.DataFrame:
    """Loss and accuracy in distribution and in each out-of-distribution variant, with recurrent noise.

    Columns condition, loss, accuracy, then any task-specific metrics (Task.extra_metrics).
    """
    rows = []
    conditions = {"in_distribution": task, **task.ood_variants()}
    for i, (name, cond) in enumerate(conditions.items()):
        rng = np.random.default_rng([seed, i])
        batch = cond.batch(n_trials, rng)
        T, B, _ = batch.inputs.shape
        noise = recurrent_noise(saved.config, (T, B, saved.config.n_rec), rng)
        y = forward(saved.params, saved.config, batch.inputs, noise).y.astype(np.float64)
        rows.append({"condition": name, "loss": masked_mse(y, batch), "accuracy": cond.accuracy(y, batch),
                     **cond.extra_metrics(y, batch)})
    table = pd.DataFrame(rows)
    return table[["condition", "loss", "accuracy", *[c for c in table.columns if c not in EVAL_COLUMNS]]]


def evaluate_and_save(model_path, task, n_trials, seed, out_csv):
    table = evaluate(load_model(model_path), task, n_trials, seed)
    log.info("evaluation of %s:\n%s", model_path, table.to_string(index=False))
    write_csv(table, out_csv)


def evaluate_network(kind: str, params: dict, settings: dict, model_path, out_csv):
    """The workflow's evaluate job; settings: the `evaluate` section (n_trials, seed)."""
    evaluate_and_save(model_path, make_task(kind, params), settings["n_trials"], settings["seed"], out_csv)

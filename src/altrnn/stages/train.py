"""Building blocks the workflow's jobs call: settings to objects, train-and-save, evaluate.

Plain functions of plain values (no Snakemake here), so a notebook can run the
same steps as the workflow.
"""

import logging
import os
from dataclasses import asdict

import numpy as np
import pandas as pd

from .io import SavedModel, load_model, save_model, write_csv
from .model import ModelConfig, forward, kernels, recurrent_noise
from .tasks import make_task, masked_mse
from .train import TrainConfig, train

log = logging.getLogger("altrnn.experiment")


def build(settings: dict):
    """(task, ModelConfig, TrainConfig) from one task entry's merged settings {task, params, model, train}."""
    task = make_task(settings["task"], settings.get("params") or {})
    model_cfg = ModelConfig(n_in=task.n_in, n_out=task.n_out, **settings["model"])
    train_cfg = TrainConfig.from_dict(settings["train"])
    return task, model_cfg, train_cfg


def train_and_save(task, model_cfg, train_cfg, g, seed, net_id, model_path, log_path, penalty_factory=None,
                   extra_metadata=None):
    """Train one network and write model.npz and train_log.csv atomically (checkpoint beside them)."""
    checkpoint = os.path.join(os.path.dirname(model_path), "checkpoint.npz")
    log.info("training %s on %s: N=%d, %s, g=%g, seed=%d", net_id, task.name, model_cfg.n_rec,
             model_cfg.activation, g, seed)
    result = train(task, model_cfg, train_cfg, g=g, seed=seed, checkpoint=checkpoint,
                   penalty_factory=penalty_factory, identity=extra_metadata)
    if not result.converged and train_cfg.loss_target is not None:
        log.warning("%s did not reach loss target %g in %d iterations (final task loss %.4g)", net_id,
                    train_cfg.loss_target, result.iterations, result.log["task_loss"].iloc[-1])
    metadata = {"task": task.name, "task_params": task.params, "train": asdict(train_cfg), "g": g, "seed": seed,
                "net_id": net_id, "iterations": result.iterations, "converged": result.converged,
                **(extra_metadata or {})}
    write_csv(result.log, log_path)
    save_model(model_path, result.params, model_cfg, metadata)
    log.info("%s", kernels.cache_summary())
    return result


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


def insd_penalty_factory(earlier: dict, lam: float, rho: float, rho_mode: str, warmup: int = 0):
    """For each batch, run the frozen earlier networks (noise-free) on its inputs and penalise predictability.

    earlier: net_id -> SavedModel. The weight rises linearly from 0 to lam over
    the first `warmup` iterations (0: full weight from the start), which lets
    a network find the task before the penalty pushes it away from the earlier
    solutions. Returns penalty_factory(inputs, iteration) for train().
    """
    from .insd import INSDPenalty, null_space_rates

    def factory(inputs, iteration):
        targets = {}
        for name, net in earlier.items():
            r = forward(net.params, net.config, inputs).r[1:]
            targets[name] = null_space_rates(r, net.params.W_out)
        weight = lam * min(1.0, (iteration + 1) / warmup) if warmup else lam
        return INSDPenalty(targets, lam=weight, rho=rho, rho_mode=rho_mode)

    return factory


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
    from .analysis.similarity import linear_predictability
    from .insd import null_space_projector

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
                value = linear_predictability(xa_train, yb_train, xa_test, yb_test, rho=rho)
                rows.append({"net_a": a, "net_b": b, "space": space, "value": value})
    return pd.DataFrame(rows, columns=["net_a", "net_b", "space", "value"])

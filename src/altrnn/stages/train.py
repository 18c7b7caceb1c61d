"""Stage `train`: one network trained on its task alone (standard networks and the INSD reference).

Plain functions of plain values (no Snakemake here), so a notebook can run the
same steps as the workflow.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict

import pandas as pd

from ..analysis import feature_learning
from ..config import TrainConfig, parse_section
from ..io import save_model, write_csv, write_npz
from ..model import ModelConfig, kernels
from ..tasks import make_task
from ..train import train

log = logging.getLogger("altrnn.stages.train")


def build(settings: dict):
    """(task, ModelConfig, TrainConfig) from one unit's settings {task, params, model, train}."""
    task = make_task(settings["task"], settings.get("params") or {})
    model_cfg = ModelConfig(n_in=task.n_in, n_out=task.n_out, **settings["model"])
    train_cfg = parse_section(TrainConfig, settings["train"], "train")
    return task, model_cfg, train_cfg


def train_and_save(task, model_cfg, train_cfg, g, seed, net_id, model_path, log_path, penalty_factory=None,
                   extra_metadata=None, time_path=None, snapshots_path=None):
    """Train one network and write model.npz (final and initial weights), train_log.csv and, beside
    model.npz, diagnostics.csv atomically (checkpoint beside them).

    The wall-clock time goes to time_path (train_time.csv: iterations, seconds), not into
    train_log.csv, so that an identical retraining leaves every file its figures read unchanged.
    diagnostics.csv: weight_change, kernel_alignment (analysis.feature_learning), iterations, converged.
    With train.snapshot_every > 0, snapshots_path (snapshots.npz) gets the weights through training:
    iteration (K,) and W_in, W, b, W_out, b_out stacked (K, ...), effective weights as in model.npz.
    """
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
    write_csv(result.log.drop(columns="seconds"), log_path)
    if time_path is not None:
        seconds = float(result.log["seconds"].iloc[-1]) if len(result.log) else 0.0
        write_csv(pd.DataFrame([{"iterations": result.iterations, "seconds": seconds}]), time_path)
    diag = feature_learning.diagnostics(result.init, result.params, model_cfg, task)
    write_csv(pd.DataFrame([{**diag, "iterations": result.iterations, "converged": result.converged}]),
              os.path.join(os.path.dirname(model_path), "diagnostics.csv"))
    if snapshots_path is not None:
        if result.snapshots is None:
            raise ValueError(f"{snapshots_path}: asked for snapshots, but train.snapshot_every is 0")
        write_npz(snapshots_path, **result.snapshots)
    save_model(model_path, result.params, model_cfg, metadata, init=result.init)
    log.info("%s", kernels.cache_summary())
    return result


def train_network(settings: dict, g: float, seed: int, net_id: str, model_path, log_path, time_path=None,
                  snapshots_path=None):
    """The workflow's train job: build from settings, train without penalty, save."""
    task, model_cfg, train_cfg = build(settings)
    return train_and_save(task, model_cfg, train_cfg, g, seed, net_id, model_path, log_path, time_path=time_path,
                          snapshots_path=snapshots_path)

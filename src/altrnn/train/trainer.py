"""The training loop: batches, Adam, stopping, logging, checkpoints, divergence.

Every iteration draws its batch and recurrent noise from a generator seeded by
(seed, iteration), so a run resumed from a checkpoint is bitwise identical to
an uninterrupted one.

Stopping: with train.loss_target set, training stops `train.patience` log
windows after the first window whose mean task loss is below the target (at
that window itself for patience 0), as Huang et al. (2025) train to a loss
threshold and then a few epochs more.

Snapshots: with train.snapshot_every = k > 0 the effective weights are kept at
iteration 0, every k-th iteration and the last one (TrainResult.snapshots), for
tracking fixed points and cycles through training (analysis.bifurcations). They
go into the checkpoint too, so a resumed run has the same snapshots.

Parameterisations (model.network): Adam updates the trainable arrays theta;
loss_and_grad sees the effective weights c * theta and its gradients are
multiplied by c. In the mean_field parameterisation the learning rate is
train.lr * gamma. Adam's step moves each entry of theta by about lr whatever
the gradient's scale, so a readout step changes the output by about
lr * N * c_out = lr / gamma; lr proportional to gamma keeps the pace of the
output independent of gamma while the hidden weights move gamma times as much
per step, which is what makes gamma the feature-learning strength. (With SGD
the mean-field rule is eta ~ gamma^2 N, because there the step scales with the
gradient, itself proportional to c_out; Adam removes that factor.) N does not
enter the rule.
"""

import json
import logging
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..config import TrainConfig
from ..errors import TrainingDiverged
from ..io import read_npz, write_npz, ResultFileError
from ..model import (ModelConfig, Params, Workspace, effective_params, init_params, recurrent_noise, trainable_grads,
                     trainable_params)
from .adam import Adam, clip_by_global_norm
from .objective import loss_and_grad

log = logging.getLogger("altrnn.train")

LOG_COLUMNS = ["iteration", "loss", "task_loss", "penalty", "grad_norm", "seconds"]




@dataclass
class TrainResult:
    params: Params  # effective weights at the end
    log: pd.DataFrame
    converged: bool  # the task loss reached train.loss_target
    iterations: int
    init: Params | None = None  # effective weights at the start
    snapshots: dict | None = None  # iteration (K,) and each effective weight array stacked (K, ...); see _Snapshots


def learning_rate(model_cfg: ModelConfig, train_cfg: TrainConfig) -> float:
    """Adam's learning rate: train.lr, times gamma in the mean_field parameterisation (module docstring)."""
    return train_cfg.lr * model_cfg.gamma if model_cfg.parameterisation == "mean_field" else train_cfg.lr


def batch_rng(seed: int, iteration: int) -> np.random.Generator:
    return np.random.default_rng([seed, 1, iteration])


def train(task, model_cfg: ModelConfig, train_cfg: TrainConfig, g: float, seed: int,
          checkpoint=None, penalty_factory=None, init=None, identity=None) -> TrainResult:
    """Train one network on `task` from a seeded random init (or `init`, effective weights).

    penalty_factory(inputs, iteration) -> penalty callable for that batch (see objective.loss_and_grad).
    checkpoint: path of a checkpoint file to resume from and write to; removed on success.
    identity: anything else that defines the run (e.g. the penalty's settings and the earlier
    networks); a checkpoint is resumed only if it was made with the same settings and identity.
    """
    if init is not None:
        params = trainable_params(init.astype(model_cfg.np_dtype), model_cfg)
    else:
        params = init_params(model_cfg, g, np.random.default_rng([seed, 0]))
    params = params.astype(model_cfg.np_dtype).copy()  # trainable arrays, updated in place
    initial = effective_params(params, model_cfg).copy()
    opt = Adam(params, lr=learning_rate(model_cfg, train_cfg))
    fingerprint = json.dumps({"task": task.name, "task_params": task.params, "model": asdict(model_cfg),
                              "train": asdict(train_cfg), "g": g, "seed": seed, "identity": identity},
                             sort_keys=True, default=str)
    rows, start, elapsed = [], 0, 0.0
    snapshots = _Snapshots(train_cfg.snapshot_every)
    if checkpoint is not None and os.path.exists(checkpoint):
        start, rows, elapsed = _resume(checkpoint, fingerprint, params, opt, snapshots)
    if start == 0:
        snapshots.take(0, initial)

    t0 = time.perf_counter() - elapsed
    window, done, initial_loss = [], start, None
    reached = _first_below(rows, train_cfg.loss_target)  # index of the first log row below the target
    converged, stop = reached is not None, False
    workspace = Workspace()
    for it in range(start, train_cfg.max_iters):
        rng = batch_rng(seed, it)
        batch = task.batch(train_cfg.batch_size, rng)
        T, B, _ = batch.inputs.shape
        noise = recurrent_noise(model_cfg, (T, B, model_cfg.n_rec), rng, workspace)
        penalty = penalty_factory(batch.inputs, it) if penalty_factory else None
        terms, grads, _ = loss_and_grad(effective_params(params, model_cfg), model_cfg, batch.inputs, batch.targets,
                                        batch.mask, noise, train_cfg.rate_l2, train_cfg.weight_l2, penalty, workspace,
                                        train_cfg.l1, train_cfg.nuclear)
        trainable_grads(grads, model_cfg)
        norm = clip_by_global_norm(grads, train_cfg.grad_clip)
        if not (np.isfinite(terms.total) and np.isfinite(norm)):
            _discard(checkpoint)  # resuming would only diverge again
            raise TrainingDiverged(
                f"training diverged at iteration {it}: loss={terms.total}, gradient norm={norm}. "
                "Lower train.lr, lower the init scale g, or enable train.grad_clip."
            )
        opt.step(params, grads)
        initial_loss = terms.task if initial_loss is None else initial_loss
        done = it + 1
        if snapshots.every and done % snapshots.every == 0:
            snapshots.take(done, effective_params(params, model_cfg))
        window.append(terms.task)
        if (it + 1) % train_cfg.log_every == 0 or it + 1 == train_cfg.max_iters:
            row = {"iteration": it + 1, "loss": terms.total, "task_loss": float(np.mean(window)),
                   "penalty": terms.penalty, "grad_norm": norm, "seconds": time.perf_counter() - t0}
            row.update({f"penalty_{k}": v for k, v in terms.penalty_terms.items()})
            rows.append(row)
            log.info("iteration %d/%d  loss %.5f  task %.5f  penalty %.5f  |grad| %.3g",
                     it + 1, train_cfg.max_iters, row["loss"], row["task_loss"], row["penalty"], norm)
            if reached is None and train_cfg.loss_target is not None and row["task_loss"] < train_cfg.loss_target:
                reached, converged = len(rows) - 1, True
                log.info("loss target %g reached at iteration %d", train_cfg.loss_target, it + 1)
            stop = converged and len(rows) - 1 - reached >= train_cfg.patience
            window = []
        if checkpoint is not None and (it + 1) % train_cfg.checkpoint_every == 0 and not stop:
            _save_checkpoint(checkpoint, fingerprint, it + 1, rows, time.perf_counter() - t0, params, opt,
                             snapshots)
        if stop:
            break
    _discard(checkpoint)
    _check_growth(initial_loss, rows)
    final = effective_params(params, model_cfg)
    if snapshots.every and (not snapshots.iterations or snapshots.iterations[-1] != done):
        snapshots.take(done, final)
    return TrainResult(params=final, log=pd.DataFrame(rows, columns=_columns(rows)), converged=converged,
                       iterations=done, init=initial, snapshots=snapshots.arrays() if snapshots.every else None)


class _Snapshots:
    """Copies of the effective weights at chosen iterations (every = 0: none are kept)."""

    def __init__(self, every: int):
        self.every, self.iterations, self.params = every, [], []

    def take(self, iteration: int, params: Params):
        if self.every:
            self.iterations.append(int(iteration))
            self.params.append(params.copy())

    def arrays(self) -> dict:
        """{"iteration": (K,), "W": (K, N, N), "W_in", "b", "W_out", "b_out"}: what snapshots.npz holds."""
        out = {"iteration": np.array(self.iterations, dtype=np.int64)}
        for name in Params.__dataclass_fields__:
            out[name] = np.stack([getattr(p, name) for p in self.params])
        return out

    def restore(self, state: dict):
        """The snapshots saved in a checkpoint (keys snapshot_*)."""
        if not self.every or "snapshot_iteration" not in state:
            return
        self.iterations = [int(i) for i in state["snapshot_iteration"]]
        names = list(Params.__dataclass_fields__)
        self.params = [Params(*(np.array(state[f"snapshot_{n}"][i]) for n in names))
                       for i in range(len(self.iterations))]


def _first_below(rows, target):
    """Index of the first log row whose task loss is below target (None if none, or no target)."""
    if target is None:
        return None
    return next((i for i, r in enumerate(rows) if r["task_loss"] < target), None)


GROWTH_LIMIT = 100.0  # a final task loss this many times the starting one is a divergence


def _check_growth(initial_loss, rows):
    """A run whose task loss ends finite but enormous has diverged too (e.g. a far too large learning rate)."""
    if initial_loss is None or not rows:
        return
    last = rows[-1]["task_loss"]
    if last > GROWTH_LIMIT * max(initial_loss, 1e-12):
        raise TrainingDiverged(
            f"training diverged: the task loss grew from {initial_loss:.4g} (first iteration) to {last:.4g} "
            "(last log window). Lower train.lr, lower the init scale g, or enable train.grad_clip."
        )


def _discard(checkpoint):
    if checkpoint is not None and os.path.exists(checkpoint):
        os.remove(checkpoint)


def _columns(rows):
    extra = sorted({k for r in rows for k in r} - set(LOG_COLUMNS))
    return LOG_COLUMNS + extra


def _save_checkpoint(path, fingerprint, iteration, rows, seconds, params, opt, snapshots):
    saved = {f"snapshot_{k}": v for k, v in snapshots.arrays().items()} if snapshots.every else {}
    write_npz(path, fingerprint=np.array(fingerprint), iteration=np.array(iteration), seconds=np.array(seconds),
              rows=np.array(json.dumps(rows)), **{f"param_{k}": v for k, v in params.as_dict().items()},
              **opt.state(), **saved)


def _resume(path, fingerprint, params, opt, snapshots):
    """Restore params and optimiser from a checkpoint made by the same settings; else start over."""
    try:
        state = read_npz(path)
        if str(state["fingerprint"]) != fingerprint:
            log.warning("checkpoint %s was made with other settings: starting over", path)
            return 0, [], 0.0
        saved = {name: state[f"param_{name}"] for name in params.as_dict()}
        opt.load_state(state)
        snapshots.restore(state)
    except (ResultFileError, KeyError) as exc:
        log.warning("checkpoint %s unusable (%s): starting over", path, exc)
        return 0, [], 0.0
    for name, arr in params.as_dict().items():
        arr[...] = saved[name]
    iteration = int(state["iteration"])
    log.info("resuming from checkpoint %s at iteration %d", path, iteration)
    return iteration, json.loads(str(state["rows"])), float(state["seconds"])

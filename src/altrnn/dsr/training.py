"""Dynamical-systems reconstruction: an AL-RNN fitted to observed trajectories by teacher forcing.

Model. An AL-RNN (model.activation "alrnn", units 0..P-1 ReLU, the rest linear) run as the discrete map
of Brenner et al. (2024), model.alpha = 1 and no noise:

    z[t+1] = W phi(z[t]) + W_in u[t] + b

Observation model. The D observed variables are read directly from the first D *linear* units,
x[t] = z[t][P:P+D] (`observed_units`). The network's readout is that selection, fixed during training
(W_out = the 0/1 selection matrix, b_out = 0, model n_out = D), so `forward` returns the observations
as its outputs y and saved models are self-describing. The other M - D units (the P ReLU units and
the linear units P+D..M-1) are free latent units; a trajectory starts with them at zero (`to_latent`).

Data. Trajectories (T, n_traj, D), float; optional inputs (T, n_traj, n_in) with inputs[t] driving the
step t -> t+1 (inputs[T-1] is never used; T-1 rows are accepted). Without inputs the network gets
a zero input of width n_in and W_in stays 0.

Teacher forcing (forcing_interval tau, forcing_strength alpha). A training sequence is a window of
sequence_length L steps of one trajectory, starting from the data (observed units) and zeros (free
units). Every tau steps (at t = tau, 2 tau, ... < L) the observed units of the generated state are
replaced by the mixture alpha * data + (1 - alpha) * generated; the free units run on. alpha = 1 is
sparse teacher forcing (Mikhaeil et al. 2022; Brenner et al. 2024), tau = 1 with alpha < 1 generalised
teacher forcing (Hess et al. 2023), and any other pair mixes the two. The loss is the mean squared
error of the generated observations (before forcing) over all L steps, sequences and variables.

Gradients. Each stretch between forcings is one call of model.forward from its forced state and one of
model.backward, last stretch first. The gradient reaching a stretch's initial state, dL/dz0 =
phi'(z0) * (W^T delta[0]) (alpha = 1), flows into the previous stretch's last state through its free
units and, times 1 - alpha, its observed units; since phi'(z0) is the slope at that very state, it
enters the kernel as a direct dL/dr at the stretch's last step. This is exact (checked in float64 against
central differences in tests/test_dsr_training.py); it is also why model.alpha must be 1.

Determinism: initial weights come from a generator seeded (seed, 0), each iteration's windows from one
seeded (seed, 2, iteration), and the learning-rate schedule depends on the iteration only, so a run
resumed from its checkpoint is bitwise identical to an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from ..errors import TrainingDiverged
from ..model import ModelConfig, Params, Workspace, backward, forward
from ..train.adam import Adam, clip_by_global_norm
from ..train.trainer import _discard, _resume, _save_checkpoint, _Snapshots

log = logging.getLogger("altrnn.dsr")

LOG_COLUMNS = ["iteration", "loss", "grad_norm", "lr", "seconds"]


@dataclass(frozen=True)
class TeacherForcingConfig:
    """Settings of teacher-forced training (module docstring); errors name the key as `<prefix>.<key>`."""

    sequence_length: int = 50  # L: steps per training window
    forcing_interval: int = 10  # tau: steps between forcings of the observed units (>= L: none after the start)
    forcing_strength: float = 1.0  # alpha in (0, 1]: 1 replaces the observed units, < 1 mixes (generalised TF)
    batch_size: int = 16  # windows per iteration
    lr: float = 1e-3  # Adam's learning rate at the start
    lr_final: float | None = None  # learning rate at max_iters, reached exponentially; None: constant
    max_iters: int = 1000
    grad_clip: float = 10.0  # global-norm clipping; 0 disables
    log_every: int = 50
    checkpoint_every: int = 100

    def __post_init__(self):
        self.validate("teacher_forcing")

    def validate(self, prefix: str):
        for key in ("sequence_length", "forcing_interval", "batch_size", "max_iters", "log_every",
                    "checkpoint_every"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{prefix}.{key} must be an integer >= 1, got {value!r}")
        if not 0 < self.forcing_strength <= 1:
            raise ValueError(f"{prefix}.forcing_strength must be in (0, 1], got {self.forcing_strength!r}")
        if not self.lr > 0:
            raise ValueError(f"{prefix}.lr must be > 0, got {self.lr!r}")
        if self.lr_final is not None and not self.lr_final > 0:
            raise ValueError(f"{prefix}.lr_final must be > 0 (or null: constant), got {self.lr_final!r}")
        if not self.grad_clip >= 0:
            raise ValueError(f"{prefix}.grad_clip must be >= 0 (0: off), got {self.grad_clip!r}")

    @classmethod
    def from_dict(cls, values: dict | None, prefix: str = "teacher_forcing") -> "TeacherForcingConfig":
        """From a config mapping; unknown keys and bad values raise ValueError naming `prefix.key`."""
        values = dict(values or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"{prefix}.{unknown[0]}: unknown key; valid keys: {known}")
        obj = object.__new__(cls)
        for f in fields(cls):
            object.__setattr__(obj, f.name, values.get(f.name, f.default))
        obj.validate(prefix)
        return obj

    def learning_rate(self, iteration: int) -> float:
        """lr decaying exponentially to lr_final at max_iters (constant without lr_final)."""
        if self.lr_final is None:
            return self.lr
        return self.lr * (self.lr_final / self.lr) ** (iteration / self.max_iters)


@dataclass
class DSRResult:
    params: Params  # effective weights at the end (readout = the observation model)
    log: pd.DataFrame  # LOG_COLUMNS, one row per log window (loss: the window's mean)
    iterations: int
    init: Params  # effective weights at the start
    final_loss: float  # mean loss of the last log window


# --- observation model -------------------------------------------------------------------------------------


def observed_units(cfg: ModelConfig) -> slice:
    """The units read as observations: the first n_out = D linear units, P..P+D-1."""
    return slice(cfg.n_relu, cfg.n_relu + cfg.n_out)


def check_model(cfg: ModelConfig, n_obs: int | None = None):
    """ValueError naming the model key unless cfg is an AL-RNN this module can fit to D = n_obs variables."""
    if cfg.activation != "alrnn":
        raise ValueError(f"model.activation must be 'alrnn' for trajectory fitting, got {cfg.activation!r}")
    if cfg.alpha != 1:
        raise ValueError(f"model.alpha must be 1 for trajectory fitting (the map z' = W phi(z) + W_in u + b), "
                         f"got {cfg.alpha}")
    if cfg.sigma_rec != 0:
        raise ValueError(f"model.sigma_rec must be 0 for trajectory fitting, got {cfg.sigma_rec}")
    if cfg.parameterisation != "standard":
        raise ValueError(f"model.parameterisation must be 'standard' for trajectory fitting, got "
                         f"{cfg.parameterisation!r}")
    if n_obs is not None and cfg.n_out != n_obs:
        raise ValueError(f"model.n_out must equal the number of observed variables D = {n_obs}, got {cfg.n_out}")
    if cfg.n_rec - cfg.n_relu < cfg.n_out:
        raise ValueError(f"model.n_rec - model.n_relu = {cfg.n_rec - cfg.n_relu} linear units cannot hold "
                         f"D = {cfg.n_out} observed variables; raise n_rec")


def to_latent(obs, cfg: ModelConfig, free=None) -> np.ndarray:
    """Latent states (..., M) with the observed units set to obs (..., D) and the free units to `free`
    (..., M - D) in unit order (ReLU units, then linear units after the observed ones), zeros by default."""
    obs = np.asarray(obs)
    z = np.zeros(obs.shape[:-1] + (cfg.n_rec,), dtype=np.result_type(obs, cfg.np_dtype))
    z[..., observed_units(cfg)] = obs
    if free is not None:
        z[..., free_units(cfg)] = free
    return z


def observe(states, cfg: ModelConfig) -> np.ndarray:
    """The observations (..., D) of latent states (..., M)."""
    return np.asarray(states)[..., observed_units(cfg)]


def free_units(cfg: ModelConfig) -> np.ndarray:
    """Indices of the unobserved units."""
    s = observed_units(cfg)
    return np.r_[0:s.start, s.stop:cfg.n_rec]


def readout(cfg: ModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """(W_out, b_out) of the observation model: the selection of the observed units."""
    W_out = np.zeros((cfg.n_out, cfg.n_rec), dtype=cfg.np_dtype)
    W_out[np.arange(cfg.n_out), np.arange(cfg.n_rec)[observed_units(cfg)]] = 1
    return W_out, np.zeros(cfg.n_out, dtype=cfg.np_dtype)


def init_params(cfg: ModelConfig, g: float, rng: np.random.Generator, has_inputs: bool = True) -> Params:
    """Initial effective weights: W = I + N(0, g^2/M) (the map starts close to z' = z, as suits data sampled
    finely in time), b = 0, W_in ~ N(0, 1/n_in) with inputs (else 0), the fixed readout."""
    M = cfg.n_rec
    W = np.eye(M) + rng.standard_normal((M, M)) * (g / np.sqrt(M))
    W_in = rng.standard_normal((M, cfg.n_in)) / np.sqrt(cfg.n_in)
    if not has_inputs:
        W_in[:] = 0
    return Params(W_in, W, np.zeros(M), *readout(cfg)).astype(cfg.np_dtype)


# --- loss and exact gradient of one batch of windows ----------------------------------------------------------


def window_loss(params: Params, cfg: ModelConfig, obs, inputs, tf: TeacherForcingConfig, grad: bool = True):
    """Loss of windows obs (L+1, B, D) (row 0 the starting observation) driven by inputs (L, B, n_in), and
    (with grad) its exact gradient as Params (readout gradients zero: the observation model is fixed)."""
    L, B, D = obs.shape[0] - 1, obs.shape[1], obs.shape[2]
    dt = cfg.np_dtype
    sel, tau, a = observed_units(cfg), tf.forcing_interval, tf.forcing_strength
    scale = dt.type(2.0 / (L * B * D))
    state = to_latent(obs[0], cfg).astype(dt)
    stretches, total = [], 0.0
    for start in range(0, L, tau):
        stop = min(start + tau, L)
        if start > 0:  # force the observed units
            state = state.copy()
            state[:, sel] = a * obs[start] + (1 - a) * state[:, sel]
        u = inputs[start:stop]
        traj = forward(params, cfg, u, x0=state)
        err = traj.y - obs[start + 1:stop + 1]
        total += float(np.sum(err * err, dtype=np.float64))
        stretches.append((u, traj, err))
        state = traj.x[-1]
    loss = total / (L * B * D)
    if not grad:
        return loss, None
    mask = np.ones(cfg.n_rec, dtype=dt)
    mask[sel] = 1 - a
    grads, carry = None, None  # carry: dL/dr at the last step of the previous stretch, from the next one
    for u, traj, err in reversed(stretches):
        dr = None
        if carry is not None:
            dr = np.zeros(traj.x[1:].shape, dtype=dt)
            dr[-1] = carry
        ws = Workspace()
        g = backward(params, cfg, u, traj, scale * err, dr, workspace=ws)
        delta0 = ws.get("delta", traj.x[1:].shape, dt)[0]  # dL/dx[1] of this stretch, left by backward
        carry = (delta0 @ params.W) * mask  # W^T delta[0]: the slope at the start is applied by the kernel
        grads = g if grads is None else Params(*(p + q for p, q in zip(grads.arrays(), g.arrays())))
    grads.W_out[:] = 0
    grads.b_out[:] = 0
    return loss, grads


# --- data ------------------------------------------------------------------------------------------------------


def _check_data(data, inputs, cfg: ModelConfig, tf: TeacherForcingConfig):
    data = np.asarray(data)
    if data.ndim != 3 or not np.issubdtype(data.dtype, np.number):
        raise ValueError(f"trajectories must be a numeric array (T, n_traj, D), got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError("trajectories contain NaN or infinite values")
    T, n_traj, D = data.shape
    check_model(cfg, D)
    if tf.sequence_length > T - 1:
        raise ValueError(f"teacher_forcing.sequence_length = {tf.sequence_length} needs trajectories of at least "
                         f"{tf.sequence_length + 1} steps, got T = {T}")
    if inputs is None:
        return data.astype(cfg.np_dtype), np.zeros((T, n_traj, cfg.n_in), dtype=cfg.np_dtype), False
    inputs = np.asarray(inputs)
    if inputs.ndim != 3 or inputs.shape[1] != n_traj or inputs.shape[0] < T - 1 or inputs.shape[2] != cfg.n_in:
        raise ValueError(f"inputs must have shape (T or T-1, n_traj, n_in) = ({T}, {n_traj}, {cfg.n_in}), "
                         f"got {inputs.shape} (model.n_in must match the inputs)")
    if not np.all(np.isfinite(inputs)):
        raise ValueError("inputs contain NaN or infinite values")
    return data.astype(cfg.np_dtype), np.ascontiguousarray(inputs[:T], dtype=cfg.np_dtype), True


def batch_windows(data, inputs, tf: TeacherForcingConfig, seed: int, iteration: int):
    """The iteration's windows: observations (L+1, B, D) and inputs (L, B, n_in), from a generator seeded
    (seed, 2, iteration): each window picks a trajectory and a start uniformly."""
    rng = np.random.default_rng([seed, 2, iteration])
    T, n_traj, _ = data.shape
    L, B = tf.sequence_length, tf.batch_size
    which = rng.integers(n_traj, size=B)
    start = rng.integers(T - L, size=B)
    steps = start[None, :] + np.arange(L + 1)[:, None]
    return (np.ascontiguousarray(data[steps, which[None, :]]),
            np.ascontiguousarray(inputs[steps[:-1], which[None, :]]))


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(str(a.shape).encode())
    return h.hexdigest()


# --- training --------------------------------------------------------------------------------------------------


def fit_trajectories(data, model_cfg: ModelConfig, tf_cfg: TeacherForcingConfig, seed: int, inputs=None,
                     g: float = 0.1, checkpoint=None, init: Params | None = None) -> DSRResult:
    """Fit an AL-RNN to trajectories data (T, n_traj, D) (optional inputs (T, n_traj, n_in)) by teacher forcing.

    model_cfg: an alrnn ModelConfig with alpha 1, sigma_rec 0, n_out = D (check_model). g: the init scale
    (init_params), or init: initial effective weights. checkpoint: a file to resume from and write to every
    checkpoint_every iterations; removed when the run ends. Raises TrainingDiverged on a non-finite loss.
    """
    tf = tf_cfg
    data, inputs, has_inputs = _check_data(data, inputs, model_cfg, tf)
    if init is None:
        params = init_params(model_cfg, g, np.random.default_rng([seed, 0]), has_inputs)
    else:
        params = init.astype(model_cfg.np_dtype).copy()
        params.W_out[...], params.b_out[...] = readout(model_cfg)
    initial = params.copy()
    opt = Adam(params, lr=tf.lr)
    fingerprint = json.dumps({"dsr": True, "model": asdict(model_cfg), "tf": asdict(tf), "g": g, "seed": seed,
                              "data": _digest(data, inputs), "init": None if init is None else _digest(*init.arrays())},
                             sort_keys=True, default=str)
    no_snapshots = _Snapshots(0)
    rows, start, elapsed = [], 0, 0.0
    if checkpoint is not None and os.path.exists(checkpoint):
        start, rows, elapsed = _resume(checkpoint, fingerprint, params, opt, no_snapshots)
    t0 = time.perf_counter() - elapsed
    window = []
    for it in range(start, tf.max_iters):
        obs, u = batch_windows(data, inputs, tf, seed, it)
        loss, grads = window_loss(params, model_cfg, obs, u, tf)
        if not has_inputs:
            grads.W_in[:] = 0
        norm = clip_by_global_norm(grads, tf.grad_clip)
        if not (np.isfinite(loss) and np.isfinite(norm)):
            _discard(checkpoint)
            raise TrainingDiverged(f"trajectory fitting diverged at iteration {it}: loss={loss}, gradient "
                                   f"norm={norm}. Lower teacher_forcing.lr, shorten forcing_interval, or enable "
                                   "grad_clip.")
        opt.lr = tf.learning_rate(it)
        opt.step(params, grads)
        window.append(loss)
        if (it + 1) % tf.log_every == 0 or it + 1 == tf.max_iters:
            rows.append({"iteration": it + 1, "loss": float(np.mean(window)), "grad_norm": norm, "lr": opt.lr,
                         "seconds": time.perf_counter() - t0})
            log.info("iteration %d/%d  loss %.6g  |grad| %.3g", it + 1, tf.max_iters, rows[-1]["loss"], norm)
            window = []
        if checkpoint is not None and (it + 1) % tf.checkpoint_every == 0 and it + 1 < tf.max_iters:
            _save_checkpoint(checkpoint, fingerprint, it + 1, rows, time.perf_counter() - t0, params, opt,
                             no_snapshots)
    _discard(checkpoint)
    frame = pd.DataFrame(rows, columns=LOG_COLUMNS)
    return DSRResult(params=params, log=frame, iterations=tf.max_iters, init=initial,
                     final_loss=float(frame["loss"].iloc[-1]) if len(frame) else float("nan"))


# --- free-running predictions ------------------------------------------------------------------------------------


def free_run(params: Params, cfg: ModelConfig, x0, T: int, inputs=None) -> np.ndarray:
    """Free-running latent states (T, n_traj, M): row 0 the initial state, then T - 1 steps of the map.
    x0: observations (n_traj, D) (free units start at zero, as in training) or latent states (n_traj, M).
    inputs: (>= T-1, n_traj, n_in), or None for zero input."""
    check_model(cfg)
    x0 = np.asarray(x0, dtype=cfg.np_dtype)
    if x0.ndim != 2 or x0.shape[1] not in (cfg.n_out, cfg.n_rec):
        raise ValueError(f"x0 must be observations (n_traj, {cfg.n_out}) or latent states (n_traj, {cfg.n_rec}), "
                         f"got shape {x0.shape}")
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    z0 = x0 if x0.shape[1] == cfg.n_rec else to_latent(x0, cfg)
    n = x0.shape[0]
    if inputs is None:
        u = np.zeros((T - 1, n, cfg.n_in), dtype=cfg.np_dtype)
    else:
        u = np.asarray(inputs, dtype=cfg.np_dtype)
        if u.ndim != 3 or u.shape[0] < T - 1 or u.shape[1:] != (n, cfg.n_in):
            raise ValueError(f"inputs must have shape (>= {T - 1}, {n}, {cfg.n_in}), got {u.shape}")
        u = u[:T - 1]
    return forward(params, cfg, u, x0=z0).x


def generate(params: Params, cfg: ModelConfig, x0, T: int, inputs=None) -> np.ndarray:
    """Free-running predictions (T, n_traj, D) in observation space (row 0 the initial observation); the
    arguments are those of free_run."""
    return observe(free_run(params, cfg, x0, T, inputs), cfg).copy()

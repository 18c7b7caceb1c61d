"""Generative training of a noise-driven RNN to emit the symbol sequences of a hidden Markov model.

The network receives Gaussian noise u (T_net, B, n_noise) and no task input.
After `burn_in` steps it emits one symbol every `steps_per_symbol` steps,
read out as logits y at the last step of each block; a Gumbel-softmax with
temperature tau turns the logits into soft one-hot symbols. A batch of such
sequences, flattened to vectors (n_steps * n_symbols), is compared with a
batch of one-hot sequences sampled from the HMM by a distributional loss
(debiased Sinkhorn divergence, or MMD; optionally plus the window MMD of
short stretches of symbols, train.sinkhorn, and a moment term on the
probabilities of runs and lagged pairs of symbols, train.moments). The loss's gradient
runs back exactly: divergence -> Gumbel-softmax Jacobian -> dL/dy -> BPTT
(model.network.backward), with the Gumbel noise held fixed within a step.

Training is Adam with global-norm clipping (train.adam), the learning rate
optionally decaying exponentially by lr_decay over the run, temperature decaying
exponentially from tau0 to tau_min over tau_decay_iters iterations, and every
random draw of iteration i from a generator seeded by (seed, i): a run is
deterministic given its seed. Evaluation samples symbols exactly
(argmax(logits + Gumbel), tau -> 0) and compares their emission statistics
(tasks.hmm) with the HMM's analytic ones. With select_every, the model is the
snapshot whose statistics on held-out sequences fit best (select_snapshot).

What the presets reach, at which settings and cost, and what was tried on the
way (the Sinkhorn divergence's finite-batch bias, the Gumbel-softmax's
temperature, the network's time constant): config/README.md, "The HMM study",
measured with benchmarks/hmm_presets.py.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from ..errors import TrainingDiverged
from ..model import (ModelConfig, Params, Workspace, backward, effective_params, forward, init_params,
                     recurrent_noise, trainable_grads, trainable_params)
from ..tasks.hmm import (bootstrap_distances, compare_statistics, emission_statistics, sequence_counts,
                         statistics_from_counts)
from ..tasks.hmm_presets import HMMSpec
from .adam import Adam, clip_by_global_norm
from .gumbel import gumbel_noise, gumbel_softmax, gumbel_softmax_backward, hard_samples
from .moments import MomentTargets, hmm_moments, moment_loss
from .sinkhorn import DIVERGENCES, divergence, window_mmd
from .trainer import _discard, _resume, _save_checkpoint, _Snapshots

log = logging.getLogger("altrnn.train.generative")

LOG_COLUMNS = ["iteration", "loss", "tau", "grad_norm", "seconds"]
DIVERGED_NORM = 1e6  # a generated state this far from the origin has run away (trained networks: |x| of 10-200)


@dataclass(frozen=True)
class GenerativeConfig:
    """Settings of generative training (sequence layout, noise, loss, temperature, optimiser)."""

    n_steps: int = 20  # symbols per training sequence
    steps_per_symbol: int = 1  # network steps per emitted symbol
    burn_in: int = 20  # network steps before the first symbol (the network starts at x = 0)
    n_noise: int = 1  # input noise channels
    noise_std: float = 1.0
    batch_size: int = 256  # generated sequences per step
    hmm_batch_size: int = 256  # HMM sequences per step
    divergence: str = "sinkhorn"  # or "mmd" (biased V-statistic), "mmd_unbiased" (U-statistic)
    epsilon: float = 2.0  # Sinkhorn regularisation, in cost units (|x - y|^2 / 2: one symbol changed = 1)
    sinkhorn_tol: float = 1e-6
    sinkhorn_max_iter: int = 2000
    sinkhorn_scaling: float = 0.5
    mmd_bandwidths: tuple = (3.0,)  # Gaussian kernel widths, in units of |x - y|
    mmd_windows: tuple = ()  # lengths w: add the unbiased MMD of every w consecutive symbols (sinkhorn.window_mmd)
    mmd_window_bandwidths: tuple = (1.0,)  # its kernel widths (two windows differing in k symbols: |x - y|^2 = 2k)
    mmd_window_weight: float = 1.0  # its weight (gradients comparable: 1 beside the MMD, about 40 beside Sinkhorn)
    moment_runs: int = 0  # K > 0: add the moment term (train.moments) on the probabilities of runs of 1..K symbols
    moment_lags: tuple = ()  # lags l: the moment term also compares the pairs (o_t, o_{t+l})
    moment_weight: float = 1.0  # its weight beside the divergence
    tau0: float = 0.5
    tau_min: float = 0.2
    tau_decay_iters: int = 400
    lr: float = 3e-3
    lr_decay: float = 1.0  # the learning rate at the last iteration over the first: lr * lr_decay^(i / max_iters)
    grad_clip: float = 1.0
    max_iters: int = 400
    log_every: int = 50
    select_every: int = 0  # > 0: the model is the snapshot (every select_every iterations) that fits held-out data best
    select_trials: int = 500  # held-out sequences of select_steps symbols that score the candidates
    select_steps: int = 200
    select_lags: tuple = ()  # lags l: the selection also scores the symbol pairs l apart (tasks.hmm pairs_tv)

    def __post_init__(self):
        for key in ("n_steps", "steps_per_symbol", "n_noise", "batch_size", "hmm_batch_size", "sinkhorn_max_iter",
                    "max_iters", "log_every", "tau_decay_iters"):
            if not (isinstance(getattr(self, key), (int, np.integer)) and getattr(self, key) >= 1):
                raise ValueError(f"generative.{key} must be an integer >= 1, got {getattr(self, key)!r}")
        for key in ("select_trials", "select_steps"):
            if not (isinstance(getattr(self, key), (int, np.integer)) and getattr(self, key) >= 2):
                raise ValueError(f"generative.{key} must be an integer >= 2, got {getattr(self, key)!r}")
        if not (isinstance(self.select_every, (int, np.integer)) and 0 <= self.select_every <= self.max_iters):
            raise ValueError(f"generative.select_every must be an integer from 0 (off) to max_iters "
                             f"({self.max_iters}), got {self.select_every!r}")
        if self.n_steps < 2:
            raise ValueError(f"generative.n_steps must be >= 2, got {self.n_steps}")
        if not (isinstance(self.burn_in, (int, np.integer)) and self.burn_in >= 0):
            raise ValueError(f"generative.burn_in must be an integer >= 0, got {self.burn_in!r}")
        if self.divergence not in DIVERGENCES:
            raise ValueError(f"generative.divergence must be one of {list(DIVERGENCES)}, got {self.divergence!r}")
        for key in ("noise_std", "epsilon", "sinkhorn_tol", "tau0", "tau_min", "lr", "mmd_window_weight",
                    "moment_weight"):
            if not getattr(self, key) > 0:
                raise ValueError(f"generative.{key} must be > 0, got {getattr(self, key)!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"generative.lr_decay must be in (0, 1] (1: constant), got {self.lr_decay!r}")
        if self.tau_min > self.tau0:
            raise ValueError(f"generative.tau_min ({self.tau_min}) must be <= tau0 ({self.tau0})")
        if not 0 <= self.sinkhorn_scaling < 1:
            raise ValueError(f"generative.sinkhorn_scaling must be in [0, 1), got {self.sinkhorn_scaling}")
        if self.grad_clip < 0:
            raise ValueError(f"generative.grad_clip must be >= 0 (0: off), got {self.grad_clip}")
        for key in ("mmd_bandwidths", "mmd_window_bandwidths"):
            bw = np.atleast_1d(np.asarray(getattr(self, key), dtype=float))
            if bw.size == 0 or not np.all(bw > 0):
                raise ValueError(f"generative.{key} must be positive numbers, got {getattr(self, key)!r}")
        if not all(isinstance(w, (int, np.integer)) and 1 <= w <= self.n_steps for w in self.mmd_windows):
            raise ValueError(f"generative.mmd_windows must be integers from 1 to n_steps ({self.n_steps}), "
                             f"got {list(self.mmd_windows)!r}")
        if not (isinstance(self.moment_runs, (int, np.integer)) and 0 <= self.moment_runs <= self.n_steps):
            raise ValueError(f"generative.moment_runs must be an integer from 0 (off) to n_steps ({self.n_steps}), "
                             f"got {self.moment_runs!r}")
        if not all(isinstance(lag, (int, np.integer)) and 1 <= lag < self.n_steps for lag in self.moment_lags):
            raise ValueError(f"generative.moment_lags must be integers from 1 to n_steps - 1 ({self.n_steps - 1}), "
                             f"got {list(self.moment_lags)!r}")
        if not all(isinstance(lag, (int, np.integer)) and 1 <= lag < self.select_steps for lag in self.select_lags):
            raise ValueError(f"generative.select_lags must be integers from 1 to select_steps - 1 "
                             f"({self.select_steps - 1}), got {list(self.select_lags)!r}")

    @classmethod
    def from_dict(cls, values: dict) -> "GenerativeConfig":
        """Build from a config mapping; an unknown key is an error naming it."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"generative: unknown keys {sorted(unknown)}; known keys: {sorted(known)}")
        values = dict(values)
        for key in ("mmd_bandwidths", "mmd_windows", "mmd_window_bandwidths", "moment_lags", "select_lags"):
            if key in values:
                values[key] = tuple(np.atleast_1d(values[key]).tolist())
        return cls(**values)

    @property
    def uses_moments(self) -> bool:
        """Whether the loss adds the moment term (train.moments)."""
        return bool(self.moment_runs or self.moment_lags)

    def network_steps(self, n_steps: int | None = None) -> int:
        return self.burn_in + self.steps_per_symbol * (n_steps or self.n_steps)

    def readout_steps(self, n_steps: int | None = None) -> np.ndarray:
        """The network steps (indices into y) at which symbols are read out."""
        return self.burn_in + self.steps_per_symbol * np.arange(1, (n_steps or self.n_steps) + 1) - 1


def temperature(gen: GenerativeConfig, iteration: int) -> float:
    """tau0 * (tau_min / tau0)^(iteration / tau_decay_iters), held at tau_min afterwards."""
    frac = min(iteration / gen.tau_decay_iters, 1.0)
    return float(gen.tau0 * (gen.tau_min / gen.tau0) ** frac)


def learning_rate(gen: GenerativeConfig, iteration: int) -> float:
    """lr * lr_decay^(iteration / max_iters): exponential decay over the run (lr_decay 1: constant)."""
    return float(gen.lr * gen.lr_decay ** (iteration / gen.max_iters))


def one_hot_sequences(symbols: np.ndarray, n_symbols: int) -> np.ndarray:
    """Symbols (n_steps, B) -> flattened one-hot sequences (B, n_steps * n_symbols)."""
    return np.eye(n_symbols)[symbols.T].reshape(symbols.shape[1], -1)


def draw_noise(gen: GenerativeConfig, n_trials: int, rng: np.random.Generator, n_steps: int | None = None,
               dtype=np.float64) -> np.ndarray:
    """Gaussian input noise (T_net, n_trials, n_noise) with standard deviation noise_std."""
    shape = (gen.network_steps(n_steps), n_trials, gen.n_noise)
    return (gen.noise_std * rng.standard_normal(shape)).astype(dtype, copy=False)


def check_shapes(cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec) -> None:
    if cfg.n_in != gen.n_noise:
        raise ValueError(f"model.n_in ({cfg.n_in}) must equal generative.n_noise ({gen.n_noise})")
    if cfg.n_out != hmm.n_symbols:
        raise ValueError(f"model.n_out ({cfg.n_out}) must equal the HMM's number of symbols ({hmm.n_symbols})")


def loss_and_grad(params: Params, cfg: ModelConfig, gen: GenerativeConfig, noise_inputs: np.ndarray,
                  gumbel: np.ndarray, target: np.ndarray, tau: float, rec_noise=None, workspace=None,
                  moments: MomentTargets | None = None):
    """(loss, gradient Params, soft samples (n_steps, B, n_symbols)) for one batch.

    noise_inputs (T_net, B, n_noise); gumbel (n_steps, B, n_symbols), fixed noise of
    the Gumbel-softmax; target (B_hmm, n_steps * n_symbols), flattened one-hot HMM sequences;
    moments: the HMM's (moment_targets), needed when gen adds the moment term.
    """
    traj = forward(params, cfg, noise_inputs, rec_noise, workspace=workspace)
    idx = gen.readout_steps()
    logits = np.asarray(traj.y[idx], dtype=np.float64)
    soft = gumbel_softmax(logits, gumbel, tau)
    n_steps, B, S = soft.shape
    points = soft.transpose(1, 0, 2).reshape(B, -1)
    value, d_points = divergence(points, target, kind=gen.divergence, epsilon=gen.epsilon, tol=gen.sinkhorn_tol,
                                 max_iter=gen.sinkhorn_max_iter, scaling=gen.sinkhorn_scaling,
                                 bandwidths=gen.mmd_bandwidths)
    if gen.mmd_windows:
        v, g = window_mmd(points, target, n_steps, gen.mmd_windows, gen.mmd_window_bandwidths, cfg.np_dtype)
        value, d_points = value + gen.mmd_window_weight * v, d_points + gen.mmd_window_weight * g
    d_soft = d_points.reshape(B, n_steps, S).transpose(1, 0, 2)
    d_logits = gumbel_softmax_backward(soft, tau, d_soft)
    if gen.uses_moments:
        if moments is None:
            raise ValueError("generative.moment_runs / moment_lags are set: pass the HMM's moments (moment_targets)")
        probs = gumbel_softmax(logits, 0.0, 1.0)  # softmax(logits): the symbols' probabilities given the trajectory
        v, d_probs = moment_loss(probs, moments)
        value += gen.moment_weight * v
        d_logits += gumbel_softmax_backward(probs, 1.0, gen.moment_weight * d_probs)
    dy = np.zeros(traj.y.shape, dtype=cfg.np_dtype)
    dy[idx] = d_logits
    grads = backward(params, cfg, noise_inputs, traj, dy, workspace=workspace)
    return value, grads, soft


@dataclass
class GenerativeResult:
    params: Params  # effective weights at the end
    init: Params  # effective weights at the start
    log: pd.DataFrame  # LOG_COLUMNS, one row per log window (loss: the window's mean)
    snapshots: dict | None = None  # iteration (K,) and each weight array stacked (K, ...), as snapshots.npz
    selected: int | None = None  # the iteration whose weights `params` are (select_every > 0), else None


def moment_targets(gen: GenerativeConfig, hmm: HMMSpec) -> MomentTargets | None:
    """The HMM's moments that gen's moment term compares (None when it has none)."""
    if not gen.uses_moments:
        return None
    return hmm_moments(hmm.transition, hmm.emission, gen.moment_runs, gen.moment_lags)


def check_selection(gen: GenerativeConfig, snapshot_every: int) -> None:
    """ValueError unless gen.select_every is 0 or a multiple of snapshot_every (the candidates are snapshots)."""
    if gen.select_every and (not snapshot_every or gen.select_every % snapshot_every):
        raise ValueError(f"generative.select_every ({gen.select_every}) must be a multiple of snapshot_every "
                         f"({snapshot_every}): the candidates are snapshots")


def step_rng(seed: int, iteration: int) -> np.random.Generator:
    return np.random.default_rng([seed, 2, iteration])


def train_generative(hmm: HMMSpec, model_cfg: ModelConfig, gen: GenerativeConfig, g: float, seed: int,
                     init: Params | None = None, snapshot_every: int = 0, checkpoint=None,
                     checkpoint_every: int | None = None) -> GenerativeResult:
    """Train a network (seeded init, or `init`, effective weights) to emit hmm's sequences from noise.

    snapshot_every = k > 0 keeps the effective weights at iteration 0, every k-th
    iteration and the last (as train.trainer does with train.snapshot_every).
    checkpoint: a file written every checkpoint_every iterations (a multiple of
    gen.log_every; default: every log row) and removed at the end; a run that
    finds one made with the same settings resumes from it, bitwise identical to
    an uninterrupted run, since every draw of iteration i is seeded by (seed, i).
    """
    check_shapes(model_cfg, gen, hmm)
    check_selection(gen, snapshot_every)
    checkpoint_every = checkpoint_every or gen.log_every
    if checkpoint_every % gen.log_every:
        raise ValueError(f"checkpoint_every ({checkpoint_every}) must be a multiple of generative.log_every "
                         f"({gen.log_every}), so that a resumed run logs the same windows")
    if init is not None:
        params = trainable_params(init.astype(model_cfg.np_dtype), model_cfg).copy()
    else:
        params = init_params(model_cfg, g, np.random.default_rng([seed, 0]))
    initial = effective_params(params, model_cfg).copy()
    opt = Adam(params, lr=gen.lr)
    snapshots = _Snapshots(snapshot_every)
    fingerprint = json.dumps({"transition": hmm.transition.tolist(), "emission": hmm.emission.tolist(),
                              "model": asdict(model_cfg), "generative": asdict(gen), "g": g, "seed": seed,
                              "init": None if init is None else [a.tolist() for a in initial.arrays()],
                              "snapshot_every": snapshot_every}, sort_keys=True, default=str)
    start, rows, elapsed = 0, [], 0.0
    if checkpoint is not None and os.path.exists(checkpoint):
        start, rows, elapsed = _resume(checkpoint, fingerprint, params, opt, snapshots)
    if start == 0:
        snapshots.take(0, initial)
    workspace = Workspace()
    moments = moment_targets(gen, hmm)
    window, t0 = [], time.perf_counter() - elapsed
    for it in range(start, gen.max_iters):
        rng = step_rng(seed, it)
        tau = temperature(gen, it)
        u = draw_noise(gen, gen.batch_size, rng, dtype=model_cfg.np_dtype)
        gumbel = gumbel_noise((gen.n_steps, gen.batch_size, hmm.n_symbols), rng)
        target = one_hot_sequences(hmm.sample(gen.n_steps, gen.hmm_batch_size, rng)[1], hmm.n_symbols)
        rec = recurrent_noise(model_cfg, (u.shape[0], gen.batch_size, model_cfg.n_rec), rng, workspace)
        value, grads, _ = loss_and_grad(effective_params(params, model_cfg), model_cfg, gen, u, gumbel, target, tau,
                                        rec, workspace, moments)
        trainable_grads(grads, model_cfg)
        norm = clip_by_global_norm(grads, gen.grad_clip)
        if not (np.isfinite(value) and np.isfinite(norm)):
            _discard(checkpoint)
            raise TrainingDiverged(f"generative training diverged at iteration {it}: loss={value}, gradient "
                                   f"norm={norm}. Lower generative.lr or raise generative.tau_min.")
        opt.lr = learning_rate(gen, it)
        opt.step(params, grads)
        done = it + 1
        if snapshot_every and done % snapshot_every == 0:
            snapshots.take(done, effective_params(params, model_cfg))
        window.append(value)
        if done % gen.log_every == 0 or done == gen.max_iters:
            rows.append({"iteration": done, "loss": float(np.mean(window)), "tau": tau, "grad_norm": norm,
                         "seconds": time.perf_counter() - t0})
            log.info("iteration %d/%d  loss %.4f  tau %.3f  |grad| %.3g", done, gen.max_iters,
                     rows[-1]["loss"], tau, norm)
            window = []
            if checkpoint is not None and done % checkpoint_every == 0 and done < gen.max_iters:
                _save_checkpoint(checkpoint, fingerprint, done, rows, time.perf_counter() - t0, params, opt, snapshots)
    _discard(checkpoint)
    final = effective_params(params, model_cfg).copy()
    if snapshot_every and snapshots.iterations[-1] != gen.max_iters:
        snapshots.take(gen.max_iters, final)
    selected = None
    if gen.select_every:
        selected, final = select_snapshot(snapshots, model_cfg, gen, hmm, seed)
    return GenerativeResult(final, initial, pd.DataFrame(rows, columns=LOG_COLUMNS),
                            snapshots.arrays() if snapshot_every else None, selected)


def selection_score(params: Params, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec, reference: dict,
                    seed: int) -> tuple[float, float]:
    """(fraction of runaway sequences, largest of the TV distances to `reference`, the HMM's analytic
    statistics: the three, and pairs_tv at gen.select_lags if any) of gen.select_trials sequences of
    gen.select_steps symbols, drawn from their own stream (seed, 4): never the evaluation's draws (stream
    3), and the same draws for every candidate, so that candidates differ by their weights only."""
    rng = np.random.default_rng([seed, 4])
    symbols, diverged = generate_checked(params, cfg, gen, gen.select_trials, rng, gen.select_steps)
    stats = emission_statistics(symbols, hmm.n_symbols, lags=gen.select_lags)
    return float(diverged.mean()), max(compare_statistics(stats, reference).values())


def select_snapshot(snapshots: _Snapshots, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec,
                    seed: int) -> tuple[int, Params]:
    """(iteration, weights) of the snapshot at a positive multiple of gen.select_every with the smallest
    selection_score: fewest runaway sequences first (a network whose state runs away is no emulator, whatever
    its statistics), then the smallest largest TV. Model selection on held-out sequences, since the fit
    drifts between snapshots."""
    candidates = [(it, p) for it, p in zip(snapshots.iterations, snapshots.params)
                  if it > 0 and it % gen.select_every == 0]
    reference = hmm.analytic_statistics(lags=gen.select_lags)
    scores = [selection_score(p, cfg, gen, hmm, reference, seed) for _, p in candidates]
    best = min(range(len(scores)), key=scores.__getitem__)
    log.info("selected the weights of iteration %d (largest TV %.4f, runaway %.3f on held-out sequences; last "
             "iteration %d: %.4f, %.3f)", candidates[best][0], scores[best][1], scores[best][0], candidates[-1][0],
             scores[-1][1], scores[-1][0])
    return candidates[best][0], candidates[best][1].copy()


def generate(params: Params, cfg: ModelConfig, gen: GenerativeConfig, n_trials: int, rng: np.random.Generator,
             n_steps: int | None = None) -> np.ndarray:
    """Exact symbol samples argmax(logits + Gumbel) of the noise-driven network, (n_steps, n_trials)."""
    return generate_checked(params, cfg, gen, n_trials, rng, n_steps)[0]


def generate_checked(params: Params, cfg: ModelConfig, gen: GenerativeConfig, n_trials: int,
                     rng: np.random.Generator, n_steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(symbols (n_steps, n_trials) as generate, diverged (n_trials,) bool).

    A trial has diverged when its state left the ball |x| < DIVERGED_NORM or
    became non-finite: a ReLU network can be stable on its training sequences
    and still run away on longer ones, and the symbols of such a trial say
    nothing about the HMM.
    """
    n_steps = n_steps or gen.n_steps
    u = draw_noise(gen, n_trials, rng, n_steps, cfg.np_dtype)
    rec = recurrent_noise(cfg, (u.shape[0], n_trials, cfg.n_rec), rng)
    traj = forward(params, cfg, u, rec)
    logits = traj.y[gen.readout_steps(n_steps)]
    return hard_samples(logits, gumbel_noise(logits.shape, rng)), ran_away(traj.x)


def ran_away(x: np.ndarray) -> np.ndarray:
    """Trials (axis 1) of states x (T, B, N) that left the ball |x| < DIVERGED_NORM or became non-finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        norm = np.linalg.norm(np.asarray(x, dtype=np.float64), axis=2)
    return ~np.all(norm < DIVERGED_NORM, axis=0)  # NaN compares False: non-finite counts as diverged


def generator_statistics(params: Params, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec,
                         n_trials: int = 200, n_steps: int = 200, seed: int = 0, max_dwell: int = 20, lags=()):
    """Emission statistics (tasks.hmm.emission_statistics, with symbol pairs at lags) of the network's exact
    samples, of HMM samples of the same size, and the HMM's analytic ones: (network, hmm_sample, analytic).
    The network's also hold `diverged`, the fraction of its sequences whose state ran away
    (generate_checked); their symbols are counted like the others."""
    rng = np.random.default_rng([seed, 3])
    symbols, diverged = generate_checked(params, cfg, gen, n_trials, rng, n_steps)
    per_sequence = sequence_counts(symbols, hmm.n_symbols, max_dwell, lags)
    net = {**statistics_from_counts(**{k: v.sum(axis=0) for k, v in per_sequence.items()}),
           "diverged": float(diverged.mean()), "per_sequence": per_sequence}
    sample = emission_statistics(hmm.sample(n_steps, n_trials, rng)[1], hmm.n_symbols, max_dwell, lags)
    return net, sample, hmm.analytic_statistics(max_dwell, lags)


def evaluate_generator(params: Params, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec, n_trials: int = 200,
                       n_steps: int = 200, seed: int = 0, max_dwell: int = 20, lags=()) -> dict[str, float]:
    """Total-variation distances of the network's emission statistics to the HMM's analytic ones.

    occupancy_tv, transition_tv, dwell_tv (and with lags pairs_tv: tasks.hmm.compare_statistics),
    and the same for HMM samples of the same size (floor_*): the distance due to
    finite samples alone, the best a perfect emulator can score; diverged, the
    fraction of generated sequences whose state ran away (generate_checked).
    """
    return distances(*generator_statistics(params, cfg, gen, hmm, n_trials, n_steps, seed, max_dwell, lags))


def distances(net: dict, sample: dict, reference: dict, n_boot: int = 0, seed: int = 0) -> dict[str, float]:
    """evaluate_generator's row from generator_statistics' three sets of statistics; with n_boot > 0 also
    the network's distances' 95% intervals ({distance}_lo, _hi: tasks.hmm.bootstrap_distances over its
    sequences, n_boot resamples drawn from the stream (seed, 5))."""
    floor = compare_statistics(sample, reference)
    row = {**compare_statistics(net, reference), **{f"floor_{k}": v for k, v in floor.items()},
           "diverged": net["diverged"]}
    if n_boot:
        row.update(bootstrap_distances(net["per_sequence"], reference, n_boot, np.random.default_rng([seed, 5])))
    return row

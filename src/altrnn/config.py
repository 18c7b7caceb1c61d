"""The workflow's configuration, typed: every section, its defaults, one merge, studies.

A config (config/config.yaml) has global sections (model, train, standard,
insd, evaluate, dynamics, similarity, decoding, gaming, threads), `tasks` (entries that may
override any section) and `studies` (factor sweeps over a task entry). `load`
turns the raw mapping into a `Config`: one `Settings` per *unit* (a task entry
or a study condition), each the one merge of

    section defaults  <-  global section  <-  task entry  <-  study  <-  axis values

Every key is checked here, before any job starts, with errors that name it.
The JSON schema in workflow/schemas/ is generated from these classes
(`python -m altrnn.config > workflow/schemas/config.schema.yaml`) and a test
keeps the committed file equal to it.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import itertools
import json
import re
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass

from . import netids

__all__ = ["ConfigError", "ModelSection", "TrainConfig", "StandardConfig", "InsdConfig", "EvaluateConfig",
           "DynamicsConfig", "SimilarityConfig", "DecodingConfig", "GamingConfig", "StressConfig", "RecordingsConfig", "ThreadsConfig",
           "BifurcationsConfig", "SurrogateConfig", "HmmEmulationConfig", "HmmUnit", "HmmMechanismConfig", "ImportedNetwork", "Settings", "Study", "Config", "load",
           "canonical", "json_schema", "SECTIONS", "ENTRY_SECTIONS"]

METRICS = ("cka", "rsa", "procrustes", "dsa")
RECORDING_METRICS = ("predictability", *METRICS)  # analysis.recordings.METRICS (a test keeps them equal)
# Options each metric accepts (analysis.similarity.METRICS: prepare and compare options; a test keeps them equal).
METRIC_OPTIONS = {"cka": (), "rsa": ("dissimilarity", "correlation", "max_rows"), "procrustes": (),
                  "dsa": ("n_delays", "rank", "delay_interval", "whiten", "n_restarts", "seed", "patience")}


class ConfigError(ValueError):
    """A config key or value is wrong; the message names where."""


def _key(name, *, minimum=None, exclusive_minimum=None, maximum=None, exclusive_maximum=None, choices=None,
         min_items=None, unique=False, doc=""):
    """Field metadata: the constraints the parser checks and the schema states."""
    limits = {"minimum": minimum, "exclusiveMinimum": exclusive_minimum, "maximum": maximum,
              "exclusiveMaximum": exclusive_maximum, "enum": list(choices) if choices else None,
              "minItems": min_items, "uniqueItems": unique or None}
    return {"schema": {k: v for k, v in limits.items() if v is not None}, "doc": doc, "key": name}


def _f(default, name=None, **limits):
    """A dataclass field with a default and constraints (lists become tuples, so sections stay hashable)."""
    meta = _key(name, **limits)
    if isinstance(default, (list, dict)):
        frozen = tuple(default) if isinstance(default, list) else default
        return field(default_factory=lambda: copy.deepcopy(frozen), metadata=meta)
    return field(default=default, metadata=meta)


# --- sections ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSection:
    """The leaky rate RNN (DESIGN.md); the task adds n_in and n_out (model.ModelConfig)."""

    n_rec: int = _f(64, minimum=1)
    activation: str = _f("tanh", choices=("tanh", "relu", "alrnn"))  # alrnn: almost-linear, n_relu ReLU units
    n_relu: typing.Optional[int] = _f(None, minimum=0)  # alrnn only: units 0..n_relu-1 are ReLU, the rest linear
    alpha: float = _f(0.2, exclusive_minimum=0, maximum=1)
    sigma_rec: float = _f(0.05, minimum=0)
    dtype: str = _f("float32", choices=("float32", "float64"))
    parameterisation: str = _f("standard", choices=("standard", "mean_field"))  # mean_field: readout 1/(gamma N)
    gamma: float = _f(1.0, exclusive_minimum=0)  # feature-learning gain of the mean_field parameterisation
    fast_tanh: bool = _f(False)  # float64 tanh by a vectorised approximation (3 ulp), not libm

    def __post_init__(self):
        if self.activation == "alrnn" and self.n_relu is None:
            raise ConfigError("model.n_relu: activation alrnn needs the number of ReLU units P (0 <= P <= n_rec)")
        if self.activation != "alrnn" and self.n_relu is not None:
            raise ConfigError(f"model.n_relu: only used with activation alrnn, got activation {self.activation!r}; "
                              "remove n_relu (or set activation: alrnn)")
        if self.n_relu is not None and not 0 <= self.n_relu <= self.n_rec:
            raise ConfigError(f"model.n_relu: must be between 0 and model.n_rec = {self.n_rec}, got {self.n_relu}")
        if self.parameterisation == "standard" and self.gamma != 1.0:
            raise ConfigError(f"model.gamma: {self.gamma!r} has no effect in the standard parameterisation; "
                              "set model.parameterisation: mean_field (or leave gamma at 1)")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (config key `train`)."""

    batch_size: int = _f(64, minimum=1)
    lr: float = _f(1e-3, exclusive_minimum=0)
    max_iters: int = _f(2000, minimum=1)
    loss_target: typing.Optional[float] = _f(None, exclusive_minimum=0)  # stop once a log window's task loss is below
    grad_clip: float = _f(1.0, minimum=0)  # global-norm clipping; 0 disables
    rate_l2: float = _f(0.0, minimum=0)
    weight_l2: float = _f(0.0, minimum=0)
    l1: float = _f(0.0, minimum=0)  # l1 * (mean|W_in| + mean|W| + mean|W_out|)
    nuclear: float = _f(0.0, minimum=0)  # nuclear * (sum of singular values of W) / N
    patience: int = _f(0, minimum=0)  # log windows trained on after the loss target is first reached
    log_every: int = _f(10, minimum=1)
    checkpoint_every: int = _f(100, minimum=1)
    snapshot_every: int = _f(0, minimum=0)  # weights saved every k iterations for the bifurcations stage; 0: off

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return parse_section(cls, d, "train")


@dataclass(frozen=True)
class StandardConfig:
    """Standard networks: one per init scale g and seed."""

    g: tuple[float, ...] = _f([0.5, 1.5], exclusive_minimum=0, min_items=1, unique=True)
    seeds: tuple[int, ...] = _f([0, 1], minimum=0, min_items=1, unique=True)


@dataclass(frozen=True)
class InsdConfig:
    """Iterative Neural Similarity Decoupling: ref, then alt1..altK."""

    n_alternatives: int = _f(2, minimum=0)
    lam: float = _f(2.0, "lambda", minimum=0)
    rho: float = _f(1e-3, exclusive_minimum=0)
    rho_mode: str = _f("relative", choices=("relative", "absolute"))
    warmup: int = _f(0, minimum=0)  # iterations over which lambda rises linearly from 0
    g: float = _f(1.0, exclusive_minimum=0)
    seed: int = _f(100, minimum=0)


@dataclass(frozen=True)
class EvaluateConfig:
    """Evaluation in and out of distribution."""

    n_trials: int = _f(256, minimum=1)
    seed: int = _f(12345, minimum=0)


@dataclass(frozen=True)
class DynamicsConfig:
    """Fixed points, cycles, manifolds and basins of every network (see config/README.md)."""

    n_trials: int = _f(64, minimum=1)  # trials whose noise-free states seed the searches
    seed: int = _f(2024, minimum=0)
    n_initial: int = _f(256, minimum=1)  # initial states of the fixed-point search per input condition
    noise: float = _f(0.1, minimum=0)  # initial-state noise, relative to the states' spread
    q_tol: float = _f(1e-12, exclusive_minimum=0)
    slow_tol: float = _f(1e-6, exclusive_minimum=0)
    unique_tol: float = _f(1e-3, exclusive_minimum=0)
    outlier_factor: float = _f(10.0, exclusive_minimum=0)
    slow_exclusion: float = _f(0.05, minimum=0)  # slow points this close (relative) to a fixed point are dropped
    max_iters: int = _f(2000, minimum=0)
    max_period: int = _f(4, minimum=1)  # ReLU networks: longest cycle searched exactly
    cycle_seeds: int = _f(16, minimum=0)  # tanh networks: visited states iterated in search of cycles (0: none)
    cycle_transient: int = _f(1000, minimum=0)  # steps each is iterated before looking for its return
    cycle_max_steps: int = _f(300, minimum=2)  # longest period (in steps) looked for
    cycle_return_tol: float = _f(0.01, exclusive_minimum=0)  # return distance, relative to the orbit's spread
    phase_tol: float = _f(0.05, exclusive_minimum=0)  # a cycle's multiplier this close to 1 along it: the phase
    n_plot_trials: int = _f(16, minimum=1)  # trajectories stored (in PCA coordinates) for the figures
    max_saddles: typing.Optional[int] = _f(None, minimum=0)  # cap on saddles (and cycles) per input given manifolds; None: every one
    basin_resolution: int = _f(60, minimum=2)  # grid points per side of the ReLU basin map
    basin_samples: int = _f(256, minimum=0)  # ReLU: visited states whose attractor gives the basin volumes
    manifold_steps: int = _f(10, minimum=0)  # ReLU: steps the support points of each manifold are pushed
    manifold_support: int = _f(64, minimum=2)  # ReLU: support points per manifold and step
    manifold_max_pieces: int = _f(50, minimum=1)  # ReLU: affine pieces kept at most per manifold
    manifold_reach: float = _f(2.0, exclusive_minimum=0)  # ReLU: support points within this x the states' spread
    lyapunov_trajectories: int = _f(16, minimum=0)  # visited states run for the largest Lyapunov exponent
    lyapunov_steps: int = _f(1000, minimum=2)  # steps counted, after lyapunov_transient steps
    lyapunov_transient: int = _f(500, minimum=0)
    inputs: typing.Optional[dict[str, tuple[float, ...]]] = _f(None)  # {name: constant input}; None: the task's own


@dataclass(frozen=True)
class SimilarityConfig:
    """Network comparison on a shared batch of noise-free trials."""

    n_trials: int = _f(128, minimum=4)
    seed: int = _f(54321, minimum=0)
    test_fraction: float = _f(0.5, exclusive_minimum=0, exclusive_maximum=1)
    rho: float = _f(1e-3, exclusive_minimum=0)
    metrics: tuple[str, ...] = _f(list(METRICS), choices=METRICS, unique=True)
    options: dict[str, dict] = _f({})  # metric -> keyword options of its prepare/compare steps


@dataclass(frozen=True)
class DecodingConfig:
    """Linear decoding of the task's variables over time (analysis.decoding), on noise-free trials."""

    n_trials: int = _f(128, minimum=4)
    seed: int = _f(31415, minimum=0)
    test_fraction: float = _f(0.5, exclusive_minimum=0, exclusive_maximum=1)
    ridge: float = _f(1e-2, exclusive_minimum=0)  # relative to the mean eigenvalue of the states' covariance
    stride: int = _f(2, minimum=1)  # decode every stride-th time step


@dataclass(frozen=True)
class GamingConfig:
    """Metric gaming (analysis.gaming): ref's rates against a copy padded with noise units, on the similarity batch."""

    paddings: tuple[float, ...] = _f([0.0, 1.0, 4.0], minimum=0, min_items=1, unique=True)  # k / N
    n_draws: int = _f(5, minimum=1)  # independent draws of the noise per padding
    noise: str = _f("gaussian", choices=("gaussian", "shuffled"))
    seed: int = _f(1618, minimum=0)
    n_boot: int = _f(2000, minimum=100)  # bootstrap resamples of the mean over draws


@dataclass(frozen=True)
class BifurcationsConfig:
    """Fixed points and cycles of each training snapshot (needs train.snapshot_every > 0; see config/README.md)."""

    max_period: int = _f(2, minimum=1)  # ReLU networks: longest cycle searched exactly
    n_trials: int = _f(16, minimum=1)  # trials whose noise-free states seed the searches
    n_initial: int = _f(64, minimum=1)  # tanh networks: initial states of the optimised search per input
    seed: int = _f(4242, minimum=0)


@dataclass(frozen=True)
class SurrogateConfig:
    """An AL-RNN fitted to each network's own states, its exact fixed points and cycles matched to the network's
    (stage `surrogate`, config/README.md)."""

    enabled: bool = _f(False)
    nets: typing.Optional[tuple[str, ...]] = _f(None, min_items=1, unique=True)  # network ids; None: every trained one
    n_components: typing.Optional[int] = _f(None, minimum=1)  # PCA axes fitted; None: the fewest reaching `variance`
    variance: float = _f(0.9, exclusive_minimum=0, maximum=1)  # share of the states' variance the axes explain
    n_latent: int = _f(16, minimum=1)  # M: units of the AL-RNN (n_latent - n_relu linear ones hold the axes)
    n_relu: int = _f(8, minimum=0)  # P: its ReLU units
    n_trials: int = _f(64, minimum=2)  # noise-free task trials of the network (a test_fraction of them held out)
    test_fraction: float = _f(0.25, exclusive_minimum=0, exclusive_maximum=1)
    seed: int = _f(7, minimum=0)
    max_iters: int = _f(1000, minimum=1)  # teacher-forcing iterations (the fit's budget)
    lr: float = _f(1e-2, exclusive_minimum=0)
    batch_size: int = _f(16, minimum=1)  # sequences per iteration
    sequence_length: int = _f(30, minimum=2)  # steps per sequence
    forcing_interval: int = _f(10, minimum=1)  # steps between forcings of the observed units
    max_period: int = _f(20, minimum=1)  # longest exact cycle searched in the surrogate
    tolerance: float = _f(0.15, exclusive_minimum=0)  # a match: mutual nearest within this x the states' spread

    def __post_init__(self):
        if self.n_relu > self.n_latent:
            raise ConfigError(f"surrogate.n_relu: must be at most surrogate.n_latent = {self.n_latent}, "
                              f"got {self.n_relu}")
        if self.n_components is not None and self.n_components > self.n_latent - self.n_relu:
            raise ConfigError(f"surrogate.n_components: the AL-RNN reads its axes from as many linear units, so it "
                              f"must be at most n_latent - n_relu = {self.n_latent - self.n_relu}, "
                              f"got {self.n_components}")


@dataclass(frozen=True)
class StressConfig:
    """Stress grid: every network at every level of each out-of-distribution axis, against the standard group."""

    axes: dict[str, dict] = _f({})  # name -> {key: task param or model.sigma_rec (or a list), levels, scale}
    n_trials: int = _f(128, minimum=1)  # trials per level (the same trials and noise for every network)
    seed: int = _f(2718, minimum=0)
    alpha: float = _f(0.05, exclusive_minimum=0, exclusive_maximum=1)  # after the correction
    correction: str = _f("holm", choices=("holm", "bh", "none"))  # over every test of a unit
    n_boot: int = _f(2000, minimum=100)  # bootstrap resamples of the standard group's mean


@dataclass(frozen=True)
class RecordingsConfig:
    """Recorded activity to rank the unit's networks against (analysis.recordings); no path: no ranking."""

    path: typing.Optional[str] = _f(None)  # .npz with activity, inputs (and condition), relative to the workdir
    metrics: tuple[str, ...] = _f(list(RECORDING_METRICS[:2] + RECORDING_METRICS[3:]), choices=RECORDING_METRICS,
                                  min_items=1, unique=True)
    n_boot: int = _f(200, minimum=1)  # bootstrap resamples of the recorded trials
    n_splits: int = _f(10, minimum=1)  # random split halves averaged in the noise ceiling
    n_folds: int = _f(5, minimum=2)  # cross-validation folds over conditions (predictability)
    rho: float = _f(1e-3, exclusive_minimum=0)  # ridge, relative (as similarity.rho)
    level: float = _f(0.95, exclusive_minimum=0, exclusive_maximum=1)
    seed: int = _f(0, minimum=0)

    def __post_init__(self):
        if self.path is not None and not self.path.endswith(".npz"):
            raise ConfigError(f"recordings.path: {self.path!r} is not an .npz file (arrays activity, inputs and "
                              "optionally condition)")


@dataclass(frozen=True)
class HmmEmulationConfig:
    """Networks driven by noise, trained to emit the symbol sequences of hidden Markov models (stage `hmm`,
    train.generative; see config/README.md)."""

    hmms: dict = _f({})  # name -> preset name, {preset, stay, own} or {transition, emission} (tasks.hmm_presets)
    n_rec: int = _f(64, minimum=1)
    activation: str = _f("relu", choices=("relu", "tanh"))
    g: float = _f(0.9, exclusive_minimum=0)  # init scale of W
    alpha: float = _f(0.2, exclusive_minimum=0, maximum=1)
    sigma_rec: float = _f(0.05, minimum=0)
    dtype: str = _f("float32", choices=("float32", "float64"))
    seeds: tuple[int, ...] = _f([0], minimum=0, min_items=1, unique=True)  # one network gen-s{seed} per seed
    snapshot_every: int = _f(0, minimum=0)  # weights every k iterations into snapshots.npz; 0: first and last only
    generative: dict = _f({})  # keys of train.generative.GenerativeConfig (loss, temperature, budget)
    eval_trials: int = _f(200, minimum=1)  # generated sequences scored against the HMM's statistics
    eval_steps: int = _f(200, minimum=2)  # symbols per scored sequence
    eval_seed: int = _f(0, minimum=0)
    max_dwell: int = _f(20, minimum=2)  # dwell times counted up to this length (longer ones pooled)
    eval_lags: tuple[int, ...] = _f([5, 10, 16], minimum=1, min_items=1, unique=True)  # symbol pairs this far apart
    tolerance: float = _f(0.05, exclusive_minimum=0, maximum=1)  # a network fits when its largest TV is <= this
    per_hmm: dict = _f({})  # hmm name -> its own values of any key above but hmms and per_hmm


HMM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class HmmUnit:
    """One configured HMM with its own settings (per_hmm merged in): results/hmm/{name}/."""

    name: str
    hmm: dict  # {"name", "transition", "emission"}: the checked matrices as lists of lists
    settings: HmmEmulationConfig  # hmms and per_hmm emptied
    generative: dict  # every GenerativeConfig field (GenerativeConfig.from_dict accepts it)

    def net_ids(self) -> list[str]:
        return [f"gen-s{int(s)}" for s in self.settings.seeds]


def _validator(module: str, name: str):
    """A class or function of altrnn.<module> that checks a section, imported by name: the stages' code
    stamps (altrnn.sources) follow import statements, and the checks of the hmm_emulation and dsr sections
    must not make every training job depend on the generative and teacher-forcing trainers."""
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def _hmm_emulation(raw) -> dict:
    """{name: HmmUnit} of the top-level section hmm_emulation; errors name the key."""
    where = "hmm_emulation"
    section = parse_section(HmmEmulationConfig, raw, where)
    if not section.hmms:
        return {}
    hmm_from_config = _validator("tasks.hmm_presets", "hmm_from_config")
    GenerativeConfig = _validator("train.generative", "GenerativeConfig")
    check_selection = _validator("train.generative", "check_selection")

    stray = sorted(set(section.per_hmm) - set(section.hmms))
    if stray:
        raise ConfigError(f"{where}.per_hmm.{stray[0]}: not an HMM of {where}.hmms ({sorted(section.hmms)})")
    shared = {k: v for k, v in raw.items() if k not in ("hmms", "per_hmm")}
    units = {}
    for name, spec in section.hmms.items():
        at = f"{where}.hmms.{name}"
        if not HMM_NAME.match(str(name)) or name == "nets":
            raise ConfigError(f"{at}: an HMM name is a letter then letters, digits or _ (and not `nets`): "
                              "it names the directory results/hmm/<name>")
        try:
            hmm = hmm_from_config(spec, at)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        own = section.per_hmm.get(name) or {}
        if not isinstance(own, dict) or {"hmms", "per_hmm"} & set(own):
            raise ConfigError(f"{where}.per_hmm.{name}: expected a mapping of keys of {where} other than hmms "
                              f"and per_hmm, got {own!r}")
        settings = parse_section(HmmEmulationConfig, deep_merge(shared, own), f"{where}.per_hmm.{name}")
        if max(settings.eval_lags) >= settings.eval_steps:
            raise ConfigError(f"{where}.eval_lags (HMM {name}): lags must be below eval_steps "
                              f"({settings.eval_steps}), got {list(settings.eval_lags)}")
        try:
            gen = GenerativeConfig.from_dict(settings.generative)
            check_selection(gen, settings.snapshot_every)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where} (HMM {name}): {exc}") from None
        units[name] = HmmUnit(name=name, settings=dataclasses.replace(settings, hmms={}, per_hmm={}),
                              hmm={"name": name, "transition": hmm.transition.tolist(),
                                   "emission": hmm.emission.tolist()},
                              generative=canonical(dataclasses.asdict(gen)))
    return units


@dataclass(frozen=True)
class HmmMechanismConfig:
    """Mechanism tools on every HMM-emulating network (stage `hmm_mechanism`, analysis.hmm_mechanism)."""

    n_trials: int = _f(64, minimum=1)  # noise-driven sequences (one common draw for every tool and perturbation)
    n_steps: int = _f(200, minimum=2)  # symbols per sequence, after the network's burn_in
    noise_variances: tuple[float, ...] = _f([0.0, 0.25, 1.0, 4.0], minimum=0, min_items=1, unique=True)  # input noise
    orbit_burn_in: int = _f(100, minimum=0)  # network steps dropped before orbits are measured (>= burn_in)
    free_steps: int = _f(1000, minimum=0)  # noise-free run after the noisy one: is there another attractor?
    mus: tuple[float, ...] = _f([0.0, 2.0], minimum=0, min_items=1, unique=True)  # unit output scalings
    n_null: int = _f(20, minimum=2)  # fresh noise draws of the unperturbed network: the null of an effect
    alpha: float = _f(0.05, exclusive_minimum=0, exclusive_maximum=1)  # kick units: Bonferroni over units
    slow_factor: float = _f(0.5, exclusive_minimum=0)  # slow region: speed below this x the noise kick
    n_initial: int = _f(64, minimum=1)  # tanh: initial states of the fixed-point search
    max_enumerate: int = _f(12, minimum=0)  # relu: every region solved up to this many units, else a search
    n_eig: int = _f(4, minimum=1)  # leading Jacobian eigenvalues per snapshot
    snapshot_trials: int = _f(16, minimum=1)  # sequences seeding each snapshot's fixed-point search
    eval_trials: int = _f(100, minimum=1)  # per snapshot: sequences scored against the HMM
    eval_steps: int = _f(200, minimum=2)
    n_boot: int = _f(1000, minimum=100)
    seed: int = _f(0, minimum=0)


DSR_SYSTEMS = ("lorenz63", "rossler")  # dsr.systems.SYSTEMS (a test keeps them equal)


@dataclass(frozen=True)
class DsrConfig:
    """Dynamical-systems reconstruction (stage `dsr`, config/README.md): AL-RNNs fitted by teacher forcing
    (dsr.training) to trajectories of a simulated benchmark flow or of a file."""

    systems: dict = _f({})  # name -> null or its own values of any key below but systems
    system: typing.Optional[str] = _f(None, choices=DSR_SYSTEMS)  # the flow simulated; None: the entry's name
    path: typing.Optional[str] = _f(None)  # instead: .npz with trajectories (T, n_traj, D), optional inputs
    dt: typing.Optional[float] = _f(None, exclusive_minimum=0)  # sampling interval; None: dsr.systems' default
    n_steps: int = _f(4000, minimum=2)  # steps per simulated training trajectory
    n_trajectories: int = _f(1, minimum=1)  # simulated training trajectories
    test_steps: int = _f(8000, minimum=2)  # steps per simulated held-out trajectory
    n_test: int = _f(1, minimum=1)  # simulated held-out trajectories
    test_fraction: float = _f(0.25, exclusive_minimum=0, exclusive_maximum=1)  # files: share held out
    data_seed: int = _f(0, minimum=0)
    standardise: bool = _f(True)  # fit z-scores of each variable (training trajectories' mean and std)
    n_latent: int = _f(20, minimum=1)  # M: units of the AL-RNN
    n_relu: tuple[int, ...] = _f([2], minimum=0, min_items=1, unique=True)  # P: one network per value
    seeds: tuple[int, ...] = _f([0], minimum=0, min_items=1, unique=True)  # one network per seed
    g: float = _f(0.1, minimum=0)  # init: W = I + N(0, g^2 / M)
    dtype: str = _f("float64", choices=("float32", "float64"))
    teacher_forcing: dict = _f({})  # keys of dsr.training.TeacherForcingConfig
    n_bins: int = _f(10, minimum=2)  # D_stsp: bins per dimension (D <= 3; a Gaussian mixture beyond)
    spectrum_sigma: float = _f(2.0, minimum=0)  # D_H: smoothing of the power spectra, in frequency bins


@dataclass(frozen=True)
class DsrSystem:
    """One entry of dsr.systems with its own settings merged in: results/dsr/{name}/."""

    name: str
    settings: DsrConfig  # systems emptied; system set for simulated entries
    teacher_forcing: dict  # every TeacherForcingConfig field

    def net_ids(self) -> list[str]:
        return [f"alrnn-P{p}-s{s}" for p in self.settings.n_relu for s in self.settings.seeds]


def _dsr(raw) -> dict:
    """{name: DsrSystem} of the top-level section dsr; errors name the key."""
    section = parse_section(DsrConfig, raw, "dsr")
    if not section.systems:
        return {}
    TeacherForcingConfig = _validator("dsr.training", "TeacherForcingConfig")

    shared = {k: v for k, v in (raw or {}).items() if k != "systems"}
    out = {}
    for name, own in section.systems.items():
        at = f"dsr.systems.{name}"
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", str(name)):
            raise ConfigError(f"{at}: a system name is a letter then letters, digits or _ (it names results/dsr/<name>)")
        own = own or {}
        if not isinstance(own, dict) or "systems" in own:
            raise ConfigError(f"{at}: expected null or a mapping of keys of dsr other than systems, got {own!r}")
        s = parse_section(DsrConfig, deep_merge(shared, own), at)
        if s.path is not None:
            if s.system is not None:
                raise ConfigError(f"{at}: give either system (a simulated flow) or path (a file), not both")
            if not s.path.endswith(".npz"):
                raise ConfigError(f"{at}.path: {s.path!r} is not an .npz file")
        else:
            kind = s.system or name
            if kind not in DSR_SYSTEMS:
                raise ConfigError(f"{at}: {name!r} is not a simulated system {list(DSR_SYSTEMS)}; set "
                                  f"{at}.system or {at}.path (an .npz of trajectories)")
            s = dataclasses.replace(s, system=kind)
            if max(s.n_relu) + 3 > s.n_latent:
                raise ConfigError(f"{at}.n_relu: at most n_latent - 3 = {s.n_latent - 3} (three observed variables "
                                  f"are read from linear units), got {max(s.n_relu)}")
        try:
            tf = TeacherForcingConfig.from_dict(s.teacher_forcing, f"{at}.teacher_forcing")
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        out[name] = DsrSystem(name=name, settings=dataclasses.replace(s, systems={}),
                              teacher_forcing=canonical(dataclasses.asdict(tf)))
    return out


@dataclass(frozen=True)
class ThreadsConfig:
    """Threads per job (numba and BLAS)."""

    train: int = _f(1, minimum=1)


@dataclass(frozen=True)
class ImportedNetwork:
    """A network trained elsewhere (task-entry key `imported.<name>`): its weights file and its dynamics.

    The defaults read the file as PyTorch's nn.RNN: alpha 1, tanh, no noise (altrnn.model.imports).
    """

    path: typing.Optional[str] = _f(None)  # .npz or .safetensors, relative to Snakemake's working directory
    naming: str = _f("detect", choices=("detect", "torch", "altrnn"))
    activation: str = _f("tanh", choices=("tanh", "relu"))
    alpha: float = _f(1.0, exclusive_minimum=0, maximum=1)  # != 1: the weights run as a leaky network
    sigma_rec: float = _f(0.0, minimum=0)
    dtype: str = _f("float64", choices=("float32", "float64"))


IMPORTED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _imported(value, where: str) -> dict:
    """{name: ImportedNetwork} of a task entry's `imported`, checked (names path-safe, a path to .npz or
    .safetensors)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping of names to networks, e.g. "
                          f"`{{mine: {{path: weights/mine.npz}}}}`, got {value!r}")
    out = {}
    for name, spec in value.items():
        at = f"{where}.{name}"
        if not (isinstance(name, str) and IMPORTED_NAME.match(name)) or "__" in name:
            raise ConfigError(f"{at}: a network name is a letter or digit, then letters, digits, - or _ "
                              "(not __): it names the directory nets/imp-<name>")
        net = parse_section(ImportedNetwork, spec, at)
        if not net.path:
            raise ConfigError(f"{at}.path: required: the .npz or .safetensors file of the weights")
        if not net.path.endswith((".npz", ".safetensors")):
            raise ConfigError(f"{at}.path: {net.path!r} is neither an .npz nor a .safetensors file")
        out[name] = net
    return out


SECTIONS = {"model": ModelSection, "train": TrainConfig, "standard": StandardConfig, "insd": InsdConfig,
            "evaluate": EvaluateConfig, "dynamics": DynamicsConfig, "similarity": SimilarityConfig,
            "decoding": DecodingConfig, "gaming": GamingConfig, "stress": StressConfig,
            "bifurcations": BifurcationsConfig, "recordings": RecordingsConfig, "surrogate": SurrogateConfig,
            "threads": ThreadsConfig}
ENTRY_SECTIONS = [s for s in SECTIONS if s != "threads"]  # what a task entry or study may override
ENTRY_KEYS = ["task", "params", *ENTRY_SECTIONS, "imported"]  # imported: task entries only, never studies
STUDY_KEYS = ["base", "axes", "combine", "condition_figures", "factor", "replicates", *ENTRY_KEYS[:-1]]


def config_key(f) -> str:
    return f.metadata.get("key") or f.name


def section_keys(cls) -> dict:
    """Config key -> dataclass field of a section."""
    return {config_key(f): f for f in fields(cls)}


# --- parsing -------------------------------------------------------------------------------------------


def _check_value(where, value, tp, limits):
    """`value` converted to type `tp` (int, float, str, bool, tuple[...], dict, Optional), limits checked."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _check_value(where, value, inner, limits)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if "minItems" in limits and len(value) < limits["minItems"]:
            raise ConfigError(f"{where}: needs at least {limits['minItems']} value(s), got {list(value)!r}")
        item_limits = {k: v for k, v in limits.items() if k not in ("minItems", "uniqueItems")}
        out = tuple(_check_value(f"{where}[{i}]", v, typing.get_args(tp)[0], item_limits)
                    for i, v in enumerate(value))
        if limits.get("uniqueItems") and len(set(out)) != len(out):
            raise ConfigError(f"{where}: values must be distinct, got {list(value)!r}")
        return out
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        key_tp, val_tp = typing.get_args(tp)
        return {str(k): _check_value(f"{where}.{k}", v, val_tp, {}) for k, v in value.items()}
    if tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return copy.deepcopy(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
    if "enum" in limits and value not in limits["enum"]:
        raise ConfigError(f"{where}: {value!r} is not one of {limits['enum']}")
    for name, ok, word in (("minimum", lambda v, m: v >= m, ">="), ("exclusiveMinimum", lambda v, m: v > m, ">"),
                           ("maximum", lambda v, m: v <= m, "<="), ("exclusiveMaximum", lambda v, m: v < m, "<")):
        if name in limits and not ok(value, limits[name]):
            raise ConfigError(f"{where}: must be {word} {limits[name]}, got {value!r}")
    return value


def parse_section(cls, raw, where: str):
    """An instance of section `cls` from a mapping; unknown keys and bad values raise ConfigError naming them."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {raw!r}")
    keys = section_keys(cls)
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; valid keys: {sorted(keys)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, f in keys.items():
        if key in raw:
            values[f.name] = _check_value(f"{where}.{key}", raw[key], hints[f.name], f.metadata["schema"])
    section = cls(**values)
    if cls is SimilarityConfig:
        _check_metric_options(section, where)
    if cls is StressConfig:
        section = _check_stress(section, where)
    return section


def _check_metric_options(section: SimilarityConfig, where: str):
    for metric, options in section.options.items():
        if metric not in METRICS:
            raise ConfigError(f"{where}.options.{metric}: unknown metric; metrics: {list(METRICS)}")
        if not isinstance(options, dict):
            raise ConfigError(f"{where}.options.{metric}: expected a mapping of options, got {options!r}")
        unknown = sorted(set(options) - set(METRIC_OPTIONS[metric]))
        if unknown:
            raise ConfigError(f"{where}.options.{metric}.{unknown[0]}: unknown option of {metric}; "
                              f"options: {list(METRIC_OPTIONS[metric])}")


STRESS_AXIS_KEYS = ("key", "levels", "scale")


def _check_stress(section: "StressConfig", where: str) -> "StressConfig":
    """The stress axes in one form, {name: {key: [keys], levels: [numbers], scale: bool}}; wrong ones named."""
    axes = {}
    for name, spec in section.axes.items():
        at = f"{where}.axes.{name}"
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", name):
            raise ConfigError(f"{at}: an axis name is a letter then letters, digits or _")
        if not isinstance(spec, dict):
            raise ConfigError(f"{at}: expected a mapping with `key` and `levels`, got {spec!r}")
        unknown = sorted(set(spec) - set(STRESS_AXIS_KEYS))
        if unknown:
            raise ConfigError(f"{at}.{unknown[0]}: unknown key; valid keys: {list(STRESS_AXIS_KEYS)}")
        keys = spec.get("key")
        keys = [keys] if isinstance(keys, str) else keys
        if not isinstance(keys, list) or not keys or not all(
                isinstance(k, str) and (k == "model.sigma_rec" or re.match(r"^params\.\w+$", k)) for k in keys):
            raise ConfigError(f"{at}.key: expected params.<task parameter> or model.sigma_rec (or a list of "
                              f"them), got {spec.get('key')!r}")
        if len(set(keys)) != len(keys):
            raise ConfigError(f"{at}.key: keys must be distinct, got {keys!r}")
        levels = spec.get("levels")
        if not isinstance(levels, list) or not levels:
            raise ConfigError(f"{at}.levels: expected a non-empty list of numbers, got {levels!r}")
        for i, v in enumerate(levels):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or abs(v) == float("inf") or v < 0:
                raise ConfigError(f"{at}.levels[{i}]: expected a finite number >= 0, got {v!r}")
        if len(set(levels)) != len(levels):
            raise ConfigError(f"{at}.levels: values must be distinct, got {levels!r}")
        scale = spec.get("scale", False)
        if not isinstance(scale, bool):
            raise ConfigError(f"{at}.scale: expected true or false, got {scale!r}")
        axes[name] = {"key": keys, "levels": list(levels), "scale": scale}
    return dataclasses.replace(section, axes=axes)


def _check_stress_levels(sections: dict, task, kind: str, where: str):
    """Every level of every stress axis makes a valid task and noise; the statistics have a standard group."""
    from .tasks import make_task
    from .tasks.stress import level_setting, param_name

    stress = sections["stress"]
    if not stress.axes:
        return
    n_std = len(sections["standard"].g) * len(sections["standard"].seeds)
    if n_std < 2:
        raise ConfigError(f"{where}.stress.axes: the stress statistics need at least 2 standard networks, "
                          f"this entry has {n_std}")
    for name, spec in stress.axes.items():
        at = f"{where}.stress.axes.{name}"
        for key in spec["key"]:
            p = param_name(key)
            if p is not None and not (p in task.params and isinstance(task.params[p], (int, float))
                                      and not isinstance(task.params[p], bool)):
                numeric = sorted(k for k, v in task.params.items() if isinstance(v, (int, float))
                                 and not isinstance(v, bool))
                raise ConfigError(f"{at}.key: {key!r} is not a numeric parameter of task {kind!r}; "
                                  f"numeric parameters: {numeric}")
        for i, level in enumerate(spec["levels"]):
            changes, _ = level_setting(spec, level, task.params, sections["model"].sigma_rec)
            try:
                make_task(kind, {**task.params, **changes})
            except ValueError as exc:
                raise ConfigError(f"{at}.levels[{i}]: level {level!r} gives an invalid task: {exc}") from None


def deep_merge(base: dict, over: dict) -> dict:
    """`over` merged into a copy of `base`; nested mappings merge, everything else replaces."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def canonical(value):
    """A plain, key-sorted form of settings (dataclasses by config key), so equal settings compare equal."""
    if is_dataclass(value):
        return {config_key(f): canonical(getattr(value, f.name)) for f in sorted(fields(value), key=config_key)}
    if isinstance(value, dict):
        return {str(k): canonical(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


# --- units and studies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything one task entry or study condition runs with, merged and checked."""

    label: str  # results/{label}/...: a task entry's name, or studies/{study}/{condition}
    task: str  # the task generator
    params: dict  # the generator's full parameters (defaults filled in)
    model: ModelSection
    train: TrainConfig
    standard: StandardConfig
    insd: InsdConfig
    evaluate: EvaluateConfig
    dynamics: DynamicsConfig
    similarity: SimilarityConfig
    stress: StressConfig
    decoding: DecodingConfig
    gaming: GamingConfig
    bifurcations: BifurcationsConfig
    recordings: RecordingsConfig
    surrogate: SurrogateConfig
    study: str | None = None
    axes: dict = field(default_factory=dict)  # axis key -> this condition's value
    imported: dict = field(default_factory=dict)  # name -> ImportedNetwork (task entries only)

    def standard_ids(self) -> list[str]:
        return [netids.standard_id(g, s) for g in self.standard.g for s in self.standard.seeds]

    def insd_ids(self) -> list[str]:
        return netids.insd_ids(self.insd.n_alternatives)

    def trained_ids(self) -> list[str]:
        """The networks this workflow trains (they have train_log.csv and diagnostics.csv)."""
        return self.standard_ids() + self.insd_ids()

    def imported_ids(self) -> list[str]:
        return [netids.imported_id(name) for name in self.imported]

    def net_ids(self) -> list[str]:
        """Every network every analysis stage sees: the trained ones, then the imported ones."""
        return self.trained_ids() + self.imported_ids()

    def has_degeneracy(self) -> bool:
        """Degeneracy is defined over at least two standard networks."""
        return len(self.standard_ids()) >= 2


@dataclass(frozen=True)
class Study:
    """A factor study: conditions (one Settings each) over the axes of a task entry."""

    name: str
    axes: dict  # axis key -> list of values, in config order
    combine: str  # product | zip
    conditions: list  # labels of its units, in order
    condition_figures: bool
    factor: str | None = None  # studies sharing a factor are drawn side by side (one panel per study)
    replicates: str | None = None  # an axis whose conditions are repeats (e.g. insd.seed), pooled by the trade-off


@dataclass(frozen=True)
class Config:
    units: dict  # label -> Settings (task entries, then study conditions)
    studies: dict  # name -> Study
    threads: ThreadsConfig
    hmms: dict = field(default_factory=dict)  # name -> HmmUnit (section hmm_emulation)
    hmm_mechanism: HmmMechanismConfig = field(default_factory=lambda: HmmMechanismConfig())
    dsr: dict = field(default_factory=dict)  # name -> DsrSystem (section dsr)

    @property
    def tasks(self) -> list[str]:
        return [u for u, s in self.units.items() if s.study is None]


def _task_kind(entry: dict, label: str, where: str) -> str:
    from .tasks import TASKS

    kind = entry.get("task", label)
    if kind not in TASKS:
        raise ConfigError(f"{where}: unknown task {kind!r}; known tasks: {sorted(TASKS)} "
                          f"(an entry with another name needs `task: <one of these>`)")
    return kind


def _settings(raw: dict, entry: dict, label: str, where: str, study=None, axes=None) -> Settings:
    """The one merge: section defaults <- global section <- the entry's own (entry already holds study and axes)."""
    from .tasks import make_task

    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping of keys, got {entry!r}")
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; valid keys: {ENTRY_KEYS}")
    kind = _task_kind(entry, label, where)
    sections = {}
    for name in ENTRY_SECTIONS:
        own = entry.get(name)
        if own is not None and not isinstance(own, dict):
            raise ConfigError(f"{where}.{name}: expected a mapping of keys, got {own!r}")
        merged = deep_merge(raw.get(name) or {}, own or {})
        sections[name] = parse_section(SECTIONS[name], merged, f"{where}.{name}")
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{where}.params: expected a mapping of task parameters, got {params!r}")
    try:
        task = make_task(kind, params)
    except ValueError as exc:
        raise ConfigError(f"{where}.params: {exc}") from None
    for name, u in (sections["dynamics"].inputs or {}).items():
        if len(u) != task.n_in:
            raise ConfigError(f"{where}.dynamics.inputs.{name}: {len(u)} value(s), but task {kind!r} has "
                              f"{task.n_in} input channel(s)")
    _check_stress_levels(sections, task, kind, where)
    # Distinct g values (checked by the section) give distinct ids: netids.format_number is exact.
    imported = _imported(entry.get("imported"), f"{where}.imported")
    settings = Settings(label=label, task=kind, params=canonical(task.params), study=study, axes=axes or {},
                        imported=imported, **sections)
    unknown = [n for n in settings.surrogate.nets or () if n not in settings.net_ids()]
    if unknown and study is None:  # a study condition may drop networks of its base entry: they are skipped
        raise ConfigError(f"{where}.surrogate.nets: {unknown} are not networks of this unit; "
                          f"its networks: {settings.net_ids()}")
    return settings


def _set_dotted(entry: dict, key: str, value, where: str):
    """Set entry[a][b]... = value for key 'a.b...', checking that the key can exist."""
    parts = key.split(".")
    if len(parts) < 2 or parts[0] not in ("params", *ENTRY_SECTIONS):
        raise ConfigError(f"{where}.{key}: an axis must be a dotted key under one of {['params', *ENTRY_SECTIONS]} "
                          "(e.g. model.n_rec, params.n_bits, train.lr, insd.lambda, standard.g)")
    if parts[0] in SECTIONS:
        keys = section_keys(SECTIONS[parts[0]])
        deep_ok = parts[0] == "similarity" and parts[1] == "options" and len(parts) >= 3
        if parts[1] not in keys or (len(parts) > 2 and not deep_ok):
            raise ConfigError(f"{where}.{key}: unknown key {parts[1]!r} of {parts[0]}; "
                              f"valid keys: {sorted(keys)}")
    node = entry
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = copy.deepcopy(value)


def format_value(value) -> str:
    """A value as it appears in a condition label: exact, short, path-safe."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return netids.format_number(value)
    if isinstance(value, (list, tuple)):
        return "+".join(format_value(v) for v in value)
    return str(value)


_LABEL = re.compile(r"^[A-Za-z0-9._+-]+$")


def _axis_names(keys) -> dict:
    """Short names of the axes in condition labels: the last part of the key, unless two axes share it."""
    last = [k.split(".")[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last)}


def _with_networks_per_g(raw: dict, entry: dict) -> dict:
    """entry with standard.seeds = 0 .. n-1 when the top-level networks_per_g is n (the one scale key)."""
    n = raw.get("networks_per_g")
    if n is None:
        return entry
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"networks_per_g: expected an integer >= 1 (standard networks per init scale g in "
                          f"every task entry and study condition), got {n!r}")
    return deep_merge(entry, {"standard": {"seeds": list(range(n))}})


def _study(raw: dict, name: str, spec) -> tuple[Study, list[Settings]]:
    where = f"studies.{name}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a mapping with `axes` (and `base` or `task`), got {spec!r}")
    unknown = sorted(set(spec) - set(STUDY_KEYS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; valid keys: {STUDY_KEYS}")
    tasks = raw.get("tasks") or {}
    base = spec.get("base")
    if base is not None and base not in tasks:
        raise ConfigError(f"{where}.base: {base!r} is not an entry of `tasks` ({sorted(tasks)})")
    entry = deep_merge(tasks.get(base) or {}, {k: v for k, v in spec.items() if k in ENTRY_KEYS})
    entry.pop("imported", None)  # a study's conditions are trained networks only
    entry.setdefault("task", base)
    entry = _with_networks_per_g(raw, entry)
    if entry["task"] is None:
        raise ConfigError(f"{where}: name a `base` task entry or a `task` generator")
    axes = spec.get("axes")
    if not isinstance(axes, dict) or not axes:
        raise ConfigError(f"{where}.axes: give at least one axis, e.g. `model.n_rec: [32, 64, 128]`")
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.axes.{key}: an axis needs a non-empty list of values, got {values!r}")
        for value in values:  # each value alone, so that an error names its axis and value
            one = copy.deepcopy(entry)
            _set_dotted(one, key, value, f"{where}.axes")
            try:
                _settings(raw, one, name, f"{where}.axes.{key}", name)
            except ConfigError as exc:
                raise ConfigError(f"{where}.axes.{key}: value {value!r} is rejected: {exc}") from None
    combine = spec.get("combine", "product")
    if combine not in ("product", "zip"):
        raise ConfigError(f"{where}.combine: {combine!r} is not one of ['product', 'zip']")
    keys = list(axes)
    if combine == "zip":
        lengths = {k: len(v) for k, v in axes.items()}
        if len(set(lengths.values())) > 1:
            raise ConfigError(f"{where}.axes: zipped axes need equal lengths, got {lengths}")
        combos = list(zip(*axes.values()))
    else:
        combos = list(itertools.product(*axes.values()))
    short = _axis_names(keys)
    units, labels = [], []
    for combo in combos:
        values = dict(zip(keys, combo))
        condition = "_".join(f"{short[k]}-{format_value(v)}" for k, v in values.items())
        if not _LABEL.match(condition):
            bad = next(k for k, v in values.items() if not _LABEL.match(format_value(v) or "?"))
            raise ConfigError(f"{where}.axes.{bad}: value {values[bad]!r} cannot name a condition "
                              "(use letters, digits and . _ + -)")
        label = netids.condition_label(name, condition)
        if label in labels:
            raise ConfigError(f"{where}.axes: two conditions are both labelled {condition!r} (repeated values?)")
        cond_entry = copy.deepcopy(entry)
        for k, v in values.items():
            _set_dotted(cond_entry, k, v, f"{where}.axes")
        units.append(_settings(raw, cond_entry, label, f"{where} (condition {condition})", name, values))
        labels.append(label)
    figures = spec.get("condition_figures", False)
    if not isinstance(figures, bool):
        raise ConfigError(f"{where}.condition_figures: expected true or false, got {figures!r}")
    factor = spec.get("factor")
    if factor is not None and not (isinstance(factor, str) and re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", factor)):
        raise ConfigError(f"{where}.factor: a factor name is a letter then letters, digits, _ or -, got {factor!r}")
    replicates = spec.get("replicates")
    if replicates is not None and replicates not in keys[1:]:
        raise ConfigError(f"{where}.replicates: {replicates!r} must name one of the study's axes other than the "
                          f"first (the trend figures' x axis): {keys[1:]}")
    return Study(name=name, axes={k: list(v) for k, v in axes.items()}, combine=combine, conditions=labels,
                 condition_figures=figures, factor=factor, replicates=replicates), units


RESERVED = {"figures", "studies", "kernels", "code", "dsr"}  # directories of results/ that are not task entries


def load(raw: dict) -> Config:
    """Check and merge a raw config mapping; ConfigError names the first wrong key or value."""
    if not isinstance(raw, dict):
        raise ConfigError(f"the config must be a mapping of sections, got {type(raw).__name__}")
    known = ["tasks", "studies", "networks_per_g", "hmm_emulation", "hmm_mechanism", "dsr", *SECTIONS]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown top-level key; valid keys: {known}")
    global_sections = {name: parse_section(cls, raw.get(name), name) for name, cls in SECTIONS.items()}
    hmms = _hmm_emulation(raw.get("hmm_emulation"))
    mechanism = parse_section(HmmMechanismConfig, raw.get("hmm_mechanism"), "hmm_mechanism")
    dsr = _dsr(raw.get("dsr"))
    tasks = raw.get("tasks") or {}
    if not isinstance(tasks, dict) or not (tasks or raw.get("studies") or hmms or dsr):
        raise ConfigError("tasks: give at least one task entry (or a study, hmm_emulation.hmms or dsr.systems), "
                          "e.g. `tasks: {flipflop: {params: {n_bits: 3}}}`")
    units = {}
    for label, entry in tasks.items():
        where = f"tasks.{label}"
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", str(label)) or label in RESERVED:
            raise ConfigError(f"{where}: a task label is a letter then letters, digits or _, and not one of "
                              f"{sorted(RESERVED)}")
        units[label] = _settings(raw, _with_networks_per_g(raw, entry or {}), label, where)
    studies = {}
    specs = raw.get("studies") or {}
    if not isinstance(specs, dict):
        raise ConfigError(f"studies: expected a mapping of study names to studies, got {specs!r}")
    for name, spec in specs.items():
        if not re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", str(name)):
            raise ConfigError(f"studies.{name}: a study name is a letter then letters, digits, _ or -")
        study, conditions = _study(raw, name, spec)
        studies[name] = study
        units.update((s.label, s) for s in conditions)
    return Config(units=units, studies=studies, threads=global_sections["threads"], hmms=hmms,
                  hmm_mechanism=mechanism, dsr=dsr)


# --- JSON schema -------------------------------------------------------------------------------------------


def _schema_of(tp, limits):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        s = _schema_of(inner, limits)
        if "type" in s:
            s["type"] = [s["type"], "null"]
        return s
    if origin is tuple:
        item = {k: v for k, v in limits.items() if k not in ("minItems", "uniqueItems")}
        s = {"type": "array", "items": _schema_of(typing.get_args(tp)[0], item)}
        s.update({k: v for k, v in limits.items() if k in ("minItems", "uniqueItems")})
        return s
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_of(typing.get_args(tp)[1], {})}
    if tp is dict:
        return {"type": "object"}
    if "enum" in limits:
        return {"enum": limits["enum"]}
    s = {"type": {int: "integer", float: "number", str: "string", bool: "boolean"}[tp]}
    s.update(limits)
    return s


def section_schema(cls) -> dict:
    hints = typing.get_type_hints(cls)
    props = {}
    for key, f in section_keys(cls).items():
        s = _schema_of(hints[f.name], dict(f.metadata["schema"]))
        default = f.default if f.default is not MISSING else f.default_factory()
        s["default"] = canonical(default)
        props[key] = s
    return {"type": ["object", "null"], "additionalProperties": False, "properties": props}


def json_schema() -> dict:
    """The JSON schema of a config, generated from the section classes above."""
    defs = {name: section_schema(cls) for name, cls in SECTIONS.items()}
    defs["hmm_emulation"] = section_schema(HmmEmulationConfig)
    defs["hmm_mechanism"] = section_schema(HmmMechanismConfig)
    defs["dsr"] = section_schema(DsrConfig)
    entry_props = {"task": {"type": "string"}, "params": {"type": ["object", "null"]},
                   **{s: {"$ref": f"#/$defs/{s}"} for s in ENTRY_SECTIONS}}
    imported = {**section_schema(ImportedNetwork), "type": "object", "required": ["path"]}
    defs["entry"] = {"type": ["object", "null"], "additionalProperties": False,
                     "properties": {**entry_props, "imported": {
                         "type": ["object", "null"], "propertyNames": {"pattern": IMPORTED_NAME.pattern},
                         "additionalProperties": imported}}}
    study_props = {"base": {"type": "string"}, "combine": {"enum": ["product", "zip"]},
                   "condition_figures": {"type": "boolean"},
                   "factor": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_-]*$"},
                   "replicates": {"type": "string"},
                   "axes": {"type": "object", "minProperties": 1,
                            "propertyNames": {"pattern": r"^[a-z_]+\.[A-Za-z0-9_.]+$"},
                            "additionalProperties": {"type": "array", "minItems": 1}},
                   **entry_props}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Configuration of the altrnn workflow (see config/README.md). "
                       "Generated by `python -m altrnn.config`; do not edit by hand.",
        "type": "object",
        "additionalProperties": False,
        "$defs": defs,
        "properties": {
            "tasks": {"type": ["object", "null"],
                      "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                      "additionalProperties": {"$ref": "#/$defs/entry"}},
            "networks_per_g": {"type": ["integer", "null"], "minimum": 1},
            "studies": {"type": ["object", "null"], "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_-]*$"},
                        "additionalProperties": {"type": "object", "additionalProperties": False,
                                                 "required": ["axes"], "properties": study_props}},
            "hmm_emulation": {"$ref": "#/$defs/hmm_emulation"},
            "hmm_mechanism": {"$ref": "#/$defs/hmm_mechanism"},
            "dsr": {"$ref": "#/$defs/dsr"},
            **{s: {"$ref": f"#/$defs/{s}"} for s in SECTIONS},
        },
    }


def schema_yaml() -> str:
    import yaml

    return yaml.safe_dump(json.loads(json.dumps(json_schema())), sort_keys=False, width=110)


def read_yaml(path) -> dict:
    """A YAML config file as a mapping; a syntax error names the file, line and column."""
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {exc.problem}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None


def main(argv=None) -> int:
    """`python -m altrnn.config`: print the JSON schema; `--check FILE...`: check config files, naming errors."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m altrnn.config", description=main.__doc__)
    parser.add_argument("--check", nargs="+", metavar="FILE", help="config files to check (merged in order)")
    args = parser.parse_args(argv)
    if not args.check:
        print(schema_yaml(), end="")
        return 0
    try:
        raw = {}
        for path in args.check:
            raw = deep_merge(raw, read_yaml(path))
        cfg = load(raw)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 1
    n_nets = sum(len(u.net_ids()) for u in cfg.units.values())
    n_hmm = sum(len(h.net_ids()) for h in cfg.hmms.values())
    print(f"ok: {len(cfg.tasks)} task entries, {len(cfg.studies)} studies, {len(cfg.units)} units, {n_nets} networks"
          + (f"; {len(cfg.hmms)} HMMs, {n_hmm} HMM networks" if cfg.hmms else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

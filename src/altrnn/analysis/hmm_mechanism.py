"""How a noise-driven network emulates an HMM: the mechanism tools of Torre et al. (2025) (PAPERS.md 5).

Every function takes the network's effective weights, its ModelConfig, the
GenerativeConfig it was trained with (sequence layout, input noise), the HMM
and the `hmm_mechanism` settings (config.HmmMechanismConfig), and returns a
table:

* zero_input_fixed_points: the fixed points of the noise-free map with u = 0,
  with their stability (ReLU/AL-RNN: the exact piecewise-linear solution of
  analysis.plrnn, by enumeration of all regions when there are few switching
  units, else the SCYFI-style search; tanh: analysis.fixed_points). The
  *reference point* is the stable one nearest the noise-driven state cloud.
* orbit_radius: the RMS distance of the noise-driven states from the reference
  point (and the cloud's own spread) at each input-noise variance, with
  bootstrap intervals over trials. The same standard-normal draws are scaled
  to every variance, so the trend is not sampling noise.
* residency: the speed |F(x) - x| of the noise-free map along the noise-driven
  trajectories, against the typical size of one step's noise kick; a state is
  in a *slow region* when its speed is below slow_factor times that kick.
  Per symbol (the argmax of the logits, the state's own symbol) the fraction
  of time in slow regions, and the speed at readouts where that symbol changes
  (transitions) against readouts where it stays.
* perturbation_table / kick_units: unit i's rate scaled by mu in all its
  projections (column i of W and W_out), the network rerun on the *same* noise
  (input, recurrent and Gumbel: common random numbers, so an effect is not
  sampling noise, and a unit without outgoing weights changes nothing at all).
  The null: the unperturbed network on n_null fresh noise draws, compared with
  itself on the common draw. A kick unit changes the symbol transition matrix
  (transition_change, the occupancy-weighted row TV against the unperturbed
  emissions) by more than the null's mean + z_(1 - alpha/N) null SDs
  (Bonferroni over the N units, normal approximation of the null): more than
  redrawing all the noise does.
* training_phase: per weight snapshot, the leading Jacobian eigenvalues at the
  reference point and evaluate_generator's distances to the HMM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..model.network import ModelConfig, Params, forward, recurrent_noise
from ..tasks.hmm import compare_statistics, emission_statistics
from ..tasks.hmm_presets import HMMSpec
from ..train.generative import GenerativeConfig, evaluate_generator, ran_away
from ..train.gumbel import gumbel_noise, hard_samples
from .fixed_points import find_fixed_points, sample_initial_states
from .plrnn import enumerate_fixed_points, find_cycles
from .stability import jacobian, rnn_map
from .statistics import bootstrap_mean

MAX_DWELL = 20
FIXED_POINT_COLUMNS = ["point", "kind", "stability", "n_unstable", "spiral", "max_modulus", "eig_real", "eig_imag",
                       "q", "norm", "distance_to_cloud", "reference", "method"]
STAT_KEYS = ("occupancy_tv", "transition_tv", "dwell_tv")
CHANGE_KEYS = ("occupancy_change", "transition_change", "dwell_change")


# --------------------------------------------------------------------------- noise and emissions

@dataclass
class NoiseDraw:
    """One set of noise for n_trials sequences: input u (T_net, B, n_noise) standard normal (scaled at use),
    recurrent eta (T_net, B, N) or None, Gumbel noise (n_steps, B, n_symbols)."""

    u: np.ndarray
    rec: np.ndarray | None
    gumbel: np.ndarray

    @property
    def n_steps(self) -> int:
        return self.gumbel.shape[0]


def draw_noise(cfg: ModelConfig, gen: GenerativeConfig, n_symbols: int, n_trials: int, n_steps: int,
               rng: np.random.Generator) -> NoiseDraw:
    u = rng.standard_normal((gen.network_steps(n_steps), n_trials, gen.n_noise)).astype(cfg.np_dtype)
    rec = recurrent_noise(cfg, (u.shape[0], n_trials, cfg.n_rec), rng)
    return NoiseDraw(u, rec, gumbel_noise((n_steps, n_trials, n_symbols), rng))


def run(params: Params, cfg: ModelConfig, noise: NoiseDraw, noise_std: float):
    """The network driven by noise_std * u (and its recurrent noise): model.network.Trajectory."""
    return forward(params, cfg, (noise_std * noise.u).astype(cfg.np_dtype), noise.rec)


def emissions(params: Params, cfg: ModelConfig, gen: GenerativeConfig, noise: NoiseDraw) -> np.ndarray:
    """Symbols argmax(logits + Gumbel) of the network on this noise, (n_steps, B)."""
    y = run(params, cfg, noise, gen.noise_std).y[gen.readout_steps(noise.n_steps)]
    return hard_samples(y, noise.gumbel)


def scale_unit(params: Params, unit: int, mu: float) -> Params:
    """A copy of params in which unit's rate r_i reaches every target (W[:, i], W_out[:, i]) scaled by mu."""
    p = params.copy()
    p.W[:, unit] *= p.W.dtype.type(mu)
    p.W_out[:, unit] *= p.W_out.dtype.type(mu)
    return p


def summary(symbols: np.ndarray, n_symbols: int, reference: dict, baseline: dict | None = None) -> dict:
    """TVs of symbols' statistics to the HMM's (reference), switch_rate, and with a baseline the *_change TVs."""
    stats = emission_statistics(symbols, n_symbols, MAX_DWELL)
    out = compare_statistics(stats, reference)
    pairs = stats["pair_counts"]
    out["switch_rate"] = float(1 - np.trace(pairs) / pairs.sum())
    if baseline is not None:
        out.update({f"{k[:-3]}_change": v for k, v in compare_statistics(stats, baseline).items()})
    return out


# --------------------------------------------------------------------------- fixed points without input

def zero_input_fixed_points(params: Params, cfg: ModelConfig, states: np.ndarray, n_initial: int,
                            max_enumerate: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """(table with FIXED_POINT_COLUMNS, points (K, N)) of the noise-free map under u = 0.

    states (T, B, N): noise-driven states that seed the search and locate the cloud.
    """
    u = np.zeros(cfg.n_in)
    states = np.asarray(states, dtype=np.float64)
    if cfg.piecewise_linear:
        if cfg.n_switching <= max_enumerate:
            res, method = enumerate_fixed_points(params, cfg, u, max_units=max_enumerate), "enumeration"
        else:
            res, method = find_cycles(params, cfg, u, visited_states=states, max_period=1, rng=rng), "search"
        table, x = res.table(), res.arrays()["x"]
    else:
        start = sample_initial_states(states, n_initial, 0.1, rng)
        fp = find_fixed_points(params, cfg, u, start, visited=states)
        table, x, method = fp.table(), fp.x, "optimisation"
    x = np.asarray(x, dtype=np.float64).reshape(-1, cfg.n_rec)
    centre = states.reshape(-1, cfg.n_rec).mean(axis=0)
    table = table.assign(norm=np.linalg.norm(x, axis=1), distance_to_cloud=np.linalg.norm(x - centre, axis=1),
                         method=method)
    ref = reference_index(table)
    table["reference"] = np.arange(len(table)) == ref
    return table[FIXED_POINT_COLUMNS].reset_index(drop=True), x


def reference_index(table: pd.DataFrame) -> int | None:
    """Row of the stable fixed point nearest the state cloud, else of the nearest fixed point, else None."""
    fixed = table[table["kind"] == "fixed"]
    if fixed.empty:
        return None
    stable = fixed[fixed["stability"] == "stable"]
    pick = stable if not stable.empty else fixed
    return int(pick["distance_to_cloud"].idxmin())


def leading_eigenvalues(params: Params, cfg: ModelConfig, x: np.ndarray, n_eig: int) -> np.ndarray:
    """The n_eig eigenvalues of the map's Jacobian at x of largest modulus (complex, decreasing modulus)."""
    vals = np.linalg.eigvals(jacobian(params, cfg, x))
    return vals[np.argsort(-np.abs(vals), kind="stable")][:n_eig]


# --------------------------------------------------------------------------- orbits and slow regions

def orbit_radius(params: Params, cfg: ModelConfig, gen: GenerativeConfig, noise: NoiseDraw, x_ref, variances,
                 n_boot: int = 1000, seed: int = 0, burn_in: int = 0, free_steps: int = 0) -> pd.DataFrame:
    """Radius of the noise-driven state cloud at each input-noise variance, with 95% bootstrap intervals.

    radius: sqrt of the mean squared distance of the states (the first max(burn_in, gen.burn_in) steps
    dropped) from x_ref (None: from the cloud's mean); spread: the same from the cloud's own mean; offset:
    the distance of that mean from x_ref. Intervals resample trials (each trial's time-averaged squared
    distance). Variance 0 keeps the recurrent noise; with free_steps > 0 a last row (recurrent_noise False)
    runs the noise-free network that long from the states where the trained-noise run ended and measures
    its last 100 steps: a radius near 0 there means the orbits need the noise (the paper's noise-sustained
    orbits), a finite one that the network has another attractor (e.g. a limit cycle). diverged: the
    fraction of trials whose state ran away (train.generative.ran_away); the
    radius is then meaningless.
    """
    rows = []
    for v in variances:
        if not v >= 0:
            raise ValueError(f"hmm_mechanism.noise_variances must be >= 0, got {v}")
        x = np.asarray(run(params, cfg, noise, np.sqrt(v)).x[max(burn_in, gen.burn_in) + 1:], dtype=np.float64)
        if x.shape[0] < 1:
            raise ValueError(f"hmm_mechanism.orbit_burn_in ({burn_in}) leaves no step of the {noise.u.shape[0]} run")
        rows.append(_radius_row(x, x_ref, v, bool(np.isclose(v, gen.noise_std ** 2)), True, n_boot, seed))
    if free_steps > 0:
        start = run(params, cfg, noise, gen.noise_std).x[-1]
        x = forward(params, cfg, np.zeros((free_steps, start.shape[0], cfg.n_in), cfg.np_dtype), None, start).x
        rows.append(_radius_row(np.asarray(x[-min(100, free_steps):], dtype=np.float64), x_ref, 0.0, False, False,
                                n_boot, seed))
    return pd.DataFrame(rows, columns=["variance", "trained", "recurrent_noise", "reference", "radius",
                                       "radius_low", "radius_high", "spread", "spread_low", "spread_high", "offset",
                                       "diverged"])


def _radius_row(x, x_ref, variance, trained, recurrent, n_boot, seed) -> dict:
    """radius and spread of states x (T, B, N) around x_ref (None: their mean), with bootstrap intervals."""
    mean = x.mean(axis=(0, 1))
    centre = mean if x_ref is None else np.asarray(x_ref, dtype=np.float64)
    row = {"variance": float(variance), "trained": trained, "recurrent_noise": recurrent,
           "reference": "state_mean" if x_ref is None else "fixed_point",
           "offset": float(np.linalg.norm(mean - centre))}
    row["diverged"] = float(ran_away(x).mean())
    for name, c in (("radius", centre), ("spread", mean)):
        m, lo, hi = bootstrap_mean(((x - c) ** 2).sum(axis=2).mean(axis=0), n_boot, seed=seed)
        row.update({name: np.sqrt(m), f"{name}_low": np.sqrt(lo), f"{name}_high": np.sqrt(hi)})
    return row


def noise_kick(params: Params, cfg: ModelConfig, noise_std: float) -> float:
    """RMS size of one step's noise kick a W_in u + sqrt(2a) sigma_rec eta, u ~ N(0, noise_std^2 I)."""
    a = cfg.alpha
    w_in = np.asarray(params.W_in, dtype=np.float64)
    return float(np.sqrt(a ** 2 * noise_std ** 2 * (w_in ** 2).sum() + 2 * a * cfg.sigma_rec ** 2 * cfg.n_rec))


def residency(params: Params, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec, noise: NoiseDraw,
              slow_factor: float) -> pd.DataFrame:
    """Slow-region residency per symbol and speed at transitions (module doc), one row per group.

    group: a symbol (its readouts), `dwell` (readouts whose symbol equals the previous one), `switch`
    (readouts where it changed) or `all`; fraction: the group's share of the readouts; slow_fraction:
    share of the group in slow regions; mean_speed, median_speed: |F(x) - x| under u = 0; mean_step: the
    noisy step |x_t - x_(t-1)| actually taken into the readout state.
    """
    traj = run(params, cfg, noise, gen.noise_std)
    idx = gen.readout_steps(noise.n_steps)
    x = np.asarray(traj.x[idx + 1], dtype=np.float64)  # y[t] is read from the state after step t
    speed = np.linalg.norm(rnn_map(params, cfg, x, np.zeros(cfg.n_in)) - x, axis=2)
    step = np.linalg.norm(x - np.asarray(traj.x[idx], dtype=np.float64), axis=2)  # the step actually taken
    kick = noise_kick(params, cfg, gen.noise_std)
    slow = speed < slow_factor * kick
    symbol = np.argmax(traj.y[idx], axis=2)
    changed = np.zeros_like(slow)
    changed[1:] = symbol[1:] != symbol[:-1]
    later = np.zeros_like(slow)
    later[1:] = True
    groups = [(str(s), symbol == s) for s in range(hmm.n_symbols)]
    groups += [("dwell", later & ~changed), ("switch", later & changed), ("all", np.ones_like(slow))]
    rows = []
    for name, mask in groups:
        n = int(mask.sum())
        rows.append({"group": name, "n": n, "fraction": n / mask.size,
                     "slow_fraction": float(slow[mask].mean()) if n else np.nan,
                     "mean_speed": float(speed[mask].mean()) if n else np.nan,
                     "median_speed": float(np.median(speed[mask])) if n else np.nan,
                     "mean_step": float(step[mask].mean()) if n else np.nan,
                     "noise_kick": kick, "threshold": slow_factor * kick})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- ablation and amplification

def perturbation_table(params: Params, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec, noise: NoiseDraw,
                       mus, null_draws: list[NoiseDraw]) -> pd.DataFrame:
    """Emission statistics of the network with each unit scaled by each mu, on common noise, and the null.

    kind `baseline` (unit -1, mu 1), `perturbed` (one row per unit and mu), `redraw` (unit -1, one row per
    fresh draw of all the noise, compared with the baseline). Columns: STAT_KEYS (to the HMM's analytic
    statistics), switch_rate, CHANGE_KEYS (to the baseline emissions), and the signed differences from the
    baseline switch_rate_change and delta_<STAT_KEYS> (negative: closer to the HMM).
    """
    S = hmm.n_symbols
    reference = hmm.analytic_statistics(MAX_DWELL)
    base_symbols = emissions(params, cfg, gen, noise)
    base_stats = emission_statistics(base_symbols, S, MAX_DWELL)
    base = summary(base_symbols, S, reference, base_stats)
    rows = [{"kind": "baseline", "unit": -1, "mu": 1.0, "draw": -1, **base}]
    for i in range(cfg.n_rec):
        for mu in mus:
            s = summary(emissions(scale_unit(params, i, mu), cfg, gen, noise), S, reference, base_stats)
            rows.append({"kind": "perturbed", "unit": i, "mu": float(mu), "draw": -1, **s})
    for j, other in enumerate(null_draws):
        rows.append({"kind": "redraw", "unit": -1, "mu": 1.0, "draw": j,
                     **summary(emissions(params, cfg, gen, other), S, reference, base_stats)})
    table = pd.DataFrame(rows)
    for key in ("switch_rate", *STAT_KEYS):
        table[f"delta_{key}"] = table[key] - base[key]
    return table.rename(columns={"delta_switch_rate": "switch_rate_change"})


def kick_units(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Per unit: its largest transition_change over the mus, against the null (module doc); sorted by it.

    effect, mu (where it is largest), switch_rate_change and occupancy_change there, null_mean, null_sd,
    threshold (null_mean + z_(1 - alpha/N) null_sd), z, p_empirical ((1 + #null >= effect) / (1 + n_null)),
    kick (effect > threshold), rank (1: largest effect).
    """
    pert = table[table["kind"] == "perturbed"]
    null = table.loc[table["kind"] == "redraw", "transition_change"].to_numpy(dtype=float)
    if pert.empty or null.size < 2:
        raise ValueError("kick units need perturbed rows and at least 2 null draws (hmm_mechanism.n_null >= 2)")
    n_units = pert["unit"].nunique()
    mean, sd = float(null.mean()), float(null.std(ddof=1))
    threshold = mean + norm.ppf(1 - alpha / n_units) * sd
    best = pert.loc[pert.groupby("unit")["transition_change"].idxmax()]
    effect = best["transition_change"].to_numpy(dtype=float)
    out = pd.DataFrame({
        "unit": best["unit"].to_numpy(dtype=int), "effect": effect, "mu": best["mu"].to_numpy(dtype=float),
        "switch_rate_change": best["switch_rate_change"].to_numpy(dtype=float),
        "occupancy_change": best["occupancy_change"].to_numpy(dtype=float),
        "null_mean": mean, "null_sd": sd, "threshold": threshold,
        "z": (effect - mean) / sd if sd > 0 else np.where(effect > mean, np.inf, 0.0),
        "p_empirical": (1 + (null[None, :] >= effect[:, None]).sum(axis=1)) / (1 + null.size),
        "kick": effect > threshold})
    out = out.sort_values(["effect", "unit"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


# --------------------------------------------------------------------------- training snapshots

def training_phase(snapshots: dict, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec, settings) -> pd.DataFrame:
    """Per snapshot: zero-input fixed points, the leading eigenvalues at the reference point, and the TVs.

    snapshots: iteration (K,) and W_in, W, b, W_out, b_out stacked (K, ...), effective weights. Columns:
    snapshot, iteration, n_fixed, n_stable, lead_modulus, eig{j}_real, eig{j}_imag (j = 1..n_eig, by
    decreasing modulus; NaN without a fixed point), and evaluate_generator's distances.
    """
    missing = [k for k in ("iteration", "W_in", "W", "b", "W_out", "b_out") if k not in snapshots]
    if missing:
        raise ValueError(f"snapshots lack arrays {missing}")
    rows = []
    for k, it in enumerate(np.asarray(snapshots["iteration"]).tolist()):
        p = Params(*(np.asarray(snapshots[n][k]) for n in ("W_in", "W", "b", "W_out", "b_out"))).astype(cfg.np_dtype)
        rng = np.random.default_rng([settings.seed, 5, k])
        noise = draw_noise(cfg, gen, hmm.n_symbols, settings.snapshot_trials, settings.n_steps, rng)
        states = run(p, cfg, noise, gen.noise_std).x[gen.burn_in + 1:]
        table, x = zero_input_fixed_points(p, cfg, states, settings.n_initial, settings.max_enumerate, rng)
        fixed = table["kind"] == "fixed"
        row = {"snapshot": k, "iteration": int(it), "n_fixed": int(fixed.sum()),
               "n_stable": int((fixed & (table["stability"] == "stable")).sum())}
        eig = np.full(settings.n_eig, np.nan, dtype=complex)
        ref = reference_index(table)
        if ref is not None:
            vals = leading_eigenvalues(p, cfg, x[ref], settings.n_eig)
            eig[:len(vals)] = vals
        row["lead_modulus"] = float(np.abs(eig[0]))
        for j, v in enumerate(eig, 1):
            row.update({f"eig{j}_real": v.real, f"eig{j}_imag": v.imag})
        row.update(evaluate_generator(p, cfg, gen, hmm, settings.eval_trials, settings.eval_steps,
                                      seed=settings.seed, max_dwell=MAX_DWELL))
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- everything for one network

def mechanism_tables(params: Params, cfg: ModelConfig, gen: GenerativeConfig, hmm: HMMSpec, settings,
                     snapshots: dict | None = None) -> dict[str, pd.DataFrame]:
    """Every tool on one network: {fixed_points, orbit_radius, residency, ablation, kick_units,
    training_phase (only with snapshots)}. The common noise draw and the null draws come from settings.seed."""
    rng = np.random.default_rng([settings.seed, 1])
    S = hmm.n_symbols
    noise = draw_noise(cfg, gen, S, settings.n_trials, settings.n_steps, rng)
    states = run(params, cfg, noise, gen.noise_std).x[gen.burn_in + 1:]
    fp, x = zero_input_fixed_points(params, cfg, states, settings.n_initial, settings.max_enumerate, rng)
    ref = reference_index(fp)
    null = [draw_noise(cfg, gen, S, settings.n_trials, settings.n_steps, rng) for _ in range(settings.n_null)]
    ablation = perturbation_table(params, cfg, gen, hmm, noise, settings.mus, null)
    out = {
        "fixed_points": fp,
        "orbit_radius": orbit_radius(params, cfg, gen, noise, None if ref is None else x[ref],
                                     settings.noise_variances, settings.n_boot, settings.seed, settings.orbit_burn_in,
                                     settings.free_steps),
        "residency": residency(params, cfg, gen, hmm, noise, settings.slow_factor),
        "ablation": ablation,
        "kick_units": kick_units(ablation, settings.alpha),
    }
    if snapshots is not None:
        out["training_phase"] = training_phase(snapshots, cfg, gen, hmm, settings)
    return out

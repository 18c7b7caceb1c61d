"""Stage `hmm`: networks driven by noise trained to emit an HMM's symbol sequences, scored, and drawn.

Per HMM of the config section hmm_emulation and per seed, network gen-s{seed}
(train.generative): results/hmm/{hmm}/nets/gen-s{seed}/ gets model.npz (metadata
"hmm": name and matrices, "generative": every GenerativeConfig field),
train_log.csv (iteration, loss = task_loss = the window's mean divergence, penalty 0,
grad_norm, tau),
train_time.csv, snapshots.npz (the weights at iteration 0, every snapshot_every
iterations and the last: iteration (K,), W_in, W, b, W_out, b_out stacked
(K, ...)); with generative.select_every the model's weights are the snapshot
that fits held-out sequences best (metadata "selected_iteration"), else the
last. Then eval.csv (total-variation distances of the generated emission
statistics to the HMM's analytic ones with their 95% bootstrap intervals over
the generated sequences, and the floor_* of HMM samples of the same size;
beside occupancy, transitions and dwell times, which the tolerance is about,
pairs_tv: the symbol pairs eval_lags apart, the longer-range structure) and
statistics.npz (the three sets of statistics, for the figure). Over every
network of every HMM, results/hmm/fit.csv: per HMM, how many networks reach the
configured tolerance and that rate's 95% interval, and how many would also
reach it on the pairs (fit_summary).
Plain functions of plain values (no Snakemake here). The figure job does not
import the model package (numba): it only reads tables.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from ..io import load_model, read_npz, read_table, save_model, write_csv, write_npz
from ..tasks.hmm_presets import HMMSpec, validate_matrices

log = logging.getLogger("altrnn.stages.hmm")

NETWORK_KEYS = ("n_rec", "activation", "g", "alpha", "sigma_rec", "dtype")
EVAL_COLUMNS = ["condition", "occupancy_tv", "transition_tv", "dwell_tv", "pairs_tv", "occupancy_tv_lo",
                "occupancy_tv_hi", "transition_tv_lo", "transition_tv_hi", "dwell_tv_lo", "dwell_tv_hi", "pairs_tv_lo",
                "pairs_tv_hi", "floor_occupancy_tv", "floor_transition_tv", "floor_dwell_tv", "floor_pairs_tv",
                "diverged"]
EVAL_BOOTSTRAP = 1000  # resamples of the generated sequences behind each distance's 95% interval
FIT_COLUMNS = ["hmm", "tolerance", "networks", "reached", "reach_rate", "reach_rate_lo", "reach_rate_hi",
               "reached_with_interval", "largest_tv_median", "largest_tv_min", "largest_tv_max", "floor_largest_tv",
               "missed", "pairs_reached", "pairs_tv_median", "pairs_tv_max", "floor_pairs_tv"]
STATISTICS = ("occupancy", "transition", "dwell")  # the tolerance's statistics
SOURCES = ("network", "hmm_sample", "analytic")


def hmm_spec(hmm: dict) -> HMMSpec:
    """The HMMSpec of a metadata/params entry {"name", "transition", "emission"}."""
    P, E = validate_matrices(hmm["transition"], hmm["emission"], hmm["name"])
    return HMMSpec(hmm["name"], P, E)


def model_config(network: dict, gen, hmm: HMMSpec):
    """The ModelConfig: gen.n_noise inputs, one output per symbol, and the section's network keys."""
    from ..model import ModelConfig

    return ModelConfig(n_in=gen.n_noise, n_out=hmm.n_symbols, n_rec=network["n_rec"],
                       activation=network["activation"], alpha=network["alpha"], sigma_rec=network["sigma_rec"],
                       dtype=network["dtype"])


def train_job(hmm: dict, network: dict, generative: dict, snapshot_every: int, seed: int, net_id: str,
              model_path, log_path, time_path, snapshots_path):
    """Train gen-s{seed} on one HMM; write model.npz, train_log.csv, train_time.csv and snapshots.npz.

    snapshot_every 0 keeps the first and last weights only. A checkpoint beside
    model.npz lets an interrupted job resume where it stopped.
    """
    from ..train.generative import GenerativeConfig, train_generative

    spec, gen = hmm_spec(hmm), GenerativeConfig.from_dict(generative)
    cfg = model_config(network, gen, spec)
    every = int(snapshot_every) or gen.max_iters
    log.info("training %s on HMM %s: N=%d, %s, g=%g, %d noise input(s), %d iterations", net_id, spec.name,
             cfg.n_rec, cfg.activation, network["g"], gen.n_noise, gen.max_iters)
    checkpoint = os.path.join(os.path.dirname(str(model_path)), "checkpoint.npz")
    result = train_generative(spec, cfg, gen, float(network["g"]), int(seed), snapshot_every=every,
                              checkpoint=checkpoint)
    # the project's train_log.csv columns (task_loss = loss: no penalty), and the temperature
    table = result.log.drop(columns="seconds").assign(task_loss=result.log["loss"], penalty=0.0)
    write_csv(table[["iteration", "loss", "task_loss", "penalty", "grad_norm", "tau"]], log_path)
    seconds = float(result.log["seconds"].iloc[-1]) if len(result.log) else 0.0
    write_csv(pd.DataFrame([{"iterations": gen.max_iters, "seconds": seconds}]), time_path)
    write_npz(snapshots_path, **result.snapshots)
    metadata = {"task": "hmm_emulation", "hmm": dict(hmm), "generative": dict(generative), "g": network["g"],
                "seed": int(seed), "net_id": net_id, "iterations": gen.max_iters, "snapshot_every": every,
                "selected_iteration": result.selected}
    save_model(model_path, result.params, cfg, metadata, init=result.init)


def evaluate_job(evaluation: dict, model_path, eval_path, statistics_path):
    """eval.csv (one row, condition `noise`: the input noise trained on) and statistics.npz of one network.

    evaluation: n_trials, n_steps, seed, max_dwell, lags. statistics.npz holds
    {source}_{statistic} for source in network, hmm_sample, analytic and
    statistic in occupancy, transition, dwell, pairs (L, n, n), and lags.
    """
    from ..train.generative import DIVERGED_NORM, GenerativeConfig, distances, generator_statistics

    saved = load_model(model_path)
    try:
        spec, gen = hmm_spec(saved.metadata["hmm"]), GenerativeConfig.from_dict(saved.metadata["generative"])
    except KeyError as exc:
        raise ValueError(f"{model_path}: not a model of the hmm stage (no {exc} in its metadata)") from None
    lags = [int(lag) for lag in evaluation["lags"]]
    stats = generator_statistics(saved.params, saved.config, gen, spec, int(evaluation["n_trials"]),
                                 int(evaluation["n_steps"]), int(evaluation["seed"]), int(evaluation["max_dwell"]),
                                 lags)
    row = {"condition": "noise", **distances(*stats, n_boot=EVAL_BOOTSTRAP, seed=int(evaluation["seed"]))}
    log.info("%s: TV occupancy %.3f [%.3f, %.3f], transitions %.3f [%.3f, %.3f], dwell %.3f [%.3f, %.3f], "
             "symbol pairs at lags %s %.3f [%.3f, %.3f] (HMM samples: %.3f, %.3f, %.3f, %.3f)", model_path,
             *(row[f"{k}_tv{end}"] for k in STATISTICS for end in ("", "_lo", "_hi")), lags,
             *(row[f"pairs_tv{end}"] for end in ("", "_lo", "_hi")),
             *(row[f"floor_{k}_tv"] for k in (*STATISTICS, "pairs")))
    if row["diverged"] > 0:
        log.warning("%s: the state ran away (|x| >= %g or non-finite) in %.1f%% of the %d generated sequences of "
                    "%d symbols; their symbols are in the statistics (eval.csv column `diverged`)", model_path,
                    DIVERGED_NORM, 100 * row["diverged"], int(evaluation["n_trials"]), int(evaluation["n_steps"]))
    write_csv(pd.DataFrame([row], columns=EVAL_COLUMNS), eval_path)
    write_npz(statistics_path, lags=np.asarray(lags), **{f"{src}_{k}": np.asarray(s[k], dtype=float)
                                                         for src, s in zip(SOURCES, stats)
                                                         for k in (*STATISTICS, "pairs")})


def read_eval(path) -> pd.DataFrame:
    """An hmm-stage eval.csv, checked for its columns."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable eval table: {exc}") from None
    missing = [c for c in EVAL_COLUMNS if c not in table.columns]
    if missing or table.empty:
        raise ValueError(f"{path}: not an hmm-stage eval.csv (missing columns {missing} or no rows)")
    return table


def fit_summary(evals: dict, tolerances: dict) -> pd.DataFrame:
    """Per HMM, whether its networks reach the tolerance on their largest TV (occupancy, transitions, dwell).

    evals: {hmm: {net_id: eval.csv table}}; tolerances: {hmm: tolerance}, one row
    per HMM in its order. A network reaches the tolerance when its largest TV is
    <= it; `reach_rate_lo`, `_hi` is the exact (Clopper-Pearson) 95% interval of
    the rate over seeds, so two seeds that both reach it still allow a rate as
    low as 0.16. `reached_with_interval` counts the networks whose three
    bootstrap upper bounds are all <= the tolerance (the fit holds beyond the
    evaluation's sampling noise). `missed` names the networks that miss it.
    The pairs are reported beside, not in the criterion: `pairs_reached`
    counts the networks that reach the tolerance and have pairs_tv <= it too.
    """
    from scipy.stats import binomtest

    rows = []
    for hmm, tol in tolerances.items():  # the config's order
        nets, tol = evals[hmm], float(tol)
        ids = sorted(nets)
        largest = np.array([max(nets[n][f"{k}_tv"].iloc[0] for k in STATISTICS) for n in ids])
        upper = np.array([max(nets[n][f"{k}_tv_hi"].iloc[0] for k in STATISTICS) for n in ids])
        floor = max(nets[n][f"floor_{k}_tv"].iloc[0] for n in ids for k in STATISTICS)
        pairs = np.array([nets[n]["pairs_tv"].iloc[0] for n in ids])
        reached = largest <= tol
        interval = binomtest(int(reached.sum()), len(ids)).proportion_ci(0.95, method="exact")
        rows.append({"hmm": hmm, "tolerance": tol, "networks": len(ids), "reached": int(reached.sum()),
                     "reach_rate": reached.mean(), "reach_rate_lo": interval.low, "reach_rate_hi": interval.high,
                     "reached_with_interval": int((upper <= tol).sum()), "largest_tv_median": np.median(largest),
                     "largest_tv_min": largest.min(), "largest_tv_max": largest.max(), "floor_largest_tv": floor,
                     "missed": " ".join(n for n, ok in zip(ids, reached) if not ok),
                     "pairs_reached": int((reached & (pairs <= tol)).sum()), "pairs_tv_median": np.median(pairs),
                     "pairs_tv_max": pairs.max(),
                     "floor_pairs_tv": max(nets[n]["floor_pairs_tv"].iloc[0] for n in ids)})
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def fit_job(tolerances: dict, eval_paths, fit_path):
    """results/hmm/fit.csv from every network's eval.csv (results/hmm/{hmm}/nets/{net_id}/eval.csv)."""
    from ..netids import net_of, unit_of

    evals: dict = {}
    for path in eval_paths:
        hmm = unit_of(path).removeprefix("hmm/")  # results/hmm/{hmm}/nets/...: unit label hmm/{hmm}
        evals.setdefault(hmm, {})[net_of(path)] = read_eval(path)
    if set(evals) != set(tolerances):
        raise ValueError(f"eval.csv files {sorted(evals)} do not match the configured HMMs {list(tolerances)}")
    table = fit_summary(evals, tolerances)
    for row in table.itertuples():
        log.info("%s: %d of %d networks reach largest TV <= %g (rate %.2f, 95%% interval [%.2f, %.2f]); "
                 "largest TV %.3f to %.3f, median %.3f%s; %d also on the symbol pairs (their TV: median %.3f, "
                 "largest %.3f, HMM samples %.3f)", row.hmm, row.reached, row.networks, row.tolerance,
                 row.reach_rate, row.reach_rate_lo, row.reach_rate_hi, row.largest_tv_min, row.largest_tv_max,
                 row.largest_tv_median, f"; missed: {row.missed}" if row.missed else "", row.pairs_reached,
                 row.pairs_tv_median, row.pairs_tv_max, row.floor_pairs_tv)
    write_csv(table, fit_path)


def figure_job(name: str, tolerance: float, log_paths, eval_paths, statistics_paths, pdf_path, png_path):
    """The HMM's figure: training curves, and each network's statistics against the HMM's and the tolerance
    (plots.hmm)."""
    from ..plots import hmm as plot
    from ..plots.common import save_figure
    from ..netids import net_of

    logs = {net_of(p): read_table(p) for p in log_paths}
    evals = {net_of(p): read_eval(p) for p in eval_paths}
    stats = {net_of(p): read_npz(p) for p in statistics_paths}
    if not (set(logs) == set(evals) == set(stats)):
        raise ValueError(f"train_log.csv, eval.csv and statistics.npz do not pair up: {sorted(logs)}, "
                         f"{sorted(evals)}, {sorted(stats)}")
    save_figure(plot.hmm_panels(name, logs, evals, stats, tolerance), pdf_path, png_path)

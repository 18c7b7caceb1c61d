"""Stage `surrogate`: an AL-RNN fitted to a network's own trajectories, read exactly, and the unit's figure.

Per network (settings: config.SurrogateConfig):

1. Data: the network runs noise-free on n_trials of its task's trials (seed); the last
   test_fraction of them are held out. Its states are projected on their top principal axes
   (analysis.surrogate.Projection, fitted on the training trials).
2. Fit: an AL-RNN z' = W phi(z) + W_in u + b with n_latent units, units 0..n_relu-1 ReLU, reading
   the projections directly from its first D linear units (dsr.training.observed_units), is fitted
   to them by teacher forcing (dsr.training), with the task's inputs as its inputs; its free units
   start every trial at zero.
3. Exact analysis: under each input the dynamics stage analysed (fixed_points.npz), the surrogate's
   fixed points and cycles up to max_period (analysis.plrnn.find_cycles, the dynamics stage's exact
   search, seeded with the surrogate's own states on the trials and in the long run), mapped back
   into the network's state space.
4. Matching: with the network's own points (fixed_points.csv: optimised fixed and slow points and
   periodic cycles; the exact ones for a piecewise-linear network), analysis.surrogate.match; the
   skeletons compared: where the unstable branches of the network's saddles lead (manifolds.csv)
   and those of the surrogate's (analysis.skeleton on the surrogate).

Outputs: surrogate.npz (the AL-RNN's weights and config, the projection, its orbits in state space
and in the dynamics stage's PCA plane, free-running trajectories in that plane), surrogate.csv
(analysis.surrogate.MATCH_COLUMNS) and surrogate_fit.csv (split, condition, measure, value: one-step
and free-running r2 and D_stsp on the training and the held-out trials; split `long_run`: per input,
steps per turn and radius of the network's and the surrogate's long-run orbits, which tell an
attracting rotation without an exact k-cycle, analysis.surrogate.rotation).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import numpy as np
import pandas as pd

from ..analysis import dsr_metrics, fixed_points, plrnn, skeleton
from ..analysis.stability import rnn_map
from ..analysis import surrogate as sur
from ..config import SurrogateConfig, parse_section
from ..dsr import training
from ..io import load_model, read_npz, read_table, write_csv, write_npz
from ..model import ModelConfig, Params, forward
from ..netids import net_of
from ..tasks import make_task

log = logging.getLogger("altrnn.stages.surrogate")

FIT_COLUMNS = ["split", "condition", "measure", "value"]
POINT_COLUMNS = ["index", "kind", "period", "stability", "n_unstable", "spiral", "max_modulus", "eig_real",
                 "eig_imag"]


def settings_with_defaults(settings) -> SurrogateConfig:
    return settings if isinstance(settings, SurrogateConfig) else parse_section(SurrogateConfig, settings, "surrogate")


def network_trials(saved, task, n_trials: int, seed: int):
    """Inputs (T, B, n_in) and noise-free states (T+1, B, N), float64, of the network on n_trials task trials."""
    batch = task.batch(n_trials, np.random.default_rng(seed))
    return batch.inputs.astype(np.float64), forward(saved.params, saved.config, batch.inputs).x.astype(np.float64)


def reference_points(points: pd.DataFrame, arrays: dict, manifolds: pd.DataFrame, piecewise_linear: bool):
    """The network's own points and cycles: (rows of fixed_points.csv with POINT_COLUMNS, condition and
    reaches (the rows its unstable branches reach, from manifolds.csv), their orbits (k, N))."""
    methods = ("exact",) if piecewise_linear else ("optimised", "periodic")
    rows = np.flatnonzero(points["method"].isin(methods).to_numpy())
    orbits = [arrays["x"][r][None] if int(points["period"].iloc[r]) == 1 else arrays["orbit"][arrays["orbit_row"] == r]
              for r in rows]
    branches = manifolds[(manifolds["kind"] == "unstable") & (manifolds["branch"] >= 0) & (manifolds["reaches"] >= 0)]
    reached = branches.groupby("point")["reaches"].agg(lambda r: ";".join(str(int(v)) for v in sorted(set(r))))
    frame = points.iloc[rows].assign(index=rows, reaches=[reached.get(r, "") for r in rows])
    return frame[["condition", *POINT_COLUMNS, "reaches"]].reset_index(drop=True), orbits


def exact_orbits(params: Params, cfg: ModelConfig, u, visited, max_period: int, rng):
    """The surrogate's exact fixed points and cycles under input u, and where the unstable branches of
    its saddle points lead: (table with `reaches`, orbits (k, M)) (analysis.plrnn, analysis.skeleton)."""
    res = plrnn.find_cycles(params, cfg, u, visited_states=visited, max_period=max_period, rng=rng)
    table, orbits = res.table(), [np.asarray(o) for o in res.orbits]
    point = np.flatnonzero(table["period"].to_numpy() == 1)
    cycle = np.flatnonzero((table["period"].to_numpy() > 1) & (table["stability"] == "stable").to_numpy())
    fps = fixed_points.describe(params, cfg, u, np.array([orbits[i][0] for i in point]).reshape(-1, cfg.n_rec),
                                table["q"].to_numpy()[point], np.full(len(point), "fixed"))
    sk = skeleton.unstable_manifolds(params, cfg, u, fps, cycles=[orbits[i] for i in cycle])
    reaches = {}
    for k, r in zip(sk.saddle, sk.reaches):
        if r >= 0:
            target = point[r] if r < len(point) else cycle[r - len(point)]  # a stable point, else a stable cycle
            reaches.setdefault(int(point[k]), set()).add(int(target))
    table["reaches"] = [sorted(reaches.get(i, ())) for i in range(len(table))]
    return table, orbits


def _pc(x, mean, axes):
    return (np.asarray(x) - mean) @ axes[:2].T


def fit(latent, inputs, s: SurrogateConfig):
    """The AL-RNN fitted to latent trajectories (T+1, B, D) driven by inputs (T, B, n_in) by teacher forcing
    (dsr.training.fit_trajectories): (params, model config, iterations, final loss)."""
    cfg = ModelConfig(n_in=inputs.shape[2], n_rec=s.n_latent, n_out=latent.shape[2], activation="alrnn",
                      n_relu=s.n_relu, alpha=1.0, sigma_rec=0.0, dtype="float64")
    tf = training.TeacherForcingConfig.from_dict(
        {"sequence_length": min(s.sequence_length, latent.shape[0] - 1), "forcing_interval": s.forcing_interval,
         "batch_size": s.batch_size, "lr": s.lr, "max_iters": s.max_iters, "log_every": max(1, s.max_iters // 10),
         "checkpoint_every": s.max_iters}, "surrogate")
    res = training.fit_trajectories(latent, cfg, tf, s.seed, inputs=inputs)
    return res.params, cfg, res.iterations, res.final_loss


def observed(cfg: ModelConfig) -> slice:
    """The surrogate's units that hold the projections (dsr.training.observed_units)."""
    return training.observed_units(cfg)


def free_run(params: Params, cfg: ModelConfig, inputs, z0):
    """Free-running latent trajectories (T+1, B, M) from observations z0 (B, D), the other units at zero
    as in training (dsr.training.free_run): each trial starts where the network's trials do."""
    return training.free_run(params, cfg, z0, inputs.shape[0] + 1, inputs).astype(np.float64)


def fit_quality(params, cfg, inputs, latent) -> dict:
    """One-step r2 (observed units reset to the data at every step, the others running on), free-running r2
    and D_stsp (gmm) of the observations over trials latent (T+1, B, D) driven by inputs (T, B, n_in)."""
    obs, D = observed(cfg), latent.shape[2]
    free = free_run(params, cfg, inputs, latent[0])[:, :, obs]
    one = np.empty_like(latent[1:])
    state = np.zeros((latent.shape[1], cfg.n_rec))
    for t in range(latent.shape[0] - 1):
        state[:, obs] = latent[t]
        state = forward(params, cfg, inputs[t:t + 1], x0=state).x[1].astype(np.float64)
        one[t] = state[:, obs]
    return {"one_step_r2": sur.r2(latent[1:], one), "free_r2": sur.r2(latent[1:], free[1:]),
            "d_stsp": dsr_metrics.state_space_divergence(latent[1:].reshape(-1, D), free[1:].reshape(-1, D),
                                                         method="gmm")}


def long_run(params, cfg, u, start, n_steps: int) -> np.ndarray:
    """States (n_steps, B, N) of a network's noise-free map under the constant input u, after as many steps
    of transient, from states start (B, N)."""
    x = np.asarray(start, dtype=np.float64)
    out = np.empty((n_steps,) + x.shape)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging surrogate is reported, not a failure
        for t in range(2 * n_steps):
            x = rnn_map(params, cfg, x, u)
            if t >= n_steps:
                out[t - n_steps] = x
    return out


def rotation_rows(saved, params, cfg, proj, u, states, visited, condition: str, n_steps: int) -> list[dict]:
    """Steps per turn and radius (analysis.surrogate.rotation) of the long-run orbits of the network and of
    the surrogate under u, in the plane of the first two principal axes (latent units), from the last
    states of the trials; and the surrogate's long-run states (n_steps, B, M)."""
    rows = []
    mine = long_run(params, cfg, u, visited[-1], n_steps)
    for side, orbit in (("network", proj.to_latent(long_run(saved.params, saved.config, u, states[-1], n_steps))),
                        ("surrogate", mine[..., observed(cfg)])):
        if not np.all(np.isfinite(orbit)):
            rows.append({"split": "long_run", "condition": condition, "measure": f"{side}_diverges", "value": 1.0})
            continue
        per_turn, radius = sur.rotation(orbit[..., :2]) if orbit.shape[-1] >= 2 else (np.nan, np.nan)
        rows += [{"split": "long_run", "condition": condition, "measure": f"{side}_steps_per_turn", "value": per_turn},
                 {"split": "long_run", "condition": condition, "measure": f"{side}_radius", "value": radius}]
    return rows, mine


def analyse(saved, task, points: pd.DataFrame, point_arrays: dict, manifolds: pd.DataFrame, settings):
    """Fit, exact analysis and matching of one network: (match table, fit table, arrays for surrogate.npz)."""
    s = settings_with_defaults(settings)
    inputs, states = network_trials(saved, task, s.n_trials, s.seed)
    n_test = max(1, int(round(s.test_fraction * s.n_trials)))
    if n_test >= s.n_trials:
        raise ValueError(f"surrogate.test_fraction {s.test_fraction} leaves no training trial of {s.n_trials}")
    train, test = slice(0, s.n_trials - n_test), slice(s.n_trials - n_test, s.n_trials)
    proj = sur.fit_projection(states[:, train], s.n_components, s.variance)
    D = proj.n_components
    if D > s.n_latent - s.n_relu:
        raise ValueError(f"surrogate.n_latent - surrogate.n_relu = {s.n_latent - s.n_relu} linear units cannot hold "
                         f"the {D} principal axes that explain {s.variance:.0%} of the variance; raise n_latent or "
                         "set n_components")
    log.info("%d principal axes explain %.1f%% of the variance", D, 100 * proj.explained.sum())
    latent = proj.to_latent(states)
    params, cfg, iterations, loss = fit(latent[:, train], inputs[:, train], s)
    obs = observed(cfg)
    rows = []
    for split, sl in (("train", train), ("test", test)):
        q = fit_quality(params, cfg, inputs[:, sl], latent[:, sl])
        rows += [{"split": split, "condition": "", "measure": k, "value": v} for k, v in q.items()]
    rows += [{"split": "all", "condition": "", "measure": k, "value": float(v)} for k, v in
             (("n_components", D), ("explained_variance", proj.explained.sum()), ("n_latent", cfg.n_rec),
              ("n_relu", cfg.n_relu), ("iterations", iterations), ("final_loss", loss))]
    log.info("fit: %s", ", ".join(f"{r['split']} {r['measure']} {r['value']:.3g}" for r in rows[:6]))

    # the surrogate's own visited states seed its exact search
    visited = free_run(params, cfg, inputs, latent[0])
    pca_mean, pca_axes = point_arrays["pca_mean"], point_arrays["pca_axes"]
    unit = sur.spread(states)
    net_frame, net_orbits = reference_points(points, point_arrays, manifolds, saved.config.piecewise_linear)
    tables, orbit_pc, orbit_row, orbit_latent, turns = [], [], [], [], []
    long_pc = np.empty((0, 0, 2))
    n_points = 0
    names = [str(n) for n in point_arrays["condition_names"]]
    for c, name in enumerate(names):
        u = point_arrays["condition_inputs"][c]
        turn, ends = rotation_rows(saved, params, cfg, proj, u, states[:, :8], visited[:, :8], name, 1000)
        # the exact search starts from the regions the surrogate visits on the trials and in the long run
        seeds = visited if not np.all(np.isfinite(ends)) else np.concatenate([visited, ends[-len(visited):]], axis=1)
        table, orbits = exact_orbits(params, cfg, u, seeds, s.max_period, np.random.default_rng([s.seed, c]))
        mapped = [proj.to_states(o[:, obs]) for o in orbits]
        frame = table.assign(index=np.arange(n_points, n_points + len(table)), condition=name,
                             reaches=[";".join(str(n_points + r) for r in rs) for rs in table["reaches"]])
        frame[["pc1", "pc2"]] = (np.array([_pc(m[0], pca_mean, pca_axes) for m in mapped]).reshape(-1, 2))
        mine = (net_frame["condition"] == name).to_numpy()
        theirs = net_frame[mine].reset_index(drop=True)
        theirs_orbits = [o for o, m in zip(net_orbits, mine) if m]
        theirs[["pc1", "pc2"]] = np.array([_pc(o[0], pca_mean, pca_axes) for o in theirs_orbits]).reshape(-1, 2)
        # the surrogate knows only the projection: compare within the fitted subspace, say how far outside it
        shadows = [proj.to_states(proj.to_latent(o)) for o in theirs_orbits]
        theirs["outside"] = [sur.orbit_distance(o, sh) / unit for o, sh in zip(theirs_orbits, shadows)]
        frame["outside"] = 0.0
        tables.append(sur.match(name, frame, mapped, theirs, shadows, unit, s.tolerance))
        for i, (o, m) in enumerate(zip(orbits, mapped)):
            orbit_latent.append(o)
            orbit_pc.append(_pc(m, pca_mean, pca_axes))
            orbit_row.append(np.full(len(o), n_points + i))
        n_points += len(table)
        if c == 0:  # the figure draws the first input's last 100 steps
            with np.errstate(invalid="ignore", over="ignore"):
                long_pc = _pc(proj.to_states(ends[-100:, :, obs]), pca_mean, pca_axes)
        per = {r["measure"]: r["value"] for r in turn}
        turns.append([per.get(f"{side}_steps_per_turn", np.nan) for side in ("network", "surrogate")])
        log.info("%s: long run %s", name, ", ".join(f"{r['measure']} {r['value']:.3g}" for r in turn))
        rows += turn
        summ = sur.summary(tables[-1])
        log.info("%s: %d exact points/cycles; matches: %s", name, len(table),
                 "; ".join(f"{r.side} {r.kind} {r.n_matched}/{r.n}" for r in summ.itertuples()))
    table = pd.concat(tables, ignore_index=True)
    fit_table = pd.DataFrame(rows, columns=FIT_COLUMNS)
    arrays = {
        **params.as_dict(), "metadata": np.array(json.dumps({"model": asdict(cfg), "observed": [obs.start, obs.stop]})),
        **proj.arrays(),
        "orbit": np.concatenate(orbit_latent) if orbit_latent else np.empty((0, cfg.n_rec)),
        "orbit_pc": np.concatenate(orbit_pc) if orbit_pc else np.empty((0, 2)),
        "orbit_row": np.concatenate(orbit_row) if orbit_row else np.empty(0, dtype=np.int64),
        "generated_pc": _pc(proj.to_states(visited[:, : point_arrays["trajectories_pc"].shape[1], obs]), pca_mean,
                            pca_axes),
        "spread": np.array(unit),
        "long_run_pc": long_pc,
        "steps_per_turn": np.array(turns).reshape(-1, 2),
        "condition_names": np.array(names, dtype=str),
    }  # steps_per_turn: (C, 2) network, surrogate; long_run_pc: the surrogate's last long-run steps, first input
    return table, fit_table, arrays


def surrogate_job(kind: str, params: dict, settings: dict, model_path, points_path, point_arrays_path,
                  manifolds_path, npz_path, table_path, fit_path):
    """The workflow's per-network job: surrogate.npz, surrogate.csv and surrogate_fit.csv."""
    table, fit_table, arrays = analyse(load_model(model_path), make_task(kind, params), read_table(points_path),
                                       read_npz(point_arrays_path), read_table(manifolds_path), settings)
    write_npz(npz_path, **arrays)
    write_csv(table, table_path)
    write_csv(fit_table, fit_path)


def read_matches(path) -> pd.DataFrame:
    """surrogate.csv, checked for its columns (a damaged file is a ResultFileError naming it)."""
    return read_table(path, sur.MATCH_COLUMNS, allow_empty=True)


def figure_job(table_paths, npz_paths, point_array_paths, label: str, pdf_path, png_path):
    """The workflow's per-unit figure: every network's points and the surrogate's (plots.surrogate)."""
    from ..plots import surrogate as plot
    from ..plots.common import save_figure

    nets = [net_of(f) for f in table_paths]
    if nets != [net_of(f) for f in npz_paths] or nets != [net_of(f) for f in point_array_paths]:
        raise ValueError("surrogate.csv, surrogate.npz and fixed_points.npz do not pair up by network")
    data = {n: (read_matches(t), read_npz(z), read_npz(p))
            for n, t, z, p in zip(nets, table_paths, npz_paths, point_array_paths)}
    save_figure(plot.surrogate_panels(data, label), pdf_path, png_path)

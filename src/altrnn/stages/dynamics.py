"""Stage `dynamics`: fixed points, cycles, manifolds and basins of one network, as the workflow runs it.

Ties the analysis modules to a trained network and its task: the visited
states that seed the searches, the constant inputs to analyse under, the PCA
plane the figures use, and one table plus one set of arrays per network.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

import numpy as np
import pandas as pd

from ..analysis import (fixed_points, intersections, lyapunov, manifolds_nd, manifolds_pl, periodic_orbits, plrnn,
                        skeleton)
from ..config import DynamicsConfig, parse_section
from ..io import SavedModel, load_model, write_csv, write_npz
from ..model import forward
from ..tasks import make_task

log = logging.getLogger("altrnn.stages.dynamics")

MANIFOLD_COLUMNS = ["condition", "kind", "point", "branch", "direction", "sign", "reaches", "steps", "stopped",
                    "dimension", "pieces", "regions", "folds", "lost", "invariance_error", "coverage"]
BASIN_COLUMNS = ["condition", "attractor", "volume", "low", "high", "n_samples"]
LYAPUNOV_COLUMNS = ["condition", *lyapunov.TABLE_COLUMNS]
INTERSECTION_COLUMNS = ["condition", "kind", "unstable_point", "stable_point", "dimension", "distance_to_orbit",
                        "approach", "pc1", "pc2", "pc3"]
POINT_COLUMNS = ["condition", "method", *fixed_points.TABLE_COLUMNS, "pc1", "pc2", "pc3"]


def settings_with_defaults(settings) -> dict:
    """The dynamics section (config.DynamicsConfig) as a dict: defaults updated with `settings`.

    An unknown key or bad value is a ConfigError naming it.
    """
    if not isinstance(settings, DynamicsConfig):
        settings = parse_section(DynamicsConfig, settings, "dynamics")
    return asdict(settings)  # field names: the keys the analysis reads


def analysis_inputs(task, n_in: int, overrides=None) -> dict[str, np.ndarray]:
    """The constant inputs to analyse under: `overrides`, else the task's own (Task.analysis_inputs)."""
    if overrides:
        inputs = {str(k): np.asarray(v, dtype=np.float64) for k, v in overrides.items()}
    else:
        inputs = task.analysis_inputs()
    for name, u in inputs.items():
        if u.shape != (n_in,):
            raise ValueError(f"dynamics input {name!r} has {u.size} values; the network has {n_in} inputs")
    return inputs


def visited_states(saved: SavedModel, task, n_trials: int, seed: int) -> np.ndarray:
    """Noise-free states x (T+1, B, N) of the network on a batch of the task's trials, in float64."""
    batch = task.batch(n_trials, np.random.default_rng(seed))
    return forward(saved.params, saved.config, batch.inputs).x.astype(np.float64)


def pca(states, n_components: int = 3):
    """Mean (N,) and leading principal axes (n_components, N) of states (..., N)."""
    X = np.asarray(states, dtype=np.float64).reshape(-1, np.shape(states)[-1])
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    axes = np.zeros((n_components, X.shape[1]))
    k = min(n_components, vt.shape[0])
    axes[:k] = vt[:k]
    # Fix each axis's sign so that the same network always gives the same picture.
    signs = np.sign(axes[np.arange(n_components), np.argmax(np.abs(axes), axis=1)])
    return mean, axes * np.where(signs == 0, 1.0, signs)[:, None]


def fixed_point_analysis(saved: SavedModel, task, settings: dict | None = None):
    """Fixed and slow points (optimised, any network), exact fixed points and cycles (ReLU networks)
    and periodic orbits reached from visited states (tanh networks, method `periodic`).

    Returns (table, arrays): the table has one row per point (POINT_COLUMNS),
    `row` i of the table is row i of the arrays x (K, N), eigvals (K, N) (for
    cycles their Floquet multipliers), eigvecs (K, N, 3) (NaN for cycles),
    period (K,), period_steps (K,) (the period in steps, non-integer for a
    tanh near cycle; 1 for points). orbit (P, N) with orbit_row (P,) holds
    every point of every cycle. The arrays also hold
    the PCA plane of the visited states (pca_mean, pca_axes) and some
    trajectories in it (trajectories_pc, (T+1, n_plot_trials, 3)), and the
    inputs analysed (condition_names, condition_inputs).
    """
    s = settings_with_defaults(settings)
    params, cfg = saved.params, saved.config
    states = visited_states(saved, task, s["n_trials"], s["seed"])
    mean, axes = pca(states)
    inputs = analysis_inputs(task, cfg.n_in, s["inputs"])
    N = cfg.n_rec
    parts, orbits, orbit_rows, period_steps, n_rows = [], [], [], [], 0
    for c, (name, u) in enumerate(inputs.items()):
        rng = np.random.default_rng([s["seed"], c])
        init = fixed_points.sample_initial_states(states, s["n_initial"], s["noise"], rng)
        fps = fixed_points.find_fixed_points(
            params, cfg, u, init, q_tol=s["q_tol"], slow_tol=s["slow_tol"], unique_tol=s["unique_tol"],
            outlier_factor=s["outlier_factor"], slow_exclusion=s["slow_exclusion"], max_iters=s["max_iters"],
            visited=states.reshape(-1, N))
        a = fps.arrays()
        parts.append((fps.table().assign(condition=name, method="optimised"), a["x"], a["eigvals"], a["eigvecs"]))
        period_steps.append(np.ones(len(fps)))
        n_rows += len(fps)
        counts = pd.Series(fps.stability).value_counts()
        log.info("%s: %d fixed and slow points (%s)", name, len(fps), ", ".join(f"{n} {k}" for k, n in counts.items()))
        if cfg.piecewise_linear:  # relu or alrnn: the exact search
            exact = plrnn.find_cycles(params, cfg, u, visited_states=states, max_period=s["max_period"],
                                      rng=np.random.default_rng([s["seed"], c, 1]))
            e = exact.arrays()
            nd = a["eigvecs"].shape[2]
            parts.append((exact.table().assign(condition=name, method="exact"), e["x"], e["eigvals"],
                          np.full((len(exact), N, nd), np.nan, dtype=complex)))
            period_steps.append(e["period"].astype(np.float64))
            orbits.append(e["orbit"])
            orbit_rows.append(e["orbit_point"] + n_rows)
            n_rows += len(exact)
            log.info("%s: exact search found periods %s", name, np.bincount(e["period"]).tolist())
        elif s["cycle_seeds"]:
            seeds = fixed_points.sample_initial_states(states, s["cycle_seeds"], 0.0,
                                                       np.random.default_rng([s["seed"], c, 2]))
            cyc = periodic_orbits.find_cycles(
                params, cfg, u, seeds, max_steps=s["cycle_max_steps"], n_transient=s["cycle_transient"],
                return_tol=s["cycle_return_tol"], q_tol=s["q_tol"], unique_tol=s["unique_tol"],
                phase_tol=s["phase_tol"])
            e = cyc.arrays()
            nd = a["eigvecs"].shape[2]
            parts.append((cyc.table().assign(condition=name, method="periodic"), e["x"], e["eigvals"],
                          np.full((len(cyc), N, nd), np.nan, dtype=complex)))
            period_steps.append(e["period_steps"])
            orbits.append(e["orbit"])
            orbit_rows.append(e["orbit_point"] + n_rows)
            n_rows += len(cyc)
            log.info("%s: %d cycles, periods (steps) %s", name, len(cyc), np.round(e["period_steps"], 2).tolist())
    table = pd.concat([p[0] for p in parts], ignore_index=True)
    x = np.concatenate([p[1] for p in parts]).reshape(-1, N)
    pcs = (x - mean) @ axes.T
    table[["pc1", "pc2", "pc3"]] = pcs
    table = table[POINT_COLUMNS]
    plot = states[:, : s["n_plot_trials"]]
    arrays = {
        "x": x,
        "eigvals": np.concatenate([p[2] for p in parts]).reshape(-1, N),
        "eigvecs": np.concatenate([p[3] for p in parts]),
        "period": table["period"].to_numpy(),
        "period_steps": np.concatenate(period_steps),
        "orbit": np.concatenate(orbits).reshape(-1, N) if orbits else np.empty((0, N)),
        "orbit_row": np.concatenate(orbit_rows) if orbit_rows else np.empty(0, dtype=np.int64),
        "pca_mean": mean,
        "pca_axes": axes,
        "trajectories_pc": (plot - mean) @ axes.T,
        "condition_names": np.array(list(inputs), dtype=str),
        "condition_inputs": np.array(list(inputs.values())),
    }
    return table, arrays


def _condition_rows(table, name, method):
    return np.flatnonzero((table["condition"] == name).to_numpy() & (table["method"] == method).to_numpy())


def manifold_analysis(saved: SavedModel, task, points: pd.DataFrame, point_arrays: dict,
                      settings: dict | None = None):
    """Invariant manifolds of the saddles found by fixed_point_analysis, and basins of ReLU networks.

    Smooth (tanh) networks: both branches of every unstable direction of up to
    max_saddles saddles per input, followed until they reach a stable point
    or a stable cycle (the heteroclinic skeleton; `reaches` is a row of the
    points table, `stopped` says "reached", "reached cycle" or "no attractor").
    Piecewise-linear (ReLU, AL-RNN) networks: see `pl_manifolds`.
    Returns (table with MANIFOLD_COLUMNS, arrays, extra): curves (S, 3) in PCA
    coordinates with curve_row (S,) the table row of each point; extra holds the
    tables "basins" (BASIN_COLUMNS) and "intersections" (INTERSECTION_COLUMNS),
    empty for tanh networks.
    """
    s = settings_with_defaults(settings)
    params, cfg = saved.params, saved.config
    if cfg.piecewise_linear:
        return pl_manifolds(saved, task, points, point_arrays, s)
    names = [str(n) for n in point_arrays["condition_names"]]
    inputs = dict(zip(names, point_arrays["condition_inputs"]))
    mean, axes = point_arrays["pca_mean"], point_arrays["pca_axes"]
    rows, curves, curve_rows = [], [], []

    def add_curve(row, states):
        curve_rows.append(np.full(len(states), len(rows)))
        curves.append((np.asarray(states) - mean) @ axes.T)
        rows.append(row)

    for name in names:
        u = inputs[name]
        idx = _condition_rows(points, name, "optimised")
        sub = points.iloc[idx]
        fps = fixed_points.describe(params, cfg, u, point_arrays["x"][idx], sub["q"].to_numpy(),
                                    sub["kind"].to_numpy())
        saddles = np.flatnonzero((fps.kind == "fixed") & (fps.stability == "saddle"))[: s["max_saddles"]]
        keep = np.flatnonzero((fps.kind != "fixed") | (fps.stability != "saddle"))
        chosen = np.sort(np.concatenate([saddles, keep]))
        cycle_rows = _condition_rows(points, name, "periodic")
        cycle_rows = cycle_rows[(points["stability"].iloc[cycle_rows] == "stable").to_numpy()]
        orbits = [point_arrays["orbit"][point_arrays["orbit_row"] == r] for r in cycle_rows]
        sk = skeleton.unstable_manifolds(params, cfg, u, _subset(fps, chosen), cycles=orbits)
        for b, r in enumerate(sk.table().itertuples()):
            if r.reaches >= len(chosen):
                reaches, stopped = int(cycle_rows[r.reaches - len(chosen)]), "reached cycle"
            elif r.reaches >= 0:
                reaches, stopped = int(idx[chosen[r.reaches]]), "reached"
            else:
                reaches, stopped = -1, "no attractor"
            add_curve({"condition": name, "kind": "unstable", "point": int(idx[chosen[r.saddle]]), "branch": b,
                       "direction": r.direction, "sign": r.sign, "reaches": reaches, "steps": r.steps,
                       "stopped": stopped}, sk.trajectory(b))
    table = pd.DataFrame(rows, columns=MANIFOLD_COLUMNS)
    arrays = {"curves": np.concatenate(curves) if curves else np.empty((0, 3)),
              "curve_row": np.concatenate(curve_rows) if curve_rows else np.empty(0, dtype=np.int64)}
    log.info("%d manifold branches", len(table))
    extra = {"basins": pd.DataFrame(columns=BASIN_COLUMNS), "intersections": pd.DataFrame(columns=INTERSECTION_COLUMNS)}
    return table, arrays, extra


def pl_manifolds(saved: SavedModel, task, points: pd.DataFrame, point_arrays: dict, s: dict):
    """Manifolds, basins and intersections of a piecewise-linear network (manifold_analysis, settings dict s).

    For up to max_saddles saddles and saddle cycles per input: the stable and the unstable manifold,
    of any dimension (`manifolds_nd`), one summary row each (branch -1: dimension, pieces, regions,
    folds, lost support points, invariance_error, coverage; its curve is the orbit then the support
    points), and for one unstable direction both exact branches (`manifolds_pl`; branch 0, 1,
    `reaches` a stable row or -1). For every input: the basins on the PCA plane, the basin volumes
    (share of visited states each exact stable point or cycle captures) and the homoclinic and
    heteroclinic points of the manifolds grown. Arrays besides the curves: separatrix (M, 2, 2)
    segments in PC1-PC2 where stable manifolds cut that plane (pieces grown, and exact pieces through
    the basin boundaries of every saddle, `manifolds_nd.boundary_sections`), with separatrix_point
    (M,) the saddle's row of the points table;
    basin_labels (C, res, res) (rows of the points table, -1 none) for condition_names with
    basin_s1, basin_s2 (C, res); the pieces (`manifolds_nd.arrays`, piece_manifold = table row).
    """
    params, cfg = saved.params, saved.config
    names = [str(n) for n in point_arrays["condition_names"]]
    mean, axes = point_arrays["pca_mean"], point_arrays["pca_axes"]
    states = visited_states(saved, task, s["n_trials"], s["seed"]).reshape(-1, cfg.n_rec)
    reach = s["manifold_reach"] * float(np.max(np.linalg.norm(states - mean, axis=1)))
    extent = _plane_extent(point_arrays)
    rows, curves, curve_rows, seps, sep_rows, grown, inters, basins = [], [], [], [], [], [], [], []
    labels, s1, s2 = [], [], []

    def add_curve(row, x):
        curve_rows.append(np.full(len(x), len(rows)))
        curves.append((np.asarray(x) - mean) @ axes.T)
        rows.append(row)

    for c, name in enumerate(names):
        u = point_arrays["condition_inputs"][c]
        system = plrnn.pl_system(params, cfg, u)
        idx = _condition_rows(points, name, "exact")
        sub = points.iloc[idx]
        saddles = idx[(sub["stability"] == "saddle").to_numpy()]
        stable = idx[(sub["stability"] == "stable").to_numpy()]
        if s["max_saddles"] is not None and len(saddles) > s["max_saddles"]:
            log.info("%s: manifolds of %d of %d saddles (max_saddles)", name, s["max_saddles"], len(saddles))
        found = {"stable": [], "unstable": []}
        for r in saddles[: s["max_saddles"]]:
            orbit = point_arrays["orbit"][point_arrays["orbit_row"] == r]
            for kind in ("stable", "unstable"):
                try:
                    m = manifolds_nd.grow_manifold(
                        system, orbit, kind, n_support=s["manifold_support"], n_steps=s["manifold_steps"],
                        max_pieces=s["manifold_max_pieces"], radius=reach, rng=np.random.default_rng([s["seed"], c, r]))
                except ValueError as err:  # e.g. a saddle on a switching boundary
                    log.warning("%s: no %s manifold for point %d: %s", name, kind, r, err)
                    continue
                err, coverage = manifolds_nd.invariance_error(system, m, rng=np.random.default_rng([s["seed"], r]))
                found[kind].append((int(r), m, len(rows)))
                grown.append(m)
                if kind == "stable":
                    seg, _ = manifolds_nd.plane_section(m, mean, axes[:2], extent)
                    # a piece spans its affine subspace within the region, more than the manifold may fill:
                    # keep the segments whose midpoint runs into the saddle, as for the boundary sections
                    seg = seg[[_runs_into(system, mean + t.mean(axis=0) @ axes[:2], orbit) for t in seg]]
                    seps.append(seg)
                    sep_rows.append(np.full(len(seg), r))
                add_curve({"condition": name, "kind": kind, "point": int(r), "branch": -1, "direction": 0, "sign": 0,
                           "reaches": -1, "steps": s["manifold_steps"], "stopped": m.stopped,
                           "dimension": m.dimension, "pieces": len(m.pieces), "regions": m.n_regions,
                           "folds": m.folds, "lost": m.lost, "invariance_error": err, "coverage": coverage},
                          np.concatenate([orbit, m.support]))
            if points["n_unstable"].iloc[r] == 1:  # the exact 1-D branches, drawn as curves
                try:
                    # the first step as long as the saddle's region allows (checked there): slow
                    # directions (|lambda| near 1) then still reach the attractors in n_iter steps
                    eps = 0.25 * float(np.min(np.abs(orbit[:, : system.p])))
                    m1 = manifolds_pl.unstable_manifold(params, cfg, u, orbit[0], period=len(orbit), eps=eps,
                                                        n_iter=300, max_length=4 * reach)
                except ValueError as err:
                    log.warning("%s: no unstable branches for point %d: %s", name, r, err)
                    continue
                for b, (branch, why) in enumerate(zip(m1.branches, m1.stopped)):
                    add_curve({"condition": name, "kind": "unstable", "point": int(r), "branch": b, "direction": 0,
                               "sign": 1 if b == 0 else -1, "reaches": _nearest_orbit(branch[-1], stable, point_arrays),
                               "steps": len(branch) - 1, "stopped": why, "dimension": 1}, branch)
        inters.append(_intersections(system, found, name, mean, axes))
        basins.append(_basin_volumes(params, cfg, u, states, point_arrays, name, stable, s, c))
        b = _basins(params, cfg, u, points, point_arrays, name, s, extent)
        labels.append(b["basin_labels"])
        s1.append(b["basin_s1"])
        s2.append(b["basin_s2"])
        # the separatrices: exact stable-manifold pieces through the basin boundaries, cut with the plane
        attractors = [point_arrays["orbit"][point_arrays["orbit_row"] == r] for r in stable]
        seeds = _boundary_seeds(system, b, mean, axes, attractors, np.arange(len(stable)), s["seed"] + c)
        half = max(b["basin_s1"][1] - b["basin_s1"][0], b["basin_s2"][1] - b["basin_s2"][0])
        orbits = [point_arrays["orbit"][point_arrays["orbit_row"] == r] for r in saddles]
        seg, owner = manifolds_nd.boundary_sections(system, orbits, seeds, mean, axes[:2], half)
        seps.append(seg)
        sep_rows.append(saddles[owner])
    table = pd.DataFrame(rows, columns=MANIFOLD_COLUMNS)
    table = table.astype({c: "Int64" for c in ("dimension", "pieces", "regions", "folds", "lost")})  # NA: a branch
    arrays = {"curves": np.concatenate(curves) if curves else np.empty((0, 3)),
              "curve_row": np.concatenate(curve_rows) if curve_rows else np.empty(0, dtype=np.int64),
              "separatrix": np.concatenate(seps) if seps else np.empty((0, 2, 2)),
              "separatrix_point": np.concatenate(sep_rows) if sep_rows else np.empty(0, dtype=np.int64),
              "basin_labels": np.array(labels), "basin_s1": np.array(s1), "basin_s2": np.array(s2),
              "condition_names": np.array(names, dtype=str)}
    pieces = manifolds_nd.arrays(grown, cfg.n_rec)
    summary_rows = np.flatnonzero((table["branch"] == -1).to_numpy())
    pieces["piece_manifold"] = summary_rows[pieces["piece_manifold"]] if len(summary_rows) else pieces["piece_manifold"]
    arrays.update(pieces)
    extra = {"basins": pd.concat(basins, ignore_index=True)[BASIN_COLUMNS],
             "intersections": pd.concat(inters, ignore_index=True)[INTERSECTION_COLUMNS]}
    log.info("%d manifolds, %d intersections", len(summary_rows), len(extra["intersections"]))
    return table, arrays, extra


def _intersections(system, found, name, mean, axes) -> pd.DataFrame:
    """Homoclinic and heteroclinic points between the manifolds grown for one input."""
    unstable, stable = found["unstable"], found["stable"]
    table, pts = intersections.find_intersections(system, [m for _, m, _ in unstable], [m for _, m, _ in stable],
                                                  same_orbit=lambda i, j: unstable[i][0] == stable[j][0])
    if (~table["verified"]).any():
        log.info("%s: %d candidate intersections rejected (their orbits do not approach the saddle)", name,
                 int((~table["verified"]).sum()))
    keep = table["verified"].to_numpy(dtype=bool)
    table, pts = table[keep], pts[keep]
    pcs = (pts - mean) @ axes.T if len(pts) else np.empty((0, 3))
    out = pd.DataFrame({"condition": name, "kind": table["kind"].to_numpy(dtype=object),
                        "unstable_point": [unstable[i][0] for i in table["unstable"]],
                        "stable_point": [stable[j][0] for j in table["stable"]],
                        "dimension": table["dimension"].to_numpy(dtype=int),
                        "distance_to_orbit": table["distance_to_orbit"].to_numpy(dtype=float),
                        "approach": table["approach"].to_numpy(dtype=float),
                        "pc1": pcs[:, 0], "pc2": pcs[:, 1], "pc3": pcs[:, 2]}, columns=INTERSECTION_COLUMNS)
    if len(out):
        log.info("%s: %d homoclinic, %d heteroclinic points", name, int((out["kind"] == "homoclinic").sum()),
                 int((out["kind"] == "heteroclinic").sum()))
    return out


def _boundary_seeds(system, basins: dict, mean, axes, orbits, ids, seed: int, max_seeds: int = 60):
    """Points of the PCA plane on basin boundaries: neighbouring cells of the basin map with different
    labels (up to max_seeds pairs), bisected to 2^-16 of the cell size."""
    L, s1, s2 = basins["basin_labels"], basins["basin_s1"], basins["basin_s2"]
    S1, S2 = np.meshgrid(s1, s2)
    T = np.stack([S1, S2], axis=-1)
    h = (L[:, 1:] != L[:, :-1]) & (L[:, 1:] >= 0) & (L[:, :-1] >= 0)
    v = (L[1:] != L[:-1]) & (L[1:] >= 0) & (L[:-1] >= 0)
    a = np.concatenate([T[:, :-1][h], T[:-1][v]])
    b = np.concatenate([T[:, 1:][h], T[1:][v]])
    if len(a) > max_seeds:
        pick = np.random.default_rng(seed).choice(len(a), size=max_seeds, replace=False)
        a, b = a[pick], b[pick]
    if len(a) == 0:
        return np.empty((0, len(mean)))
    return manifolds_pl.boundary_points(system, mean + a @ axes[:2], mean + b @ axes[:2], orbits, ids,
                                        n_bisect=16, n_steps=2000, tol=1e-4)


def _basin_volumes(params, cfg, u, states, point_arrays, name, stable, s, c) -> pd.DataFrame:
    """Share of basin_samples visited states each exact stable point or cycle captures (attractor -1:
    none reached), with its 95% Wilson score interval."""
    n = min(s["basin_samples"], len(states))
    if n == 0:
        return pd.DataFrame(columns=BASIN_COLUMNS)
    rng = np.random.default_rng([s["seed"], c, 3])
    sample = states[rng.choice(len(states), size=n, replace=False)]
    orbits = [point_arrays["orbit"][point_arrays["orbit_row"] == r] for r in stable]
    ids, shares, _ = manifolds_pl.basin_volumes(params, cfg, u, sample, orbits)
    attractor = np.array([stable[i] if i >= 0 else -1 for i in ids], dtype=int)
    z = 1.959963984540054  # the 97.5% normal quantile
    centre = (shares + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(shares * (1 - shares) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return pd.DataFrame({"condition": name, "attractor": attractor, "volume": shares,
                         "low": np.clip(centre - half, 0, 1), "high": np.clip(centre + half, 0, 1), "n_samples": n})


def _runs_into(system, x, orbit, n_max: int = 500, tol: float = 1e-8) -> bool:
    """Whether the forward orbit of x comes within tol of a point of `orbit` (a saddle or saddle cycle)."""
    for _ in range(n_max):
        if np.min(np.linalg.norm(orbit - x, axis=1)) < tol:
            return True
        x = system.step(x)
        if not np.all(np.isfinite(x)):
            return False
    return False


def _nearest_orbit(x, rows, point_arrays, tol=1e-3) -> int:
    """The row among `rows` with an orbit point within tol x max(1, |x|) of x, else -1."""
    for r in rows:
        orbit = point_arrays["orbit"][point_arrays["orbit_row"] == r]
        if np.min(np.linalg.norm(orbit - x, axis=1)) <= tol * max(1.0, float(np.linalg.norm(x))):
            return int(r)
    return -1


def _subset(fps, rows):
    """The FixedPoints restricted to some rows."""
    return fixed_points.FixedPoints(**{k: (v[rows] if isinstance(v, np.ndarray) and k != "u" else v)
                                       for k, v in vars(fps).items()})


def _plane_extent(point_arrays):
    """The PC1-PC2 box of the stored trajectories, padded by a quarter of its size on each side."""
    traj = point_arrays["trajectories_pc"][..., :2].reshape(-1, 2)
    lo, hi = traj.min(axis=0), traj.max(axis=0)
    pad = 0.25 * np.maximum(hi - lo, 1e-6)
    return (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])


def _basins(params, cfg, u, points, point_arrays, name, s, extent):
    """Basin map of the exact stable points and cycles on the PCA plane, labels = rows of the points table."""
    idx = _condition_rows(points, name, "exact")
    stable = idx[(points.iloc[idx]["stability"] == "stable").to_numpy()]
    orbits = [point_arrays["orbit"][point_arrays["orbit_row"] == r] for r in stable]
    basins = manifolds_pl.basin_map(params, cfg, u, point_arrays["pca_mean"], point_arrays["pca_axes"][:2],
                                    extent, s["basin_resolution"], orbits)
    labels = np.where(basins.labels >= 0, stable[np.maximum(basins.labels, 0)] if len(stable) else -1, -1)
    return {"basin_labels": labels, "basin_s1": basins.s1, "basin_s2": basins.s2}


def lyapunov_analysis(saved: SavedModel, task, point_arrays: dict, settings: dict | None = None) -> pd.DataFrame:
    """Largest Lyapunov exponent (`lyapunov.largest_lyapunov`, exact Jacobian products) of the noise-free
    network under each analysis input, from lyapunov_trajectories visited states: one row per
    condition and trajectory (LYAPUNOV_COLUMNS; exponents per step, and per tau)."""
    s = settings_with_defaults(settings)
    n = s["lyapunov_trajectories"]
    if n == 0:
        return pd.DataFrame(columns=LYAPUNOV_COLUMNS)
    states = visited_states(saved, task, s["n_trials"], s["seed"]).reshape(-1, saved.config.n_rec)
    x0 = states[np.random.default_rng([s["seed"], 4]).choice(len(states), size=min(n, len(states)), replace=False)]
    tables = []
    for c, name in enumerate(str(k) for k in point_arrays["condition_names"]):
        try:
            res = lyapunov.largest_lyapunov(saved.params, saved.config, point_arrays["condition_inputs"][c], x0,
                                            n_steps=s["lyapunov_steps"], n_transient=s["lyapunov_transient"],
                                            rng=np.random.default_rng([s["seed"], c, 5]))
        except ValueError as err:  # e.g. an activation the module does not cover
            log.warning("%s: no Lyapunov exponent: %s", name, err)
            continue
        tables.append(res.table().assign(condition=name))
        log.info("%s: largest Lyapunov exponent %s", name, res.summary())
    return pd.concat(tables, ignore_index=True)[LYAPUNOV_COLUMNS] if tables else pd.DataFrame(columns=LYAPUNOV_COLUMNS)


def dynamics_job(kind: str, params: dict, settings: dict, model_path, out):
    """The workflow's dynamics job: fixed_points.csv|npz, manifolds.csv|npz, basins.csv,
    intersections.csv and lyapunov.csv of one network."""
    task = make_task(kind, params)
    saved = load_model(model_path)
    points, point_arrays = fixed_point_analysis(saved, task, settings)
    manifolds, manifold_arrays, extra = manifold_analysis(saved, task, points, point_arrays, settings)
    write_npz(out.point_arrays, **point_arrays)
    write_csv(points, out.points)
    write_npz(out.manifold_arrays, **manifold_arrays)
    write_csv(manifolds, out.manifolds)
    write_csv(extra["basins"], out.basins)
    write_csv(extra["intersections"], out.intersections)
    write_csv(lyapunov_analysis(saved, task, point_arrays, settings), out.lyapunov)

"""Per-network dynamics analysis as the workflow runs it: fixed points, cycles, manifolds, basins.

Ties the analysis modules to a trained network and its task: the visited
states that seed the searches, the constant inputs to analyse under, the PCA
plane the figures use, and one table plus one set of arrays per network.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .analysis import fixed_points, plrnn
from .io import SavedModel
from .model import forward

log = logging.getLogger("altrnn.dynamics")

DEFAULTS = {
    "n_trials": 64,  # trials whose noise-free states seed the searches
    "seed": 2024,
    "n_initial": 256,  # initial states of the fixed-point search per input condition
    "noise": 0.1,  # initial-state noise, relative to the states' spread
    "q_tol": 1e-12,
    "slow_tol": 1e-6,
    "unique_tol": 1e-3,
    "outlier_factor": 10.0,
    "max_iters": 2000,
    "max_period": 4,  # ReLU networks: longest cycle searched exactly
    "n_plot_trials": 16,  # trajectories stored (in PCA coordinates) for the figures
    "inputs": None,  # {name: constant input}; default: the task's analysis_inputs()
}
POINT_COLUMNS = ["condition", "method", *fixed_points.TABLE_COLUMNS, "pc1", "pc2", "pc3"]


def settings_with_defaults(settings: dict | None) -> dict:
    """DEFAULTS updated with `settings`; an unknown key is a ValueError naming it."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown dynamics key(s) {unknown}; valid keys: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **settings}


def analysis_inputs(task, n_in: int, overrides=None) -> dict[str, np.ndarray]:
    """The constant inputs to analyse under: `overrides`, else the task's own, else zero input."""
    if overrides:
        inputs = {str(k): np.asarray(v, dtype=np.float64) for k, v in overrides.items()}
    elif hasattr(task, "analysis_inputs"):
        inputs = task.analysis_inputs()
    else:
        inputs = {"zero": np.zeros(n_in)}
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
    """Fixed and slow points (optimised, any network) and exact fixed points and cycles (ReLU networks).

    Returns (table, arrays): the table has one row per point (POINT_COLUMNS),
    `row` i of the table is row i of the arrays x (K, N), eigvals (K, N),
    eigvecs (K, N, 3) (NaN for exact cycles), period (K,). orbit (P, N) with
    orbit_row (P,) holds every point of every exact cycle. The arrays also hold
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
    parts, orbits, orbit_rows, n_rows = [], [], [], 0
    for c, (name, u) in enumerate(inputs.items()):
        rng = np.random.default_rng([s["seed"], c])
        init = fixed_points.sample_initial_states(states, s["n_initial"], s["noise"], rng)
        fps = fixed_points.find_fixed_points(
            params, cfg, u, init, q_tol=s["q_tol"], slow_tol=s["slow_tol"], unique_tol=s["unique_tol"],
            outlier_factor=s["outlier_factor"], max_iters=s["max_iters"], visited=states.reshape(-1, N))
        a = fps.arrays()
        parts.append((fps.table().assign(condition=name, method="optimised"), a["x"], a["eigvals"], a["eigvecs"]))
        n_rows += len(fps)
        counts = pd.Series(fps.stability).value_counts()
        log.info("%s: %d fixed and slow points (%s)", name, len(fps), ", ".join(f"{n} {k}" for k, n in counts.items()))
        if cfg.activation == "relu":
            exact = plrnn.find_cycles(params, cfg, u, visited_states=states, max_period=s["max_period"],
                                      rng=np.random.default_rng([s["seed"], c, 1]))
            e = exact.arrays()
            nd = a["eigvecs"].shape[2]
            parts.append((exact.table().assign(condition=name, method="exact"), e["x"], e["eigvals"],
                          np.full((len(exact), N, nd), np.nan, dtype=complex)))
            orbits.append(e["orbit"])
            orbit_rows.append(e["orbit_point"] + n_rows)
            n_rows += len(exact)
            log.info("%s: exact search found periods %s", name, np.bincount(e["period"]).tolist())
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
        "orbit": np.concatenate(orbits).reshape(-1, N) if orbits else np.empty((0, N)),
        "orbit_row": np.concatenate(orbit_rows) if orbit_rows else np.empty(0, dtype=np.int64),
        "pca_mean": mean,
        "pca_axes": axes,
        "trajectories_pc": (plot - mean) @ axes.T,
        "condition_names": np.array(list(inputs), dtype=str),
        "condition_inputs": np.array(list(inputs.values())),
    }
    return table, arrays

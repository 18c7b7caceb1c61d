"""Stage `symbolic`: the symbolic dynamics of a ReLU network or AL-RNN, and the unit's figure.

The network runs noise-free on the same batch of task trials as the dynamics
stage (dynamics.n_trials, dynamics.seed); each time step's linear region
(the on/off pattern of its P switching units) is a symbol (analysis.symbolic).
Per network: symbolic.csv, one row per region visited or holding an exact fixed
point or cycle of the dynamics stage (rows of fixed_points.csv), with its
occupancy, its place in the PCA plane of the visited states, and which points
it holds; symbolic_edges.csv, the transitions with their counts and
probabilities. The figure draws each network's graph in that plane, node size
= occupancy, with its topological entropy.
"""

from __future__ import annotations

import logging

import numpy as np

from ..analysis import symbolic
from ..io import load_model, read_npz, read_table, write_csv
from ..netids import net_of
from ..tasks import make_task
from .dynamics import pca, visited_states

log = logging.getLogger("altrnn.stages.symbolic")


def _exact_orbits(points, arrays):
    """Exact fixed points and cycles of the dynamics stage: (labels = table rows, orbits, stable)."""
    rows = np.flatnonzero((points["method"] == "exact").to_numpy())
    orbits = []
    for r in rows:
        if int(points["period"].iloc[r]) == 1:
            orbits.append(arrays["x"][r][None, :])
        else:
            orbits.append(arrays["orbit"][arrays["orbit_row"] == r])
    return rows.tolist(), orbits, (points["stability"].iloc[rows] == "stable").to_numpy()


def network_graph(saved, task, points, arrays, n_trials: int, seed: int):
    """(regions table, edges table) of one piecewise-linear network; see the module doc."""
    cfg = saved.config
    if not cfg.piecewise_linear:
        raise ValueError(f"the symbolic dynamics need a relu or alrnn network, got activation {cfg.activation!r}")
    P = cfg.n_switching
    states = visited_states(saved, task, n_trials, seed)[1:]  # row 0 is the common initial state
    graph = symbolic.symbolic_graph(symbolic.symbol_sequences(states, P), P)
    labels, orbits, stable = _exact_orbits(points, arrays)
    table = symbolic.region_table(graph, orbits, labels)
    # where each region lies: the mean visited state in it, else its first fixed point or cycle point
    mean, axes = pca(states, 2)
    flat = states.reshape(-1, cfg.n_rec)
    sym = symbolic.region_symbols(flat, P)
    centres = np.full((len(table), cfg.n_rec), np.nan)
    for i, s in enumerate(table["symbol"].to_numpy()):
        inside = sym == s
        if inside.any():
            centres[i] = flat[inside].mean(axis=0)
        else:
            for o in orbits:
                hit = symbolic.region_symbols(o, P) == s
                if hit.any():
                    centres[i] = o[np.argmax(hit)]
                    break
    pc = (centres - mean) @ axes.T
    stable_labels = {lab for lab, st in zip(labels, stable) if st}
    table = table.assign(
        pc1=pc[:, 0], pc2=pc[:, 1],
        stable_fixed_points=[";".join(x for x in f.split(";") if x and int(x) in stable_labels)
                             for f in table["fixed_points"]],
        n_switching=P, entropy=graph.entropy())
    log.info("%d of 2^%d regions visited, topological entropy %.3f", len(graph.symbols), P, graph.entropy())
    return table, graph.edges()


def symbolic_job(kind: str, params: dict, settings: dict, model_path, points_path, point_arrays_path,
                 table_path, edges_path):
    """The workflow's per-network job: symbolic.csv and symbolic_edges.csv."""
    table, edges = network_graph(load_model(model_path), make_task(kind, params), read_table(points_path),
                                 read_npz(point_arrays_path), int(settings["n_trials"]), int(settings["seed"]))
    write_csv(table, table_path)
    write_csv(edges, edges_path)


def figure_job(table_paths, edge_paths, label: str, pdf_path, png_path):
    """The workflow's per-unit figure: every network's region graph (plots.symbolic)."""
    from ..plots import symbolic as plot
    from ..plots.common import save_figure

    tables = {net_of(f): read_table(f) for f in table_paths}
    edges = {net_of(f): read_table(f) for f in edge_paths}
    missing = sorted(set(tables) ^ set(edges))
    if missing:
        raise ValueError(f"symbolic.csv and symbolic_edges.csv do not pair up for network(s) {missing}")
    save_figure(plot.symbolic_panels(tables, edges, label), pdf_path, png_path)

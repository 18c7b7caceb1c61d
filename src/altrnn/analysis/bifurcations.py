"""Fixed points and cycles tracked through training: where the count or stability changes, a bifurcation.

Training moves the weights along a path; at a bifurcation the set of fixed
points and cycles of the network changes (a saddle-node creates or destroys a
stable/saddle pair, a pitchfork splits one point into three, a ReLU border
collision moves a point out of its linear region). SCYFI (Eisenmann et al. 2023)
showed that loss jumps in training coincide with such events. Here each weight
snapshot is searched under each constant input:

* ReLU networks: the exact search of fixed points and cycles up to max_period
  (`plrnn.find_cycles`), seeded by the snapshot's own visited states;
* other networks: fixed points by optimisation (`fixed_points.find_fixed_points`,
  its defaults), slow points left out of the counts.

The result is one row per (snapshot, input) with the number of fixed points and
of cycles in each stability class (`stability.STABILITY_KINDS`), and
`count_changes` lists the consecutive snapshots between which any count changed:
the training intervals holding a bifurcation. The resolution is the snapshot
interval; a change back and forth within one interval is not seen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.network import PARAM_NAMES, ModelConfig, Params
from .stability import STABILITY_KINDS

KINDS = ("fixed", "cycle")
COUNT_COLUMNS = [f"{k}_{s}" for k in KINDS for s in STABILITY_KINDS]
TABLE_COLUMNS = ["iteration", "condition", "n_fixed", "n_cycles", *COUNT_COLUMNS]
CHANGE_COLUMNS = ["condition", "iteration_before", "iteration_after", "change"]


def snapshot_list(snapshots: dict) -> list[tuple[int, Params]]:
    """[(iteration, Params)] from the arrays of snapshots.npz (iteration (K,), W_in, W, b, W_out, b_out (K, ...))."""
    missing = [k for k in ("iteration", *PARAM_NAMES) if k not in snapshots]
    if missing:
        raise ValueError(f"snapshots lack the array(s) {missing}; expected iteration and {list(PARAM_NAMES)}")
    its = np.asarray(snapshots["iteration"])
    if its.ndim != 1 or not all(len(snapshots[n]) == len(its) for n in PARAM_NAMES):
        raise ValueError("snapshots: every array must have one entry per iteration")
    return [(int(it), Params(*(np.asarray(snapshots[n][i], dtype=np.float64) for n in PARAM_NAMES)))
            for i, it in enumerate(its)]


def count_points(table: pd.DataFrame) -> dict:
    """{n_fixed, n_cycles, fixed_<stability>, cycle_<stability>} from a table of points (period, kind, stability);
    slow points (kind `slow`) are not counted."""
    table = table[table["kind"] != "slow"]
    kind = np.where(table["period"].to_numpy() == 1, "fixed", "cycle")
    counts = {c: 0 for c in COUNT_COLUMNS}
    for k, s in zip(kind, table["stability"]):
        counts[f"{k}_{s}"] += 1
    counts["n_fixed"] = int(np.sum(kind == "fixed"))
    counts["n_cycles"] = int(np.sum(kind == "cycle"))
    return counts


def search_points(params: Params, cfg: ModelConfig, u, states, max_period: int = 2, n_initial: int = 64,
                  rng=None) -> pd.DataFrame:
    """Fixed points and cycles of one network under the constant input u (table with period, kind, stability).

    states (T, B, N) or (M, N): states the network visits, the search's seeds. ReLU: exact search up to
    max_period; otherwise fixed points by optimisation from n_initial of the states plus noise (0.1 of
    their spread).
    """
    from . import fixed_points, plrnn  # here: a figure job reading the counts never loads the numba kernels

    rng = np.random.default_rng(rng)
    states = np.asarray(states, dtype=np.float64)
    if cfg.activation == "relu":
        visited = states if states.ndim == 3 else states[:, None, :]
        return plrnn.find_cycles(params, cfg, u, visited_states=visited, max_period=max_period, rng=rng).table()
    flat = states.reshape(-1, states.shape[-1])
    init = fixed_points.sample_initial_states(flat, n_initial, 0.1, rng)
    return fixed_points.find_fixed_points(params, cfg, u, init, visited=flat).table()


def track(snapshots, cfg: ModelConfig, inputs: dict, visited, max_period: int = 2, n_initial: int = 64,
          seed: int = 0) -> pd.DataFrame:
    """Counts of fixed points and cycles by stability for every snapshot and input (TABLE_COLUMNS).

    snapshots: [(iteration, Params)] (see snapshot_list); inputs: {condition: u (n_in,)};
    visited(params) -> the states that network visits (seeds of the search). The search of snapshot i
    under input c uses the generator seeded by (seed, i, c), so each row is reproducible on its own.
    """
    if not inputs:
        raise ValueError("inputs: at least one constant input is needed")
    rows = []
    for i, (iteration, params) in enumerate(snapshots):
        states = visited(params)
        for c, (name, u) in enumerate(inputs.items()):
            table = search_points(params, cfg, u, states, max_period, n_initial, rng=[seed, i, c])
            rows.append({"iteration": int(iteration), "condition": str(name), **count_points(table)})
    out = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return out.astype({c: np.int64 for c in TABLE_COLUMNS if c != "condition"})


def count_changes(table: pd.DataFrame) -> pd.DataFrame:
    """Consecutive snapshots (per condition) between which any count changed, with what changed, e.g.
    `fixed_stable 1->3; fixed_saddle 0->1` (CHANGE_COLUMNS)."""
    rows = []
    for name, part in table.groupby("condition", sort=False):
        part = part.sort_values("iteration")
        counts = part[COUNT_COLUMNS].to_numpy()
        its = part["iteration"].to_numpy()
        for j in range(1, len(part)):
            diff = np.flatnonzero(counts[j] != counts[j - 1])
            if len(diff):
                text = "; ".join(f"{COUNT_COLUMNS[d]} {counts[j - 1, d]}->{counts[j, d]}" for d in diff)
                rows.append({"condition": name, "iteration_before": int(its[j - 1]), "iteration_after": int(its[j]),
                             "change": text})
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)

"""The region graph of piecewise-linear networks: which linear regions the dynamics visit and in what order."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..netids import net_order


def _labels(column) -> list[set]:
    """Sets of point labels from the ';'-joined text columns of symbolic.csv (empty cells read as NaN)."""
    return [set(str(v).split(";")) - {""} if isinstance(v, str) or np.isscalar(v) and not pd.isna(v) else set()
            for v in column]


def draw_graph(ax, table: pd.DataFrame, edges: pd.DataFrame, max_size: float = 600.0, max_edges: int = 300):
    """One network's region graph in the PCA plane of its visited states.

    Node area = occupancy; colour = probability of staying in the region; edge width and opacity =
    transition probability (self-transitions are the colour); a star marks a region holding a stable
    fixed point, a cross one holding only unstable ones, a ring one on an exact cycle. A wide ReLU network
    visits thousands of regions: only the max_edges most frequent transitions are drawn.
    """
    pos = {int(s): (x, y) for s, x, y in zip(table["symbol"], table["pc1"], table["pc2"])}
    if len(edges) > max_edges:
        edges = edges.sort_values("count", ascending=False, kind="stable").head(max_edges)
    for s, t, p in zip(edges["source"], edges["target"], edges["probability"]):
        if s == t or int(s) not in pos or int(t) not in pos:
            continue
        (x0, y0), (x1, y1) = pos[int(s)], pos[int(t)]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "-|>", "lw": 0.3 + 2.5 * p, "alpha": 0.2 + 0.8 * p,
                                "color": "0.3", "shrinkA": 4, "shrinkB": 4, "connectionstyle": "arc3,rad=0.15"})
    occ = table["occupancy"].to_numpy(dtype=float)
    nodes = ax.scatter(table["pc1"], table["pc2"], s=20 + max_size * occ / max(occ.max(), 1e-12),
                       c=table["p_stay"], cmap="viridis", vmin=0, vmax=1, edgecolors="k", linewidths=0.4, zorder=3)
    fixed, stable = _labels(table["fixed_points"]), _labels(table["stable_fixed_points"])
    cycles = _labels(table["cycles"])
    x, y = table["pc1"].to_numpy(), table["pc2"].to_numpy()
    has_stable = np.array([bool(s) for s in stable])
    only_unstable = np.array([bool(f) and not s for f, s in zip(fixed, stable)])
    on_cycle = np.array([bool(c) for c in cycles])
    ax.scatter(x[has_stable], y[has_stable], marker="*", s=90, c="tab:red", zorder=4, label="stable fixed point")
    ax.scatter(x[only_unstable], y[only_unstable], marker="x", s=40, c="tab:orange", zorder=4,
               label="unstable fixed point")
    ax.scatter(x[on_cycle], y[on_cycle], marker="o", s=140, facecolors="none", edgecolors="tab:purple",
               zorder=4, label="cycle")
    return nodes


def symbolic_panels(tables: dict[str, pd.DataFrame], edges: dict[str, pd.DataFrame], task: str):
    """One panel per network: its region graph, titled with regions visited and topological entropy."""
    nets = net_order(tables)
    n = len(nets)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols)) if n else 1
    fig, axes = plt.subplots(rows, max(cols, 1), figsize=(3.4 * max(cols, 1) + 1.0, 3.2 * rows + 1.0),
                             squeeze=False, layout="constrained")
    nodes = None
    for ax, net in zip(axes.flat, nets):
        t = tables[net]
        nodes = draw_graph(ax, t, edges[net])
        visited = int((t["n_visits"] > 0).sum())
        P = int(t["n_switching"].iloc[0])
        ax.set_title(f"{net}: {visited} of 2^{P} regions\nentropy {float(t['entropy'].iloc[0]):.2f} nats",
                     fontsize=9)
        ax.margins(0.15)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if nodes is not None:
        fig.colorbar(nodes, ax=axes, shrink=0.6, label="P(stay in region)")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"{task}: linear regions visited\n(node area = occupancy, arrows = transitions)", fontsize=10)
    return fig

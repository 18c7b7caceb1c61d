"""Fixed points, cycles, manifolds and basins in the PCA plane of each network's trajectories."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .common import net_order

STABILITY_MARKERS = {"stable": "o", "marginal": "D", "saddle": "X", "unstable": "^"}


def fixed_point_panels(points: dict[str, tuple[pd.DataFrame, dict]], task: str):
    """One panel per network: trajectories (grey) and points in PC1-PC2, marker by stability, colour by input.

    points: net_id -> (fixed_points table, fixed_points arrays) as written by the fixed_points rule.
    Slow points are drawn small and faint; cycles (ReLU, exact) as their orbits joined by lines.
    """
    nets = net_order(points)
    conditions = sorted({c for t, _ in points.values() for c in t["condition"]})
    colours = dict(zip(conditions, sns.color_palette("colorblind", len(conditions))))
    ncols = min(4, len(nets))
    nrows = math.ceil(len(nets) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.0 * nrows), squeeze=False)
    for ax, net in zip(axes.flat, nets):
        table, arrays = points[net]
        traj = arrays["trajectories_pc"]
        ax.plot(traj[..., 0], traj[..., 1], color="0.8", lw=0.5, zorder=0)
        for row in table.itertuples():
            slow = row.kind == "slow"
            ax.scatter(row.pc1, row.pc2, marker=STABILITY_MARKERS[row.stability], s=10 if slow else 36,
                       color=colours[row.condition], alpha=0.4 if slow else 0.9,
                       edgecolor="k" if row.method == "exact" else "none", linewidth=0.6, zorder=2)
        orbit_rows = arrays["orbit_row"]
        for r in np.unique(orbit_rows):
            if table["period"].iloc[r] > 1:
                pc = (arrays["orbit"][orbit_rows == r] - arrays["pca_mean"]) @ arrays["pca_axes"][:2].T
                pc = np.vstack([pc, pc[:1]])
                ax.plot(pc[:, 0], pc[:, 1], color=colours[table["condition"].iloc[r]], lw=0.8, zorder=1)
        n_stable = int(((table["stability"] == "stable") & (table["kind"] != "slow")).sum())
        ax.set(title=f"{net} ({n_stable} stable)", xticks=[], yticks=[])
        ax.title.set_fontsize(8)
    for ax in axes.flat[len(nets):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], ls="", marker=m, color="0.3", label=k) for k, m in STABILITY_MARKERS.items()]
    handles += [plt.Line2D([], [], ls="", marker="s", color=c, label=f"input: {k}") for k, c in colours.items()]
    fig.legend(handles=handles, loc="lower center", ncol=min(8, len(handles)), fontsize=7, frameon=False)
    fig.suptitle(f"{task}: fixed points in the PCA plane of each network's trajectories (PC1, PC2)", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig

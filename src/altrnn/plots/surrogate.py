"""A network's own fixed points and cycles beside the exact ones of its AL-RNN surrogate, in the PCA plane."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..netids import net_order

NETWORK, SURROGATE = "0.15", "tab:red"


def _markers(ax, t: pd.DataFrame, colour, marker, size, label):
    stable = (t["stability"] == "stable").to_numpy()
    ax.scatter(t["pc1"][stable], t["pc2"][stable], marker=marker, s=size, c=[colour], zorder=4,
               label=f"{label}, stable")
    ax.scatter(t["pc1"][~stable], t["pc2"][~stable], marker=marker, s=size, facecolors="none", edgecolors=[colour],
               zorder=4, label=f"{label}, unstable")


def draw_network(ax, table: pd.DataFrame, arrays: dict, points: dict, condition: str):
    """One network under one input: its trajectories (grey) and the surrogate's free runs (dashed) and
    long-run orbits (purple), its points (circles) and cycles (grey polygons), the surrogate's (red
    diamonds and polygons), and a line between each matched pair."""
    for traj in np.moveaxis(points["trajectories_pc"][..., :2], 1, 0):
        ax.plot(traj[:, 0], traj[:, 1], color="0.8", lw=0.6, zorder=1)
    for traj in np.moveaxis(arrays["generated_pc"], 1, 0)[:4]:
        ax.plot(traj[:, 0], traj[:, 1], color=SURROGATE, lw=0.5, ls="--", alpha=0.5, zorder=1)
    for traj in np.moveaxis(arrays["long_run_pc"], 1, 0)[:4]:  # where the surrogate ends up: a rotation, or a point
        ax.plot(traj[:, 0], traj[:, 1], color="tab:purple", lw=1.0, alpha=0.8, zorder=2)
    t = table[table["condition"] == condition]
    net, sur = t[t["side"] == "network"], t[t["side"] == "surrogate"]
    mean, axes = points["pca_mean"], points["pca_axes"][:2]
    for r in net[net["period"] > 1]["index"]:
        o = (points["orbit"][points["orbit_row"] == r] - mean) @ axes.T
        ax.fill(o[:, 0], o[:, 1], fill=False, ec=NETWORK, lw=1.2, zorder=2)
    for r in sur[sur["period"] > 1]["index"]:
        o = arrays["orbit_pc"][arrays["orbit_row"] == r]
        ax.fill(o[:, 0], o[:, 1], fill=False, ec=SURROGATE, lw=1.0, ls="-", zorder=3)
    _markers(ax, net[net["period"] == 1], NETWORK, "o", 70, "network")
    _markers(ax, sur[sur["period"] == 1], SURROGATE, "D", 16, "surrogate")
    seen = points["trajectories_pc"][..., :2].reshape(-1, 2)  # the view: the network's trajectories
    low, high = seen.min(axis=0), seen.max(axis=0)
    pad = 0.15 * np.maximum(high - low, 1e-9)
    ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
    ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
    where = {int(i): (x, y) for i, x, y in zip(net["index"], net["pc1"], net["pc2"])}
    for p, x, y in zip(sur["partner"][sur["matched"]], sur["pc1"][sur["matched"]], sur["pc2"][sur["matched"]]):
        if int(p) in where:
            ax.plot([x, where[int(p)][0]], [y, where[int(p)][1]], color="tab:blue", lw=1.2, zorder=5)
    return {side: (int(g["matched"].sum()), len(g)) for side, g in (("network", net), ("surrogate", sur))}


def surrogate_panels(data: dict, task: str):
    """One panel per network (data: net -> (surrogate.csv, surrogate.npz, fixed_points.npz)), under the
    first input the dynamics stage analysed."""
    nets = net_order(data)
    cols = min(max(len(nets), 1), 4)
    rows = int(np.ceil(len(nets) / cols)) if nets else 1
    fig, axs = plt.subplots(rows, cols, figsize=(3.4 * cols + 0.5, 3.2 * rows + 1.0), squeeze=False,
                            layout="constrained")
    condition = ""
    for ax, n in zip(axs.flat, nets):
        table, arrays, points = data[n]
        condition = str(points["condition_names"][0])
        counts = draw_network(ax, table, arrays, points, condition)
        (m, k), (_, ks) = counts["network"], counts["surrogate"]
        turn = arrays["steps_per_turn"][0]
        rot = ("" if np.all(np.isnan(turn)) else
               f"; steps/turn {turn[0]:.1f} (net), {turn[1]:.1f} (surrogate)".replace("nan", "-"))
        ax.set_title(f"{n}: {m} of {k} points/cycles matched\n(surrogate has {ks}{rot})", fontsize=8)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
    for ax in list(axs.flat)[len(nets):]:
        ax.axis("off")
    handles, labels = axs.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"{task}: network (grey) and AL-RNN surrogate (red), input {condition!r}; "
                 "blue: matched pairs", fontsize=10)
    return fig

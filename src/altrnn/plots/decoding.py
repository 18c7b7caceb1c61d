"""Linear decodability of the task variables over time, and cross-temporal decoding matrices."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..analysis.statistics import bootstrap_mean
from ..netids import STANDARD, group_of
from .common import family_palette, net_order

CHANCE = {"accuracy": 0.5, "r2": 0.0}
LIMITS = {"accuracy": (0.0, 1.0), "r2": (-1.0, 1.0)}  # colour scale of the matrices (r2 below -1 is clipped)


def _over_time(ax, rows: pd.DataFrame, measure: str, colours: dict):
    """Standard networks as their mean with a 95% bootstrap band over networks; ref and alternatives as lines."""
    std = rows[rows["net_id"].map(STANDARD.match).astype(bool)]
    if not std.empty:
        by_time = std.pivot_table(index="time", columns="net_id", values="value", dropna=False)
        stats = np.array([bootstrap_mean(v, n_boot=1000) for v in by_time.to_numpy()])
        n = by_time.shape[1]
        ax.plot(by_time.index, stats[:, 0], color=colours["std"], label=f"standard (n={n})")
        ax.fill_between(by_time.index, stats[:, 1], stats[:, 2], color=colours["std"], alpha=0.3, lw=0)
    for net in net_order(set(rows["net_id"]) - set(std["net_id"])):
        one = rows[rows["net_id"] == net].sort_values("time")
        ax.plot(one["time"], one["value"], color=colours[net], label=net)
    ax.axhline(CHANCE[measure], color="grey", lw=0.6, ls=":")
    ax.set(xlabel="time step", ylabel=measure, ylim=(min(LIMITS[measure][0], ax.get_ylim()[0]), 1.02))


def decoding_panels(table: pd.DataFrame, matrices: dict, times: np.ndarray, task: str):
    """One row per variable: decodability over time by family, then the cross-temporal matrices (train step
    on the vertical axis, test step on the horizontal) of one standard network, ref and each alternative.

    table: decoding.csv (net_id, variable, kind, measure, time, value); matrices: {(net_id, variable): (T, T)}.
    """
    table = table[table["measure"].isin(CHANCE)]
    variables = list(dict.fromkeys(table["variable"]))
    nets = net_order(set(table["net_id"]))
    shown = [n for n in nets if STANDARD.match(n)][:1] + [n for n in nets if not STANDARD.match(n)]
    colours = family_palette([group_of(n) for n in nets])
    fig, axes = plt.subplots(len(variables), 1 + len(shown), figsize=(3.4 + 2.3 * len(shown), 2.5 * len(variables)),
                             squeeze=False, layout="constrained")
    extent = (times[0] - 0.5, times[-1] + 0.5, times[0] - 0.5, times[-1] + 0.5)
    for row, var in zip(axes, variables):
        rows = table[table["variable"] == var]
        measure = rows["measure"].iloc[0]
        _over_time(row[0], rows, measure, colours)
        row[0].set_title(f"{task}: {var}", fontsize=9)
        for ax, net in zip(row[1:], shown):
            image = ax.imshow(matrices[(net, var)], origin="lower", extent=extent, cmap="RdBu_r",
                              vmin=LIMITS[measure][0], vmax=LIMITS[measure][1], interpolation="nearest")
            ax.set_title(net, fontsize=9)
            ax.set(xlabel="test step", ylabel="train step" if ax is row[1] else "")
        if shown:
            fig.colorbar(image, ax=list(row[1:]), shrink=0.8, label=f"cross-temporal {measure}")
    axes[0, 0].legend(fontsize=6, frameon=False)
    return fig

"""Win and loss under stress (the INSD paper's Fig. 5): each metric against each stress level."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .common import family_palette, net_order

MARKERS = {"win": ("*", 12), "loss": ("X", 9)}  # marks of significant differences; others get a small dot


def stress_panels(stats: pd.DataFrame, task: str, correction: str = "", alpha: float | None = None):
    """One row per metric (loss, accuracy), one column per axis: the standard group's mean with its 95%
    bootstrap band, ref and each alternative as lines, wins (star) and losses (cross) marked.

    stats: the unit's stress statistics (analysis.stress_statistics), one row per network, axis, level, metric.
    """
    metrics = [m for m in ("loss", "accuracy") if m in set(stats["metric"])]
    axes_names = list(dict.fromkeys(stats["axis"]))
    nets = net_order(set(stats["net_id"]))
    colours = family_palette(["std", *nets])
    fig, grid = plt.subplots(len(metrics), len(axes_names), figsize=(3.2 * len(axes_names), 2.8 * len(metrics)),
                             squeeze=False)
    for r, metric in enumerate(metrics):
        for c, axis in enumerate(axes_names):
            ax = grid[r, c]
            d = stats[(stats["metric"] == metric) & (stats["axis"] == axis)].sort_values("level")
            group = d.drop_duplicates("level")
            ax.plot(group["level"], group["std_mean"], color=colours["std"], label="standard (mean)")
            ax.fill_between(group["level"], group["std_low"], group["std_high"], color=colours["std"], alpha=0.25,
                            lw=0, label="standard 95% CI")
            for net in nets:
                n = d[d["net_id"] == net]
                ax.plot(n["level"], n["value"], color=colours[net], marker=".", label=net)
                for mark, (marker, size) in MARKERS.items():
                    hit = n[n["mark"] == mark]
                    ax.plot(hit["level"], hit["value"], ls="", marker=marker, ms=size, color=colours[net],
                            mec="k", mew=0.6)
            ax.set(xlabel=axis, yscale="log" if metric == "loss" else "linear",
                   ylabel=metric if c == 0 else "", title=f"{task}: {axis}" if r == 0 else "")
    handles, labels = grid[0, 0].get_legend_handles_labels()
    for mark, (marker, size) in MARKERS.items():
        handles.append(plt.Line2D([], [], ls="", marker=marker, ms=size * 0.7, color="grey", mec="k", mew=0.6))
        labels.append(mark)
    note = f" ({correction}-corrected p < {alpha})" if correction and alpha is not None else ""
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, 1.0), title=f"win / loss against the standard group{note}",
               title_fontsize=7)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig

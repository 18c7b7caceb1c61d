"""Ranking hypotheses against a recording: each family's score per measure, with its interval and the ceiling."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .common import family_order, family_palette

TITLES = {("predictability", "net_to_rec"): "predictability\nnetwork -> recording (r2)",
          ("predictability", "rec_to_net"): "predictability\nrecording -> network (r2)",
          ("cka", "symmetric"): "linear CKA", ("rsa", "symmetric"): "RSA",
          ("procrustes", "symmetric"): "Procrustes angle (rad)", ("dsa", "symmetric"): "DSA angle (rad)"}


def recordings_ranking(families: pd.DataFrame, networks: pd.DataFrame, task: str):
    """One panel per measure: each family's mean score (bar, with its bootstrap interval), its networks (circles),
    (side by side) and the split-half noise ceiling (dashed line); the best family's bar is outlined.

    families, networks: the tables of analysis.recordings (FAMILY_COLUMNS, NETWORK_COLUMNS).
    """
    measures = list(dict.fromkeys(zip(families["metric"], families["direction"])))
    order = family_order(families["family"])
    colours = family_palette(order)
    fig, axes = plt.subplots(1, len(measures), figsize=(2.3 * len(measures) + 0.4, 3.2), layout="constrained",
                             squeeze=False)
    for ax, (metric, direction) in zip(axes[0], measures):
        rows = families[(families["metric"] == metric) & (families["direction"] == direction)]
        rows = rows.set_index("family").reindex(order)
        x = np.arange(len(order))
        for i, f in enumerate(order):
            r = rows.loc[f]
            best = r["rank"] == 1
            ax.bar(i, r["value"], color=colours.get(f, (0.6, 0.6, 0.6)), alpha=0.8,
                   edgecolor="black" if best else "none", lw=1.2)
            if np.isfinite(r["ci_low"]):
                ax.errorbar(i, r["value"], yerr=[[r["value"] - r["ci_low"]], [r["ci_high"] - r["value"]]],
                            color="black", lw=1, capsize=2)
            nets = networks[(networks["metric"] == metric) & (networks["direction"] == direction)
                            & (networks["family"] == f)]
            offsets = np.linspace(-0.25, 0.25, len(nets)) if len(nets) > 1 else np.zeros(1)
            ax.plot(i + offsets[:len(nets)], nets["value"], "o", ms=3, mfc="white", mec="black", mew=0.8,
                    zorder=3)
        ceiling = rows["ceiling"].iloc[0]
        if np.isfinite(ceiling):
            ax.axhline(ceiling, ls="--", lw=1, color="grey", label="noise ceiling (split halves)")
        lower = rows["better"].iloc[0] == "lower"
        ax.set_title(TITLES.get((metric, direction), f"{metric} {direction}") + (" (lower is better)" if lower
                                                                                   else ""), fontsize=8)
        ax.set_xticks(x, order, rotation=45, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles[:1], labels[:1], fontsize=7, frameon=False, loc="outside lower center")
    fig.suptitle(f"{task}: which networks fit the recording (bars: family mean, 95% bootstrap interval "
                 "over trials; circles: networks)", fontsize=9)
    return fig

"""How far INSD moves each network, in units of the standard networks' natural degeneracy."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..analysis.insd_distance import LEVELS
from .common import family_palette, net_order

TITLES = {"behaviour": "behaviour\n(log10 OOD loss profile)", "dynamics": "dynamics\n(DSA)",
          "weights": "weights\n(permutation-aligned W)"}


def insd_distance_panels(table: pd.DataFrame, label: str):
    """One panel per level: each network's ratio (mean distance to the standard networks over their mean
    pairwise distance) with its 95% bootstrap interval; the dashed line at 1 is the standard networks'
    distance from each other."""
    levels = [lv for lv in LEVELS if lv in set(table["level"])]
    nets = net_order(table["net_id"].unique())
    colours = family_palette(nets)
    fig, axes = plt.subplots(1, len(levels), figsize=(2.6 * len(levels) + 0.6, 3.0), squeeze=False)
    for ax, level in zip(axes[0], levels):
        sub = table[table["level"] == level].set_index("net_id").reindex(nets)
        x = np.arange(len(nets))
        ratio = sub["ratio"].to_numpy(float)
        err = np.abs(np.vstack([ratio - sub["ci_low"], sub["ci_high"] - ratio]))  # NaN bounds draw no bar
        ax.bar(x, ratio, color=[colours[n] for n in nets], width=0.6)
        ax.errorbar(x, ratio, yerr=err, fmt="none", ecolor="0.3", capsize=3, lw=1)
        ax.axhline(1.0, color="0.4", ls="--", lw=1)
        ax.set_xticks(x, nets)
        ax.set_title(TITLES[level], fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0, 0].set_ylabel("distance to standard networks\n/ their mean pairwise distance", fontsize=8)
    n = int(table["n_standard"].iloc[0])
    fig.suptitle(f"{label}: distance from {n} standard networks in natural degeneracies "
                 "(95% bootstrap over standard networks)", fontsize=9)
    fig.tight_layout()
    return fig

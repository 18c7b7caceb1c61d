"""Metric gaming: each similarity measure between a network and its copy padded with noise units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .common import palette

LABELS = {"new_to_earlier": "predictability new -> earlier (INSD)", "earlier_to_new": "predictability earlier -> new",
          "cka": "linear CKA", "rsa": "RSA"}


def metric_gaming(table: pd.DataFrame, task: str):
    """Each measure against the number of noise units k / N: mean over noise draws with its 95% bootstrap
    interval (band), and its large-sample value (dashed) where there is a closed form.

    table: metric_gaming.csv (measure, padding, mean, low, high, expected, n_units, n_draws).
    """
    measures = [m for m in LABELS if m in set(table["measure"])]
    qualitative = palette("qualitative", 10)
    colours = {"new_to_earlier": (0.0, 0.0, 0.0), "earlier_to_new": qualitative[1], "cka": qualitative[2],
               "rsa": qualitative[4]}
    fig, ax = plt.subplots(figsize=(4.6, 3.4), layout="constrained")
    for m in measures:
        rows = table[table["measure"] == m].sort_values("padding")
        ax.plot(rows["padding"], rows["mean"], "o-", ms=3, color=colours[m], label=LABELS[m])
        ax.fill_between(rows["padding"], rows["low"], rows["high"], color=colours[m], alpha=0.3, lw=0)
        if rows["expected"].notna().all():
            ax.plot(rows["padding"], rows["expected"], ls="--", lw=1, color=colours[m])
    ax.plot([], [], ls="--", lw=1, color="grey", label="large-sample value")
    n_units, n_draws = int(table["n_units"].iloc[0]), int(table["n_draws"].max())
    ax.set(xlabel=f"noise units k / N (N = {n_units})", ylabel="similarity of ref and [ref, noise]",
           ylim=(min(0.0, ax.get_ylim()[0]), 1.05))
    ax.set_title(f"{task}: metric gaming by noise padding ({n_draws} draws)", fontsize=9)
    ax.legend(fontsize=6, frameon=False, loc="lower left")
    return fig

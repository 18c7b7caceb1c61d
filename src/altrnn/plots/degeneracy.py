"""Solution degeneracy of the standard networks at three levels, across tasks."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .common import palette

LEVELS = [
    ("behaviour", "ood_log10_loss_std", "spread of OOD loss\n(std of log10 loss across networks)"),
    ("dynamics", "mean_dsa_distance", "mean pairwise DSA distance\n(radians)"),
    ("weights", "mean_permutation_distance", "mean recurrent-weight distance\n(best neuron permutation)"),
]


def degeneracy_levels(tables: dict[str, pd.DataFrame]):
    """One bar per task at each level; tables: task -> degeneracy.csv (level, measure, value, n_networks)."""
    df = pd.concat([t.assign(task=task) for task, t in tables.items()], ignore_index=True)
    tasks = list(tables)
    colours = dict(zip(tasks, palette("qualitative", len(tasks))))
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4))
    for ax, (level, measure, label) in zip(axes, LEVELS):
        sub = df[(df["level"] == level) & (df["measure"] == measure)].set_index("task").reindex(tasks)
        ax.bar(range(len(tasks)), sub["value"].fillna(0), color=[colours[t] for t in tasks])
        ax.set_xticks(range(len(tasks)), tasks, rotation=30, ha="right")
        ax.set(title=level, ylabel=label)
    fig.suptitle("Degeneracy of standard networks", fontsize=10)
    fig.tight_layout()
    return fig

"""Training curves of every network of a task."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .common import family_of, family_palette, net_order


def training_curves(logs: dict[str, pd.DataFrame], task: str):
    """Task loss of every network against iteration (log scale), and the INSD penalty of the alternatives."""
    nets = net_order(logs)
    palette = family_palette(map(family_of, nets))
    has_penalty = any((logs[n]["penalty"] > 0).any() for n in nets)
    fig, axes = plt.subplots(1, 2 if has_penalty else 1, figsize=(9 if has_penalty else 5, 3.4), squeeze=False)
    ax = axes[0, 0]
    for n in nets:
        ax.plot(logs[n]["iteration"], logs[n]["task_loss"], color=palette[family_of(n)], lw=1, label=n)
    ax.set(yscale="log", xlabel="iteration", ylabel="task loss", title=f"{task}: training")
    ax.legend(fontsize=6, ncol=2, frameon=False)
    if has_penalty:
        ax = axes[0, 1]
        for n in nets:
            if (logs[n]["penalty"] > 0).any():
                ax.plot(logs[n]["iteration"], logs[n]["penalty"], color=palette[family_of(n)], lw=1, label=n)
        ax.set(xlabel="iteration", ylabel="INSD penalty (lambda x S)", title="decoupling from earlier networks")
        ax.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    return fig

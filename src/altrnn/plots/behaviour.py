"""Performance in and out of distribution, by condition and network family."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from .common import family_of, family_order, family_palette


def ood_performance(evals: pd.DataFrame, task: str):
    """Accuracy and loss per evaluation condition; one point per network, coloured by family.

    evals: long table with columns net_id, condition, loss, accuracy.
    """
    df = evals.assign(family=evals["net_id"].map(family_of))
    order = family_order(df["family"])
    conditions = list(dict.fromkeys(df["condition"]))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
    for ax, column, scale in ((axes[0], "accuracy", "linear"), (axes[1], "loss", "log")):
        sns.stripplot(data=df, x="condition", y=column, hue="family", hue_order=order, order=conditions,
                      palette=family_palette(order), dodge=True, jitter=False, size=5, ax=ax)
        ax.set(yscale=scale, xlabel="", title=f"{task}: {column}")
        ax.tick_params(axis="x", rotation=30)
        ax.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    return fig

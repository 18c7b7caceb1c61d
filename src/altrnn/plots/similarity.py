"""Similarity matrices and MDS embeddings of networks."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from .common import family_of, family_order, family_palette, net_order


def _matrix(table: pd.DataFrame) -> pd.DataFrame:
    nets = net_order(set(table["net_a"]) | set(table["net_b"]))
    return table.pivot(index="net_a", columns="net_b", values="value").reindex(index=nets, columns=nets)


def predictability_matrices(table: pd.DataFrame, task: str):
    """Held-out linear predictability (r2) of each network (column) from each other (row), full and null space."""
    spaces = [s for s in ("full", "nullspace") if s in set(table["space"])]
    fig, axes = plt.subplots(1, len(spaces), figsize=(5.2 * len(spaces), 4.4), squeeze=False)
    for ax, space in zip(axes[0], spaces):
        m = _matrix(table[table["space"] == space])
        sns.heatmap(m, vmin=0, vmax=1, cmap="viridis", square=True, annot=len(m) <= 10, fmt=".2f",
                    annot_kws={"fontsize": 6}, cbar_kws={"label": "r2", "shrink": 0.7}, ax=ax)
        label = "null-space rates" if space == "nullspace" else "all rates"
        ax.set(xlabel="predicted network", ylabel="predictor network", title=f"{task}: {label}")
    fig.tight_layout()
    return fig


def mds_embedding(coords: pd.DataFrame, task: str, metric: str):
    """2-D classical MDS of a distance matrix, one point per network coloured by family.

    coords: columns net_id, dim1, dim2.
    """
    df = coords.assign(family=coords["net_id"].map(family_of))
    order = family_order(df["family"])
    fig, ax = plt.subplots(figsize=(4.6, 4))
    sns.scatterplot(data=df, x="dim1", y="dim2", hue="family", hue_order=order, palette=family_palette(order),
                    s=60, ax=ax)
    for row in df.itertuples():
        ax.annotate(row.net_id, (row.dim1, row.dim2), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel="MDS 1", ylabel="MDS 2", title=f"{task}: MDS of {metric} distances")
    ax.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    return fig

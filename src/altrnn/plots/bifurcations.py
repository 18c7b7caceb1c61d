"""Fixed points and cycles through training above the loss curve, to match loss jumps to bifurcations."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..analysis.bifurcations import count_changes
from .common import net_order

# what is drawn: (label, count columns summed over inputs, colour, line style)
SERIES = (
    ("stable fixed points", ["fixed_stable"], "tab:blue", "-"),
    ("saddles", ["fixed_saddle"], "tab:orange", "-"),
    ("unstable / marginal fixed points", ["fixed_unstable", "fixed_marginal"], "tab:red", "-"),
    ("stable cycles", ["cycle_stable"], "tab:green", "--"),
    ("unstable cycles", ["cycle_saddle", "cycle_unstable", "cycle_marginal"], "tab:purple", "--"),
)


def change_iterations(table: pd.DataFrame) -> np.ndarray:
    """The first snapshot iteration after each change of any count under any input (sorted, distinct)."""
    return np.unique(count_changes(table)["iteration_after"].to_numpy(dtype=np.int64))


def bifurcation_panels(tables: dict[str, pd.DataFrame], logs: dict[str, pd.DataFrame], task: str):
    """One column per network: counts by stability (summed over inputs) per snapshot, above the task loss.

    Dotted vertical lines mark the first snapshot after a count changed, in both rows, so that a loss
    jump can be read against the bifurcation it coincides with (to within the snapshot interval).
    """
    nets = net_order(tables)
    if not nets:
        raise ValueError("bifurcation_panels: no networks to draw")
    fig, axes = plt.subplots(2, len(nets), figsize=(3.4 * len(nets), 4.6), sharex="col", squeeze=False,
                             gridspec_kw={"height_ratios": [1.3, 1]})
    for j, net in enumerate(nets):
        table, top, bottom = tables[net], axes[0, j], axes[1, j]
        totals = table.groupby("iteration").sum(numeric_only=True).sort_index()
        for label, cols, colour, style in SERIES:
            counts = totals[cols].sum(axis=1)
            if counts.any() or label == "stable fixed points":
                top.step(totals.index, counts, where="post", color=colour, ls=style, lw=1.2, label=label)
        log = logs[net]
        bottom.plot(log["iteration"], log["task_loss"], color="k", lw=1)
        for it in change_iterations(table):
            for ax in (top, bottom):
                ax.axvline(it, color="0.5", ls=":", lw=0.8)
        n_inputs = table["condition"].nunique()
        top.set(title=net, ylabel="count" + (f" ({n_inputs} inputs)" if n_inputs > 1 else "") if j == 0 else None)
        top.yaxis.get_major_locator().set_params(integer=True)
        bottom.set(yscale="log", xlabel="iteration", ylabel="task loss" if j == 0 else None)
    axes[0, 0].legend(fontsize=6, frameon=False)
    fig.suptitle(f"{task}: fixed points and cycles through training", fontsize=10)
    fig.tight_layout()
    return fig

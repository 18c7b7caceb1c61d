"""Networks emulating an HMM: training curves, and generated emission statistics against the HMM's own."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .common import palette

TV_NAMES = ("occupancy", "transition", "dwell", "pairs")  # the tolerance is about the first three


def _bars(ax, stats: dict, key: str, title: str):
    """Occupancy bars: analytic (outline), HMM sample and network side by side."""
    n = len(stats["analytic_occupancy"])
    x = np.arange(n)
    ax.bar(x - 0.2, stats["hmm_sample_occupancy"], 0.4, color="0.7", label="HMM sample")
    ax.bar(x + 0.2, stats[f"{key}_occupancy"], 0.4, color="C0", label="network")
    ax.bar(x, stats["analytic_occupancy"], 0.8, fill=False, edgecolor="k", lw=0.8, label="analytic")
    top = max(np.max(stats[f"{key}_occupancy"]), np.max(stats["analytic_occupancy"]))
    ax.set(xticks=x, xlabel="symbol", ylabel="occupancy", title=title, ylim=(0, 1.35 * top))


def _matrix(ax, M: np.ndarray, title: str):
    ax.imshow(M, vmin=0, vmax=1, cmap="Greys")
    for (i, j), v in np.ndenumerate(M):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6, color="w" if v > 0.5 else "k")
    n = len(M)
    ax.set(xticks=range(n), yticks=range(n), xlabel="next symbol", ylabel="symbol", title=title)


def _dwell(ax, stats: dict, title: str):
    """Dwell-time distribution of each symbol: analytic (line), HMM sample (dotted), network (dots)."""
    colours = palette("viridis", len(stats["analytic_dwell"]))
    k = np.arange(1, stats["analytic_dwell"].shape[1] + 1)
    for a, c in enumerate(colours):
        ax.plot(k, stats["analytic_dwell"][a], color=c, lw=1, label=f"symbol {a}")
        ax.plot(k, stats["hmm_sample_dwell"][a], color=c, lw=0.8, ls=":")
        ax.plot(k, stats["network_dwell"][a], "o", color=c, ms=2.5)
    ax.set(yscale="log", xlabel=f"dwell time (last bin: >= {k[-1]})", ylabel="probability", title=title)


def hmm_panels(name: str, logs: dict[str, pd.DataFrame], evals: dict[str, pd.DataFrame], stats: dict[str, dict],
               tolerance: float | None = None):
    """Top row: the loss (divergence and any added terms) through training, the HMM's symbol transition matrix,
    the TV distances of every network (black lines: 95% bootstrap intervals over its sequences; `pairs`: the
    largest over the evaluated lags) beside the HMM's sampling floor and the tolerance (dashed). One row per
    network: occupancy, transition matrix, dwell times."""
    nets = sorted(logs)
    fig, axes = plt.subplots(1 + len(nets), 3, figsize=(11, 3.2 * (1 + len(nets))), squeeze=False)
    ax = axes[0, 0]
    for i, n in enumerate(nets):
        ax.plot(logs[n]["iteration"], logs[n]["loss"], color=f"C{i}", lw=1, label=n)
    ax.set(yscale="log", xlabel="iteration", ylabel="loss (window mean)", title=f"HMM {name}: training")
    ax.legend(fontsize=6, frameon=False)
    _matrix(axes[0, 1], stats[nets[0]]["analytic_transition"], "analytic symbol transitions")
    ax = axes[0, 2]
    x = np.arange(len(TV_NAMES))
    width = 0.8 / len(nets)
    for i, n in enumerate(nets):
        row = evals[n].iloc[0]
        at = x + (i - (len(nets) - 1) / 2) * width
        ax.bar(at, [row[f"{t}_tv"] for t in TV_NAMES], width, color=f"C{i}", label=n)
        # the interval is for the population's distance and may lie below the sample's (bias removed)
        ax.vlines(at, [row[f"{t}_tv_lo"] for t in TV_NAMES], [row[f"{t}_tv_hi"] for t in TV_NAMES], color="k", lw=1)
    floor = evals[nets[0]].iloc[0]
    ax.scatter(x, [floor[f"floor_{t}_tv"] for t in TV_NAMES], marker="_", s=400, color="k", zorder=3,
               label="HMM sample (floor)")
    if tolerance is not None:
        ax.axhline(tolerance, color="0.4", ls="--", lw=1, label=f"tolerance {tolerance:g}")
    lags = ", ".join(str(int(lag)) for lag in stats[nets[0]]["lags"])
    highest = max([tolerance or 0.0] + [evals[n].iloc[0][f"{t}_tv_hi"] for n in nets for t in TV_NAMES])
    ax.set(xticks=x, ylabel="total variation to analytic", title="emission statistics", ylim=(0, 1.6 * highest or 1.0))
    ax.set_xticklabels(["occupancy", "transitions", "dwell", f"pairs\n(lags {lags})"], fontsize=7)
    ax.legend(fontsize=6, frameon=False, loc="upper left", ncol=2)
    for r, n in enumerate(nets, start=1):
        _bars(axes[r, 0], stats[n], "network", f"{n}: occupancy")
        _matrix(axes[r, 1], stats[n]["network_transition"], f"{n}: generated transitions")
        _dwell(axes[r, 2], stats[n], f"{n}: dwell times")
    axes[1, 0].legend(fontsize=6, frameon=False)
    axes[1, 2].legend(fontsize=6, frameon=False)
    fig.tight_layout()
    return fig

"""One fitted AL-RNN against the data it reconstructs: attractor projections, power spectra, region graph."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..analysis.dsr_metrics import power_spectra
from .symbolic import draw_graph


def _pairs(D: int) -> list[tuple[int, int]]:
    """The planes drawn: (x0, x1) and (x0, x2) for three or more variables; (x0, x1) for two; (t, x0) for one."""
    return [(0, 1), (0, 2)] if D >= 3 else [(0, 1)] if D == 2 else [(-1, 0)]


def _project(ax, x, pair, colour, title):
    x = x[np.all(np.isfinite(x), axis=1)]
    a, b = pair
    xs = np.arange(len(x)) if a < 0 else x[:, a]
    ax.plot(xs, x[:, b], lw=0.3, color=colour)
    ax.set_xlabel("step" if a < 0 else f"x{a}")
    ax.set_ylabel(f"x{b}")
    ax.set_title(title, fontsize=9)


def dsr_figure(data, generated, metrics: pd.DataFrame, table: pd.DataFrame, edges: pd.DataFrame, title: str,
               dt: float = 1.0):
    """data, generated: the held-out trajectories (T, n, D) and the network's free-running predictions from
    their first states (the first trajectory is drawn); metrics: dsr_metrics.csv; table, edges:
    symbolic.csv and symbolic_edges.csv."""
    x, y = np.asarray(data)[:, 0], np.asarray(generated)[:, 0]
    D = x.shape[1]
    pairs = _pairs(D)
    fig, axes = plt.subplots(2, len(pairs) + 1, figsize=(3.3 * (len(pairs) + 1), 6.2), layout="constrained",
                             squeeze=False)
    for col, pair in enumerate(pairs):
        _project(axes[0, col], x, pair, "0.2", "data (held out)")
        _project(axes[1, col], y, pair, "tab:red", "AL-RNN, free running")
        axes[1, col].set_xlim(axes[0, col].get_xlim())
        axes[1, col].set_ylim(axes[0, col].get_ylim())
    ax = axes[0, -1]
    freq = np.arange(1, len(x) // 2 + 1) / (len(x) * dt)
    p = power_spectra(x)
    q = power_spectra(y) if np.all(np.isfinite(y)) else np.full_like(p, np.nan)
    for d in range(D):
        ax.semilogy(freq[:len(p)], p[:, d], color=f"C{d}", lw=0.8, label=f"x{d} data")
        ax.semilogy(freq[:len(q)], q[:, d], color=f"C{d}", lw=0.8, ls="--", label=f"x{d} AL-RNN")
    ax.set_xlim(0, freq[len(p) - 1] / 4)
    ax.set_xlabel("frequency (1 / time unit)")
    ax.set_ylabel("normalised power")
    ax.set_title("power spectra (dashed: AL-RNN)", fontsize=9)
    ax = axes[1, -1]
    if len(table):
        nodes = draw_graph(ax, table, edges)
        fig.colorbar(nodes, ax=ax, shrink=0.7, label="P(stay in region)")
    P = int(table["n_switching"].iloc[0]) if len(table) else 0
    ax.set_title(f"{len(table)} of 2^{P} regions, entropy {float(table['entropy'].iloc[0]):.2f} nats",
                 fontsize=9)
    ax.set_xlabel("PC 1 of the data")
    ax.set_ylabel("PC 2")
    ax.margins(0.2)
    test = metrics[metrics["split"] == "test"].iloc[0]
    fig.suptitle(f"{title}: D_stsp {test['d_stsp']:.2f}, D_H {test['d_h']:.2f} (held out); "
                 f"P = {int(test['n_relu'])}", fontsize=10)
    return fig

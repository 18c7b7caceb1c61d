"""Trend figures of a study: a measure against a factor axis, one line per family, 95% bootstrap bands;
and INSD's trade-off between task loss and decoupling."""

from __future__ import annotations

import numbers

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..netids import family_key
from .common import family_palette, palette

TITLES = {
    "accuracy": "accuracy (per evaluation condition)",
    "loss": "loss (per evaluation condition)",
    "iterations": "training iterations",
    "final_task_loss": "final task loss",
    "feature_learning": "feature learning: relative weight change and tangent-kernel alignment (init vs end)",
    "linear_predictability": "held-out linear predictability r2 (predictor \u2192 predicted)",
    "similarity": "similarity between networks (CKA, RSA: similarity; Procrustes, DSA: distance)",
    "degeneracy": "degeneracy of the standard networks",
}


def _colours(families) -> dict:
    """Network families keep the project's colours; pair families get a categorical palette."""
    single = [f for f in families if "\u2192" not in f and "\u2013" not in f]
    colours = family_palette(single) if single else {}
    pairs = [f for f in families if f not in colours]
    colours.update(zip(pairs, palette("qualitative", len(pairs))))
    return colours


def _pair_key(family):
    for sep in ("\u2192", "\u2013"):
        if sep in family:
            return tuple(family_key(p) for p in family.split(sep))
    return (family_key(family),)


def _positions(values):
    """x positions: the values themselves when all are numbers (log scale over >= 1 decade), else their order."""
    values = list(dict.fromkeys(values))
    numeric = all(isinstance(v, numbers.Number) and not isinstance(v, bool) for v in values)
    if numeric:
        arr = np.array(values, dtype=float)
        log = bool(np.all(arr > 0) and arr.max() / arr.min() >= 10)
        return {v: float(v) for v in values}, log, numeric
    return {v: i for i, v in enumerate(values)}, False, numeric


def _axis_ticks(ax, pos, numeric, log):
    """Ticks at the axis values themselves: labels for non-numbers, no 1.5 between integer levels."""
    if not numeric:
        ax.set_xticks(list(pos.values()), [str(v) for v in pos], rotation=30, ha="right")
    elif not log and len(pos) <= 8:
        ax.set_xticks(list(pos.values()), [f"{v:g}" for v in pos])


def trend_figure(trends: pd.DataFrame, measure: str, axis: str, study: str):
    """Rows: facets (other axes' values); columns: panels (evaluation conditions, spaces, levels)."""
    if trends.empty:
        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{study}: no {measure} values\n(e.g. degeneracy needs 2+ standard networks)",
                ha="center", va="center", fontsize=8)
        return fig
    panels = list(dict.fromkeys(trends["panel"]))
    facets = list(dict.fromkeys(trends["facet"]))
    fig, axes = plt.subplots(len(facets), len(panels), figsize=(3.4 * len(panels) + 1.2, 2.8 * len(facets)),
                             squeeze=False)
    families = sorted(set(trends["family"]), key=_pair_key)
    colours = _colours(families)
    pos, log, numeric = _positions(list(trends["x"]))
    for i, facet in enumerate(facets):
        for j, panel in enumerate(panels):
            ax = axes[i, j]
            sub = trends[(trends["facet"] == facet) & (trends["panel"] == panel)]
            for family in families:
                f = sub[sub["family"] == family]
                if f.empty:
                    continue
                x = np.array([pos[v] for v in f["x"]])
                ax.plot(x, f["mean"], marker="o", ms=3, lw=1.2, color=colours[family], label=family)
                ax.fill_between(x, f["ci_low"], f["ci_high"], color=colours[family], alpha=0.2, lw=0)
            if log:
                ax.set_xscale("log")
            _axis_ticks(ax, pos, numeric, log)
            title = " | ".join(t for t in (panel, facet) if t)
            ax.set_title(title, fontsize=8)
            ax.set_xlabel(axis, fontsize=8)
            ax.tick_params(labelsize=7)
    handles, labels = [], []
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, frameon=False)
    fig.suptitle(f"{study}: {TITLES.get(measure, measure)} (mean, 95% bootstrap interval)", fontsize=9)
    fig.tight_layout()
    return fig


def factor_figure(trends: dict, factor: str):
    """One factor across tasks: rows are degeneracy measures, columns are studies (one per task).

    trends: study -> (axis, that study's degeneracy rows of trends.csv). Each
    panel draws the measure against the study's own axis (mean and 95%
    bootstrap interval over its networks); facets of other axes are lines.
    """
    rows = list(dict.fromkeys(p for _, df in trends.values() for p in df["panel"]))
    if not rows:
        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"factor {factor}: no degeneracy values\n(degeneracy needs 2+ standard networks)",
                ha="center", va="center", fontsize=8)
        return fig
    studies = list(trends)
    fig, axes = plt.subplots(len(rows), len(studies), figsize=(3.0 * len(studies) + 0.6, 2.4 * len(rows)),
                             squeeze=False)
    for j, study in enumerate(studies):
        axis, df = trends[study]
        pos, log, numeric = _positions(list(df["x"]))
        facets = list(dict.fromkeys(df["facet"]))
        colours = dict(zip(facets, palette("qualitative", len(facets))))
        for i, panel in enumerate(rows):
            ax = axes[i, j]
            for facet in facets:
                f = df[(df["panel"] == panel) & (df["facet"] == facet)]
                if f.empty:
                    continue
                x = np.array([pos[v] for v in f["x"]])
                ax.plot(x, f["mean"], marker="o", ms=3, lw=1.2, color=colours[facet], label=facet or None)
                ax.fill_between(x, f["ci_low"], f["ci_high"], color=colours[facet], alpha=0.2, lw=0)
            if log:
                ax.set_xscale("log")
            _axis_ticks(ax, pos, numeric, log)
            ax.tick_params(labelsize=7)
            if i == 0:
                ax.set_title(study, fontsize=8)
            if i == len(rows) - 1:
                ax.set_xlabel(axis, fontsize=8)
            if j == 0:
                ax.set_ylabel(panel.replace(": ", ":\n"), fontsize=7)
            if facets != [""] and i == 0:
                ax.legend(fontsize=6, frameon=False)
    fig.suptitle(f"factor {factor}: degeneracy of the standard networks (mean, 95% bootstrap interval)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.985))  # room for the title above the column titles
    return fig


def tradeoff_figure(tradeoff: pd.DataFrame, axes: list[str], study: str):
    """INSD's trade-off: final task loss against null-space predictability from the earlier networks.

    One large point per condition (the mean over its alternatives, with 95% bootstrap intervals as bars),
    coloured by the first axis and shaped by the other axes; its alternatives are the small points (with
    their own intervals when the condition pools repeated INSD chains, tradeoff.csv column n_chains).
    axes: the table's axis columns (a pooled replicate axis left out).
    """
    if tradeoff.empty:
        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{study}: no INSD alternatives\n(no trade-off to draw)", ha="center", va="center",
                fontsize=8)
        return fig
    first, others = axes[0], axes[1:]
    values = list(dict.fromkeys(tradeoff[first]))
    if all(isinstance(v, numbers.Number) for v in values):
        values = sorted(values)
    colours = dict(zip(values, palette("viridis", len(values))))
    shapes = list(dict.fromkeys(tuple(r) for r in tradeoff[others].itertuples(index=False))) if others else [()]
    markers = dict(zip(shapes, "osD^vP*Xph<>"))
    summary = tradeoff["net_id"] == "alternatives"
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for condition, rows in tradeoff.groupby("study_condition", sort=False):
        mean = rows[rows["net_id"] == "alternatives"].iloc[0]
        colour = colours[mean[first]]
        marker = markers[tuple(mean[a] for a in others)]
        single = rows[~summary.loc[rows.index]]
        ax.scatter(single["predictability"], single["final_task_loss"], s=10, color=colour, alpha=0.5,
                   marker=marker, lw=0)
        if (single["n_chains"] > 1).any():
            px, py = single["predictability"], single["final_task_loss"]
            xerr = [px - single["predictability_ci_low"], single["predictability_ci_high"] - px]
            yerr = [py - single["loss_ci_low"], single["loss_ci_high"] - py]
            ax.errorbar(px, py, xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr), fmt="none", color=colour,
                        alpha=0.4, elinewidth=0.6)
        for r in single.itertuples():  # k of alt{k}
            ax.annotate(r.net_id[3:], (r.predictability, r.final_task_loss), xytext=(2, 2),
                        textcoords="offset points", fontsize=5, color=colour)
        x, y = mean["predictability"], mean["final_task_loss"]
        xerr = [[x - mean["predictability_ci_low"]], [mean["predictability_ci_high"] - x]]
        yerr = [[y - mean["loss_ci_low"]], [mean["loss_ci_high"] - y]]
        ax.errorbar(x, y, xerr=np.nan_to_num(xerr), yerr=np.nan_to_num(yerr), fmt=marker, ms=7, color=colour,
                    mec="k", mew=0.5, elinewidth=1, capsize=2,
                    label=", ".join(f"{a.split('.')[-1]}={mean[a]}" for a in axes))
    loss = tradeoff["final_task_loss"]
    if (loss > 0).all() and loss.max() >= 10 * loss.min():
        ax.set_yscale("log")
    ax.set_xlabel("null-space linear predictability new \u2192 earlier networks\n(lower = more decoupled)",
                  fontsize=8)
    ax.set_ylabel("final task loss", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    chains = int(tradeoff.loc[summary, "n_chains"].max())
    over = f"{chains} INSD chains" if chains > 1 else "its alternatives"
    ax.set_title(f"{study}: INSD trade-off between task loss and decoupling\n(large: mean over a condition's "
                 f"alternatives, 95% bootstrap interval over {over}; small: alternative k)", fontsize=8)
    fig.tight_layout()
    return fig

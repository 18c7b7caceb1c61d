"""Trend figures of a study: a measure against a factor axis, one line per family, 95% bootstrap bands."""

from __future__ import annotations

import numbers

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..netids import family_key
from .common import family_palette

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
    colours.update(zip(pairs, sns.color_palette("colorblind", max(len(pairs), 1))))
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
            if not numeric:
                ax.set_xticks(list(pos.values()), [str(v) for v in pos], rotation=30, ha="right")
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
        colours = dict(zip(facets, sns.color_palette("dark", max(len(facets), 1))))
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
            if not numeric:
                ax.set_xticks(list(pos.values()), [str(v) for v in pos], rotation=30, ha="right")
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
    fig.tight_layout()
    return fig

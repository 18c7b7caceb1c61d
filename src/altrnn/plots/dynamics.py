"""Fixed points, cycles, manifolds and basins in the PCA plane of each network's trajectories."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..netids import group_of
from .common import net_order, palette

STABILITY_MARKERS = {"stable": "o", "marginal": "D", "saddle": "X", "unstable": "^"}


def fixed_point_panels(points: dict[str, tuple[pd.DataFrame, dict]], task: str):
    """One panel per network: trajectories (grey) and points in PC1-PC2, marker by stability, colour by input.

    points: net_id -> (fixed_points table, fixed_points arrays) as written by the fixed_points rule.
    Slow points are drawn small and faint; cycles (ReLU, exact) as their orbits joined by lines.
    """
    nets = net_order(points)
    conditions = sorted({c for t, _ in points.values() for c in t["condition"]})
    colours = dict(zip(conditions, palette("qualitative", len(conditions))))
    ncols = min(4, len(nets))
    nrows = math.ceil(len(nets) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.0 * nrows), squeeze=False)
    for ax, net in zip(axes.flat, nets):
        table, arrays = points[net]
        traj = arrays["trajectories_pc"]
        ax.plot(traj[..., 0], traj[..., 1], color="0.8", lw=0.5, zorder=0)
        for row in table.itertuples():
            slow = row.kind == "slow"
            ax.scatter(row.pc1, row.pc2, marker=STABILITY_MARKERS[row.stability], s=10 if slow else 36,
                       color=colours[row.condition], alpha=0.4 if slow else 0.9,
                       edgecolor="k" if row.method == "exact" else "none", linewidth=0.6, zorder=2)
        orbit_rows = arrays["orbit_row"]
        for r in np.unique(orbit_rows):
            if table["period"].iloc[r] > 1:
                pc = (arrays["orbit"][orbit_rows == r] - arrays["pca_mean"]) @ arrays["pca_axes"][:2].T
                pc = np.vstack([pc, pc[:1]])
                ax.plot(pc[:, 0], pc[:, 1], color=colours[table["condition"].iloc[r]], lw=0.8, zorder=1)
        n_stable = int(((table["stability"] == "stable") & (table["kind"] != "slow")).sum())
        ax.set(title=f"{net} ({n_stable} stable)", xticks=[], yticks=[])
        ax.title.set_fontsize(8)
    for ax in axes.flat[len(nets):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], ls="", marker=m, color="0.3", label=k) for k, m in STABILITY_MARKERS.items()]
    handles += [plt.Line2D([], [], ls="", marker="s", color=c, label=f"input: {k}") for k, c in colours.items()]
    fig.legend(handles=handles, loc="lower center", ncol=min(8, len(handles)), fontsize=7, frameon=False)
    fig.suptitle(f"{task}: fixed points in the PCA plane of each network's trajectories (PC1, PC2)", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    return fig


def manifold_panels(nets: dict[str, tuple], task: str):
    """One panel per network: basins (ReLU), separatrices, unstable branches and fixed points in PC1-PC2.

    nets: net_id -> (points table, points arrays, manifolds table, manifolds arrays). ReLU networks
    show their first analysis input: basins shaded by attractor, the stable manifolds of saddles as
    the separatrices they are (black: where they cut the PC1-PC2 plane), the exact 1-D unstable
    branches (red) and the support points of higher-dimensional unstable manifolds (red dots).
    """
    names = net_order(nets)
    ncols = min(4, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 3.0 * nrows), squeeze=False)
    for ax, net in zip(axes.flat, names):
        points, parrays, table, marrays = nets[net]
        attractors = sorted(set(points.index[points["stability"] == "stable"]))
        colours = dict(zip(attractors, palette("hues", len(attractors))))
        pl = "basin_labels" in marrays
        shown = table.index
        if pl:
            labels, s1, s2 = (np.asarray(marrays[k]) for k in ("basin_labels", "basin_s1", "basin_s2"))
            if labels.ndim == 3:  # one map per input: the first
                labels, s1, s2 = labels[0], s1[0], s2[0]
            rgb = np.ones(labels.shape + (3,))
            for r, c in colours.items():
                rgb[labels == r] = 0.35 + 0.65 * np.asarray(c)  # light shade of the attractor's colour
            ax.imshow(rgb, origin="lower", extent=(s1[0], s1[-1], s2[0], s2[-1]), aspect="auto", zorder=0)
            first = str(np.asarray(marrays["condition_names"])[0]) if "condition_names" in marrays else None
            if first is not None:
                shown = table.index[table["condition"].astype(str) == first]
            if "separatrix" in marrays and len(marrays["separatrix"]):
                rows = np.asarray(marrays["separatrix_point"])
                keep = points["condition"].astype(str).to_numpy()[rows] == first if first is not None else rows >= 0
                for seg in np.asarray(marrays["separatrix"])[keep]:
                    ax.plot(seg[:, 0], seg[:, 1], color="k", lw=1.2, solid_capstyle="butt", zorder=2)
            ax.set(xlim=(s1[0], s1[-1]), ylim=(s2[0], s2[-1]))
        traj = parrays["trajectories_pc"]
        ax.plot(traj[..., 0], traj[..., 1], color="0.75", lw=0.4, zorder=1)
        branch = table["branch"] if "branch" in table else pd.Series(0, index=table.index)
        for i in shown:
            row = table.loc[i]
            curve = marrays["curves"][marrays["curve_row"] == i]
            if branch[i] < 0:  # a whole manifold of a ReLU network: its support points
                if row["kind"] == "unstable" and row.get("dimension", 1) > 1:
                    ax.scatter(curve[:, 0], curve[:, 1], s=1, color="tab:red", alpha=0.4, linewidth=0, zorder=2)
                continue
            colour = colours.get(row["reaches"], "0.4") if row["kind"] == "unstable" else "tab:blue"
            if pl and row["kind"] == "unstable":
                colour = "tab:red"
            reached = row["reaches"] >= 0 or row["kind"] == "stable" or pl
            ax.plot(curve[:, 0], curve[:, 1], color=colour, lw=1.0 if reached else 0.4,
                    alpha=1.0 if reached else 0.5, zorder=2)
        fixed = points[points["kind"] != "slow"]
        for row in fixed.itertuples():
            ax.scatter(row.pc1, row.pc2, marker=STABILITY_MARKERS[row.stability], s=30, zorder=3,
                       color=colours.get(row.Index, "k"), edgecolor="k", linewidth=0.5)
        n = int((branch[shown] < 0).sum()) if pl else len(table)
        ax.set(title=f"{net} ({n} {'manifolds' if pl else 'branches'})", xticks=[], yticks=[])
        ax.title.set_fontsize(8)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    handles = [plt.Line2D([], [], color="k", lw=1.2, label="separatrix (stable manifold)"),
               plt.Line2D([], [], color="tab:red", lw=1.0, label="unstable manifold")]
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=7, frameon=False)
    fig.suptitle(f"{task}: invariant manifolds of saddles (PC1, PC2)", fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    return fig


STABILITY_COLOURS = {"stable": "tab:blue", "marginal": "tab:green", "saddle": "tab:orange", "unstable": "tab:red"}


def spectrum_panels(nets: dict[str, tuple], task: str):
    """Jacobian eigenvalues of every fixed point, one column per family (std, ref, alt1, ...).

    nets: net_id -> (fixed_points table, fixed_points arrays, alpha). Top row: the map's
    eigenvalues with the unit circle; bottom row: the continuous-time ones, (lambda - 1) / alpha
    in units of 1/tau, with the imaginary axis. Colour: the fixed point's stability. Slow points and
    cycles are left out (a cycle's multipliers are not a fixed point's spectrum).
    """
    groups = {}
    for net in net_order(nets):
        groups.setdefault(group_of(net), []).append(net)
    fig, axes = plt.subplots(2, len(groups), figsize=(2.8 * len(groups), 5.6), squeeze=False)
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    for col, (family, members) in enumerate(groups.items()):
        top, bottom = axes[0, col], axes[1, col]
        top.plot(circle.real, circle.imag, color="0.5", lw=0.7, zorder=0)
        bottom.axvline(0, color="0.5", lw=0.7, zorder=0)
        n_points = 0
        for net in members:
            table, arrays, alpha = nets[net]
            rows = np.flatnonzero(((table["kind"] == "fixed") & (table["period"] == 1)).to_numpy())
            n_points += rows.size
            for r in rows:
                lam = arrays["eigvals"][r]
                colour = STABILITY_COLOURS[table["stability"].iloc[r]]
                top.scatter(lam.real, lam.imag, s=6, color=colour, alpha=0.6, linewidth=0)
                ct = (lam - 1) / alpha
                bottom.scatter(ct.real, ct.imag, s=6, color=colour, alpha=0.6, linewidth=0)
        top.set(title=f"{family}: {n_points} points, {len(members)} net(s)", aspect="equal",
                xlabel="Re $\\lambda$", ylabel="Im $\\lambda$" if col == 0 else None)
        bottom.set(xlabel="Re $\\lambda_{ct}$ (1/$\\tau$)", ylabel="Im $\\lambda_{ct}$" if col == 0 else None)
        for ax in (top, bottom):
            ax.title.set_fontsize(8)
            ax.tick_params(labelsize=7)
    handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=k) for k, c in STABILITY_COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7, frameon=False)
    fig.suptitle(f"{task}: Jacobian spectra of the fixed points (top: map, unit circle; "
                 "bottom: continuous time, imaginary axis)", fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    return fig

"""Figures of the mechanism tools of HMM-emulating networks (stage hmm_mechanism), one per tool and HMM.

Every function takes {table key: {net_id: DataFrame}} (stages.hmm_mechanism.TABLES) and the HMM's name.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..netids import net_order
from .common import palette

TV_KEYS = ("occupancy_tv", "transition_tv", "dwell_tv")


def _colours(nets) -> dict:
    return dict(zip(nets, palette("qualitative", len(nets))))


def fixed_points(frames: dict, label: str):
    """Leading eigenvalue of every zero-input fixed point in the complex plane, with the unit circle."""
    tables = frames["fixed_points"]
    nets = net_order(tables)
    colours = _colours(nets)
    fig, ax = plt.subplots(figsize=(4.2, 4))
    t = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.cos(t), np.sin(t), color="0.6", lw=0.8)
    for n in nets:
        tab = tables[n][tables[n]["kind"] == "fixed"]
        stable = tab["stability"] == "stable"
        for mask, marker, what in ((stable, "o", "stable"), (~stable, "x", "unstable")):
            if mask.any():
                ax.scatter(tab.loc[mask, "eig_real"], np.abs(tab.loc[mask, "eig_imag"]), marker=marker,
                           color=colours[n], label=f"{n}: {int(mask.sum())} {what}")
    ax.set_xlabel("Re lambda_1")
    ax.set_ylabel("|Im lambda_1|")
    ax.set_aspect("equal")
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(f"{label}: fixed points without input (leading eigenvalue)", fontsize=9)
    return fig


def orbit_radius(frames: dict, label: str):
    """Orbit radius (around the zero-input fixed point) and spread against the input-noise variance; dashed:
    the noise-free run (0 when the orbits need the noise)."""
    tables = frames["orbit_radius"]
    nets = net_order(tables)
    colours = _colours(nets)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), sharex=True)
    for n in nets:
        noisy = tables[n]["recurrent_noise"].astype(bool)
        tab, free = tables[n][noisy].sort_values("variance"), tables[n][~noisy]
        for ax, key in zip(axes, ("radius", "spread")):
            ax.plot(tab["variance"], tab[key], "o-", color=colours[n], label=n)
            ax.fill_between(tab["variance"], tab[f"{key}_low"], tab[f"{key}_high"], color=colours[n], alpha=0.25)
            for value in free[key]:
                ax.axhline(value, color=colours[n], ls="--", lw=1, label=f"{n}: no noise at all")
    axes[0].set_ylabel("RMS distance from the fixed point")
    axes[1].set_ylabel("RMS distance from the cloud's mean")
    for ax in axes:
        ax.set_xlabel("input noise variance")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{label}: noise-sustained orbits (95% bootstrap intervals over trials)", fontsize=9)
    return fig


def residency(frames: dict, label: str):
    """Per symbol the share of time in slow regions; speed of the noise-free flow at dwells and switches."""
    tables = frames["residency"]
    nets = net_order(tables)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    width = 0.8 / max(len(nets), 1)
    colours = _colours(nets)
    for k, n in enumerate(nets):
        tab = tables[n].astype({"group": str})
        sym = tab[~tab["group"].isin(["dwell", "switch", "all"])]
        x = np.arange(len(sym))
        axes[0].bar(x + k * width, sym["slow_fraction"], width, color=colours[n], label=n)
        axes[0].set_xticks(x + 0.4 - width / 2, sym["group"])
        moves = tab.set_index("group").loc[["dwell", "switch"]]
        axes[1].bar(np.arange(2) + k * width, moves["median_speed"], width, color=colours[n], label=n)
        axes[1].scatter(np.arange(2) + k * width, moves["mean_step"], color="k", marker="_", s=80, zorder=3)
        axes[1].axhline(tab["threshold"].iloc[0], color=colours[n], ls=":", lw=1)
    axes[0].set_xlabel("symbol")
    axes[0].set_ylabel("fraction of time in slow regions")
    axes[1].set_xticks(np.arange(2) + 0.4 - width / 2, ["dwell", "switch"])
    axes[1].set_ylabel("median |F(x) - x| (bars); step taken (dash)")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{label}: slow regions and transitions (dotted: slow threshold)", fontsize=9)
    return fig


def kick_units(frames: dict, label: str):
    """Every unit's largest change of the transition matrix when scaled, sorted, against the null threshold."""
    tables = frames["kick_units"]
    nets = net_order(tables)
    fig, axes = plt.subplots(len(nets), 1, figsize=(7, 2.4 * len(nets)), squeeze=False)
    for ax, n in zip(axes[:, 0], nets):
        tab = tables[n]
        colour = np.where(tab["kick"], "tab:red", "0.6")
        ax.bar(np.arange(len(tab)), tab["effect"], color=colour)
        ax.axhline(tab["threshold"].iloc[0], color="k", ls="--", lw=1, label="null threshold")
        ax.axhline(tab["null_mean"].iloc[0], color="k", ls=":", lw=1, label="null mean")
        top = tab.head(min(5, len(tab)))
        for i, (u, mu) in enumerate(zip(top["unit"], top["mu"])):
            ax.text(i, top["effect"].iloc[i], f"{u}\n{mu:g}", ha="center", va="bottom", fontsize=6)
        ax.set_ylabel("transition change (TV)")
        ax.set_title(f"{n}: {int(tab['kick'].sum())} kick units of {len(tab)}", fontsize=8)
    axes[-1, 0].set_xlabel("units by effect (label: unit, mu)")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{label}: unit ablation / amplification (common noise)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def training_phase(frames: dict, label: str):
    """Across snapshots: the leading eigenvalue modulus at the zero-input fixed point, and the TVs to the HMM."""
    tables = frames["training_phase"]
    nets = net_order(tables)
    colours = _colours(nets)
    fig, axes = plt.subplots(2, 1, figsize=(6, 5), sharex=True)
    for n in nets:
        tab = tables[n]
        axes[0].plot(tab["iteration"], tab["lead_modulus"], "o-", color=colours[n], label=n)
        j = 2
        while f"eig{j}_real" in tab:  # the rest of the leading eigenvalues, faint
            axes[0].plot(tab["iteration"], np.hypot(tab[f"eig{j}_real"], tab[f"eig{j}_imag"]), ".", alpha=0.4,
                         color=colours[n])
            j += 1
        for key, style in zip(TV_KEYS, ("-", "--", ":")):
            axes[1].plot(tab["iteration"], tab[key], style, color=colours[n], label=f"{n} {key[:-3]}")
    axes[0].axhline(1.0, color="0.5", lw=0.8)
    axes[0].set_ylabel("|lambda_1| (line), next ones (dots)")
    axes[1].set_ylabel("TV to the HMM")
    axes[1].set_xlabel("training iteration")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=6, ncol=2)
    fig.suptitle(f"{label}: training phase", fontsize=9)
    return fig


FIGURES = {"fixed_points": fixed_points, "orbit_radius": orbit_radius, "residency": residency,
           "kick_units": kick_units, "training_phase": training_phase}

"""Shared figure plumbing: network families, their colours, deterministic saving."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from ..io import atomic_path  # noqa: E402

_STD = re.compile(r"^std-g(?P<g>[0-9.]+)-s\d+$")


def family_of(net_id: str) -> str:
    """The family a network belongs to: `g=<g>` for standard networks, else `ref` or `alt<k>`."""
    m = _STD.match(net_id)
    return f"g={m['g']}" if m else net_id


def family_order(families) -> list[str]:
    """Standard families by g, then ref, then alternatives by k."""
    def key(f):
        if f.startswith("g="):
            return (0, float(f[2:]))
        if f == "ref":
            return (1, 0.0)
        return (2, float(f[3:]) if f[3:].isdigit() else 0.0)

    return sorted(set(families), key=key)


def family_palette(families) -> dict[str, tuple]:
    """Blues for standard families (light to dark with g), black for ref, reds for alternatives."""
    order = family_order(families)
    std = [f for f in order if f.startswith("g=")]
    alts = [f for f in order if f.startswith("alt")]
    colours = dict(zip(std, sns.color_palette("Blues", len(std) + 2)[2:]))
    colours.update(zip(alts, sns.color_palette("Reds", len(alts) + 2)[2:]))
    if "ref" in order:
        colours["ref"] = (0.0, 0.0, 0.0)
    return colours


def net_order(net_ids) -> list[str]:
    """Networks sorted by family, then name."""
    rank = {f: i for i, f in enumerate(family_order(map(family_of, net_ids)))}
    return sorted(net_ids, key=lambda n: (rank[family_of(n)], n))


def save_figure(fig, pdf_path, png_path=None, dpi: int = 150) -> None:
    """Write `fig` as PDF (and PNG) atomically; the same figure gives the same bytes every time."""
    for path, meta in ((pdf_path, {"CreationDate": None, "Producer": None}), (png_path, {"Software": None})):
        if path is None:
            continue
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix[1:], dpi=dpi, metadata=meta, bbox_inches="tight")
    plt.close(fig)

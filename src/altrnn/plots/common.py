"""Shared figure plumbing: network families, their colours, deterministic saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..io import atomic_path  # noqa: E402
from ..netids import family_of, family_order, net_order  # noqa: E402,F401  (the plots' vocabulary)


def palette(name: str, n: int) -> list[tuple]:
    """n RGB colours: evenly inside a sequential colormap (Blues, Reds, viridis), or a qualitative set.

    Plain matplotlib, so that a figure job that draws no seaborn plot does not import seaborn (and
    scipy.stats with it): seconds per job. `name` "qualitative" cycles tab10; "hues" spaces hues evenly.
    """
    n = max(int(n), 1)
    if name == "qualitative":
        return [tuple(matplotlib.colormaps["tab10"].colors[i % 10]) for i in range(n)]
    points = np.arange(n) / n if name == "hues" else np.linspace(0, 1, n + 2)[1:-1]
    cmap = matplotlib.colormaps["hsv" if name == "hues" else name]
    return [tuple(float(c) for c in cmap(x)[:3]) for x in points]


def family_palette(families) -> dict[str, tuple]:
    """Blues for standard families (light to dark with g; `std` for all of them), black for ref, reds for
    alternatives, greens for imported networks."""
    order = family_order(families)
    std = [f for f in order if f.startswith("g=")]
    alts = [f for f in order if f.startswith("alt")]
    imported = [f for f in order if f.startswith("imp-")]
    colours = dict(zip(std, palette("Blues", len(std) + 2)[2:]))
    if "std" in order:
        colours["std"] = palette("Blues", 4)[3]
    colours.update(zip(alts, palette("Reds", len(alts) + 2)[2:]))
    colours.update(zip(imported, palette("Greens", len(imported) + 2)[2:]))
    if "ref" in order:
        colours["ref"] = (0.0, 0.0, 0.0)
    return colours


def save_figure(fig, pdf_path, png_path=None, dpi: int = 150) -> None:
    """Write `fig` as PDF (and PNG) atomically; the same figure gives the same bytes every time."""
    for path, meta in ((pdf_path, {"CreationDate": None, "Producer": None}), (png_path, {"Software": None})):
        if path is None:
            continue
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix[1:], dpi=dpi, metadata=meta, bbox_inches="tight")
    plt.close(fig)

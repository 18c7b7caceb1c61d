"""Figure panels of the study: each function takes loaded results and returns a matplotlib Figure.

`save_figure` writes a figure as PDF and PNG, atomically and byte-for-byte
reproducibly. The workflow's figure rules and a notebook use the same functions.
"""

from .common import family_of, family_palette, save_figure

__all__ = ["family_of", "family_palette", "save_figure"]

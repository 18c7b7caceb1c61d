"""Stage `figures`: one panel of one unit (or the degeneracy summary) drawn from its result files.

Each panel imports its own plotting module, so that a figure job loads only what it draws (seaborn
and scipy.stats cost seconds per job, and only the ood and similarity panels use them).
"""

from __future__ import annotations

import pandas as pd

from .. import plots
from ..io import load_model, read_npz, read_table
from ..netids import net_of, unit_of


def draw_training(inp, label):
    from ..plots import training

    return training.training_curves({net_of(f): read_table(f) for f in inp.logs}, label)


def draw_predictability(inp, label):
    from ..plots import similarity

    return similarity.predictability_matrices(read_table(inp.table), label)


def draw_ood(inp, label):
    from ..plots import behaviour

    evals = pd.concat([read_table(f).assign(net_id=net_of(f)) for f in inp.evals], ignore_index=True)
    return behaviour.ood_performance(evals, label)


def draw_fixed_points(inp, label):
    from ..plots import dynamics

    points = {net_of(c): (read_table(c), read_npz(n)) for c, n in zip(inp.tables, inp.arrays)}
    return dynamics.fixed_point_panels(points, label)


def draw_manifolds(inp, label):
    from ..plots import dynamics

    nets = {}
    for pc, pa, mc, ma in zip(inp.points, inp.point_arrays, inp.tables, inp.arrays):
        nets[net_of(pc)] = (read_table(pc), read_npz(pa), read_table(mc), read_npz(ma))
    return dynamics.manifold_panels(nets, label)


def draw_spectra(inp, label):
    from ..plots import dynamics

    nets = {net_of(c): (read_table(c), read_npz(n), load_model(m).config.alpha)
            for c, n, m in zip(inp.tables, inp.arrays, inp.models)}
    return dynamics.spectrum_panels(nets, label)


def draw_dsa_mds(inp, label):
    from ..plots import similarity

    return similarity.mds_embedding(read_table(inp.mds), label, "DSA")


def draw_decoding(inp, label):
    from ..plots import decoding
    from .decoding import matrices

    arrays = read_npz(inp.matrices)
    return decoding.decoding_panels(read_table(inp.table), matrices(arrays), arrays["times"], label)


def draw_metric_gaming(inp, label):
    from ..plots import gaming

    from .gaming import read_gaming_table

    return gaming.metric_gaming(read_gaming_table(inp.table), label)


def draw_stress(inp, label):
    from ..plots import stress

    from ..analysis.stress_statistics import read_statistics

    stats = read_statistics(inp.stats)
    return stress.stress_panels(stats, label, stats["correction"].iloc[0], stats["alpha"].iloc[0])


def draw_insd_distance(inp, label):
    from ..plots import insd_distance

    return insd_distance.insd_distance_panels(read_table(inp.table), label)


def draw_degeneracy(inp, label):
    from ..plots import degeneracy

    return degeneracy.degeneracy_levels({unit_of(f): read_table(f) for f in inp.tables})


def draw_recordings(inp, label):
    from ..analysis.recordings import read_ranking
    from ..plots import recordings

    return recordings.recordings_ranking(read_ranking(inp.families), read_ranking(inp.networks), label)


PANELS = {"training": draw_training, "predictability": draw_predictability, "ood": draw_ood,
          "fixed_points": draw_fixed_points, "dsa_mds": draw_dsa_mds, "manifolds": draw_manifolds,
          "spectra": draw_spectra, "metric_gaming": draw_metric_gaming,
          "degeneracy": draw_degeneracy, "stress": draw_stress, "decoding": draw_decoding,
          "insd_distance": draw_insd_distance, "recordings": draw_recordings}


def figure_job(panel: str, inputs, label: str, pdf, png):
    """Draw `panel` from the named input files (a Snakemake input object or any object with those attributes)."""
    plots.save_figure(PANELS[panel](inputs, label), pdf, png)

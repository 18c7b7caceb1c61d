"""Draw one panel of one task from its result files (see workflow/rules/figures.smk)."""

from pathlib import Path

import pandas as pd

from altrnn import plots, runtime
from altrnn.io import read_npz
from altrnn.plots import behaviour, degeneracy, dynamics, similarity, training

runtime.configure(1, snakemake.log[0])
TASK = snakemake.wildcards.get("task", "")


def net_of(path):
    return Path(path).parent.name


def draw_training(inp):
    return training.training_curves({net_of(f): pd.read_csv(f) for f in inp.logs}, TASK)


def draw_predictability(inp):
    return similarity.predictability_matrices(pd.read_csv(inp.table), TASK)


def draw_ood(inp):
    evals = pd.concat([pd.read_csv(f).assign(net_id=net_of(f)) for f in inp.evals], ignore_index=True)
    return behaviour.ood_performance(evals, TASK)


def draw_fixed_points(inp):
    points = {net_of(c): (pd.read_csv(c), read_npz(n)) for c, n in zip(inp.tables, inp.arrays)}
    return dynamics.fixed_point_panels(points, TASK)


def draw_manifolds(inp):
    nets = {}
    for pc, pa, mc, ma in zip(inp.points, inp.point_arrays, inp.tables, inp.arrays):
        nets[net_of(pc)] = (pd.read_csv(pc), read_npz(pa), pd.read_csv(mc), read_npz(ma))
    return dynamics.manifold_panels(nets, TASK)


def draw_dsa_mds(inp):
    return similarity.mds_embedding(pd.read_csv(inp.mds), TASK, "DSA")


def draw_degeneracy(inp):
    return degeneracy.degeneracy_levels({Path(f).parent.name: pd.read_csv(f) for f in inp.tables})


PANELS = {"training": draw_training, "predictability": draw_predictability, "ood": draw_ood,
          "fixed_points": draw_fixed_points, "dsa_mds": draw_dsa_mds,
          "manifolds": draw_manifolds, "degeneracy": draw_degeneracy}


def main(p):
    fig = PANELS[p.panel](snakemake.input)
    plots.save_figure(fig, snakemake.output.pdf, snakemake.output.png)


runtime.run(main, snakemake.params)

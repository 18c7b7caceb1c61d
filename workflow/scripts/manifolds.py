"""Invariant manifolds of one network's saddles (and ReLU basins): manifolds.npz + manifolds.csv."""

import pandas as pd

from altrnn import dynamics, runtime
from altrnn.io import load_model, read_npz, write_csv, write_npz
from altrnn.tasks import make_task

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p, inp, out):
    task = make_task(p.task, p.task_params)
    table, arrays = dynamics.manifold_analysis(load_model(inp.model), task, pd.read_csv(inp.points),
                                               read_npz(inp.arrays), p.settings)
    write_npz(out.npz, **arrays)
    write_csv(table, out.csv)


runtime.run(main, snakemake.params, snakemake.input, snakemake.output)

"""Degeneracy of the standard networks of a task at three levels: behaviour, dynamics, weights."""

from pathlib import Path

import pandas as pd

from altrnn import comparison, runtime
from altrnn.io import load_model, write_csv

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p, out):
    evals = {Path(f).parent.name: pd.read_csv(f) for f in snakemake.input.evals}
    weights = {Path(f).parent.name: load_model(f).params.W for f in snakemake.input.models}
    table = comparison.degeneracy_table(evals, pd.read_csv(snakemake.input.dsa), weights)
    write_csv(table, out[0])


runtime.run(main, snakemake.params, snakemake.output)

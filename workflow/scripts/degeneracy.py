"""Degeneracy of the standard networks of a unit at three levels: altrnn.stages.degeneracy."""

from altrnn.stages import degeneracy, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
inp = snakemake.input
runtime.run(degeneracy.degeneracy_job, inp.evals, inp.models, inp.dsa, snakemake.output[0])

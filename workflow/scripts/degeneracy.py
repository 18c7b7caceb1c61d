"""Degeneracy of the standard networks of a unit at three levels and in SVCCA: altrnn.stages.degeneracy."""

from altrnn.stages import degeneracy, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
inp, par = snakemake.input, snakemake.params
runtime.run(degeneracy.degeneracy_job, par.task, par.task_params, par.settings, inp.evals, inp.models, inp.dsa,
            snakemake.output[0])

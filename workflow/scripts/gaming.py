"""Metric gaming: ref against copies of itself padded with noise units: altrnn.stages.gaming."""

from altrnn.stages import gaming, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
inp, out, par = snakemake.input, snakemake.output, snakemake.params
runtime.run(gaming.gaming_job, par.task, par.task_params, par.batch, par.settings, inp.model, out[0])

"""Linear decoding of the task's variables over time in every network of a unit: altrnn.stages.decoding."""

from altrnn.stages import decoding, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
inp, out, par = snakemake.input, snakemake.output, snakemake.params
runtime.run(decoding.decoding_job, par.task, par.task_params, par.settings, inp.models, out.table, out.matrices)

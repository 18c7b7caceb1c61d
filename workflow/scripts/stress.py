"""Every network of a unit at every stress level, and its wins and losses: altrnn.stages.stress."""

from altrnn.stages import runtime, stress

runtime.configure(snakemake.threads, snakemake.log[0])
p, out = snakemake.params, snakemake.output
runtime.run(stress.stress_job, p.task, p.task_params, p.settings, snakemake.input.models, p.standard_ids,
            out.table, out.stats)

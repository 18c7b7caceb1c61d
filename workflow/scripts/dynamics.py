"""Fixed points, cycles, manifolds and basins of one network: altrnn.stages.dynamics."""

from altrnn.stages import dynamics, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
p = snakemake.params
runtime.run(dynamics.dynamics_job, p.task, p.task_params, p.settings, snakemake.input.model, snakemake.output)

"""Tables and trend figures of one factor study: altrnn.stages.study."""

from altrnn.stages import runtime, study

runtime.configure(1, snakemake.log[0], numerics=False)
p = snakemake.params
runtime.run(study.study_job, snakemake.wildcards.study, p.axes, p.conditions, p.outdir, p.replicates)

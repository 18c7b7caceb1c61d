"""One factor's degeneracy trends across its studies: altrnn.stages.study.factor_job."""

from altrnn.stages import runtime, study

runtime.configure(1, snakemake.log[0], numerics=False)
out = snakemake.output
runtime.run(study.factor_job, snakemake.wildcards.factor, snakemake.params.studies, out.pdf, out.png, out.csv)

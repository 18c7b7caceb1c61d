"""Compile (or load from cache) the numba kernels of training or analysis jobs: altrnn.stages.kernels."""

from altrnn.stages import kernels, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
p = snakemake.params
runtime.run(kernels.kernels_job, p.stage, p.variants, snakemake.output[0], p.parallel)

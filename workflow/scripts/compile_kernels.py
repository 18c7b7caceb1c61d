"""Compile (or load from cache) the numba kernels of the training or of the analysis jobs."""

from altrnn import runtime
from altrnn.io import atomic_path
from altrnn.warmup import compile_analysis_kernels, compile_kernels

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p):
    lines = compile_kernels(p.variants) if p.stage == "training" else compile_analysis_kernels()
    with atomic_path(snakemake.output[0]) as tmp, open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")


runtime.run(main, snakemake.params)

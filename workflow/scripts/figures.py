"""Draw one panel of one unit from its result files: altrnn.stages.figures."""

from altrnn.stages import figures, runtime

runtime.configure(1, snakemake.log[0], numerics=False)
out = snakemake.output
runtime.run(figures.figure_job, snakemake.params.panel, snakemake.input, snakemake.wildcards.get("task", ""),
            out.pdf, out.png)

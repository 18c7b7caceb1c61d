"""Symbolic dynamics (altrnn.stages.symbolic): a piecewise-linear network's region tables, or (with output
`pdf`) the unit's figure."""

from altrnn.stages import runtime, symbolic

inp, out, par = snakemake.input, snakemake.output, snakemake.params
runtime.configure(snakemake.threads, snakemake.log[0], numerics="pdf" not in out.keys())  # figures: no BLAS
if "pdf" in out.keys():
    runtime.run(symbolic.figure_job, inp.tables, inp.edges, snakemake.wildcards.task, out.pdf, out.png)
else:
    runtime.run(symbolic.symbolic_job, par.task, par.task_params, par.settings, inp.model, inp.points,
                inp.point_arrays, out.table, out.edges)

"""Fixed points and cycles through training (altrnn.stages.bifurcations): a network's counts per snapshot,
or (with output `pdf`) the unit's figure."""

from altrnn.stages import bifurcations, runtime

inp, out, par = snakemake.input, snakemake.output, snakemake.params
runtime.configure(snakemake.threads, snakemake.log[0], numerics="pdf" not in out.keys())  # figures: no BLAS
if "pdf" in out.keys():
    runtime.run(bifurcations.figure_job, inp.tables, inp.logs, snakemake.wildcards.task, out.pdf, out.png)
else:
    runtime.run(bifurcations.bifurcation_job, par.task, par.task_params, par.settings, par.inputs, inp.model,
                inp.snapshots, out.table)

"""AL-RNN surrogate (altrnn.stages.surrogate): one network's fit and matches, or (with output `pdf`) the
unit's figure."""

from altrnn.stages import runtime, surrogate

runtime.configure(snakemake.threads, snakemake.log[0])
inp, out, par = snakemake.input, snakemake.output, snakemake.params
if "pdf" in out.keys():
    runtime.run(surrogate.figure_job, inp.tables, inp.npz, inp.point_arrays, snakemake.wildcards.task, out.pdf,
                out.png)
else:
    runtime.run(surrogate.surrogate_job, par.task, par.task_params, par.settings, inp.model, inp.points,
                inp.point_arrays, inp.manifolds, out.npz, out.table, out.fit)

"""Dynamical-systems reconstruction (altrnn.stages.dsr): a system's data, a network's fit and scores, or (with
output `pdf`) the network's figure."""

from altrnn.stages import dsr, runtime

inp, out, par, w = snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards
if "pdf" in out.keys():
    runtime.configure(1, snakemake.log[0], numerics=False)
    runtime.run(dsr.figure_job, w.system, w.net_id, inp.generated, inp.metrics, inp.table, inp.edges, out.pdf,
                out.png)
elif "data" in out.keys():
    runtime.configure(1, snakemake.log[0], numerics=False)  # scipy's integrator only
    runtime.run(dsr.data_job, par.spec, out.data)
else:
    runtime.configure(snakemake.threads, snakemake.log[0])
    runtime.run(dsr.fit_job, w.system, inp.data, par.settings, par.teacher_forcing, par.seed, par.net_id, out.model,
                out.log, out.metrics, out.table, out.edges, out.generated)

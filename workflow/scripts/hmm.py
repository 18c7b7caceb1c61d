"""HMM emulation (altrnn.stages.hmm): train one network, evaluate it, summarise which HMMs reach the tolerance
(output `fit`), or (with output `pdf`) draw the HMM's figure."""

from altrnn.stages import hmm, runtime

inp, out, par = snakemake.input, snakemake.output, snakemake.params
if "pdf" in out.keys():
    runtime.configure(snakemake.threads, snakemake.log[0], numerics=False)
    runtime.run(hmm.figure_job, snakemake.wildcards.hmm, par.tolerance, inp.logs, inp.evals, inp.statistics,
                out.pdf, out.png)
elif "fit" in out.keys():
    runtime.configure(snakemake.threads, snakemake.log[0], numerics=False)
    runtime.run(hmm.fit_job, par.tolerances, inp.evals, out.fit)
elif "eval" in out.keys():
    runtime.configure(snakemake.threads, snakemake.log[0])
    runtime.run(hmm.evaluate_job, par.evaluation, inp.model, out.eval, out.statistics)
else:
    runtime.configure(snakemake.threads, snakemake.log[0])
    runtime.run(hmm.train_job, par.hmm, par.network, par.generative, par.snapshot_every, par.seed, par.net_id,
                out.model, out.log, out.time, out.snapshots)

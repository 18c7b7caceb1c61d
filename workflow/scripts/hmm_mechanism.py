"""Mechanism tools of HMM-emulating networks (altrnn.stages.hmm_mechanism): one network's tables, or (with
figure outputs) the HMM's figures."""

from altrnn.stages import hmm_mechanism, runtime

inp, out, par = snakemake.input, snakemake.output, snakemake.params
figures = "fixed_points_pdf" in out.keys()
runtime.configure(snakemake.threads, snakemake.log[0], numerics=not figures)
if figures:
    tables = {key: list(inp[key]) for key in hmm_mechanism.TABLES}
    outputs = {name: (out[f"{name}_pdf"], out[f"{name}_png"]) for name in hmm_mechanism.FIGURES}
    runtime.run(hmm_mechanism.figure_job, snakemake.wildcards.hmm, tables, outputs)
else:
    runtime.run(hmm_mechanism.mechanism_job, par.settings, inp.model, inp.snapshots,
                {key: out[key] for key in hmm_mechanism.TABLES})

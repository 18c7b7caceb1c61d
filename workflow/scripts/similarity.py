"""Comparisons over all networks of a unit: altrnn.stages.similarity.

Rule linear_predictability writes one table; rule similarity_metric writes a
metric's table and its MDS embedding.
"""

from altrnn.stages import runtime, similarity

runtime.configure(snakemake.threads, snakemake.log[0])
p, inp, out = snakemake.params, snakemake.input, snakemake.output
if snakemake.rule == "linear_predictability":
    runtime.run(similarity.predictability_job, p.task, p.task_params, p.settings, inp.models, out[0])
else:
    runtime.run(similarity.metric_job, p.task, p.task_params, snakemake.wildcards.metric, p.settings, inp.models,
                out.table, out.mds)

"""Evaluate one network in and out of distribution (eval.csv): altrnn.stages.evaluate."""

from altrnn.stages import evaluate, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
p = snakemake.params
runtime.run(evaluate.evaluate_network, p.task, p.task_params, p.settings, snakemake.input.model, snakemake.output[0])

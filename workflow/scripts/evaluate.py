"""Evaluate one network in and out of distribution: eval.csv."""

from altrnn import experiment, runtime
from altrnn.tasks import make_task

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p):
    task = make_task(p.task, p.task_params)
    experiment.evaluate_and_save(snakemake.input.model, task, p.n_trials, p.seed, snakemake.output[0])


runtime.run(main, snakemake.params)

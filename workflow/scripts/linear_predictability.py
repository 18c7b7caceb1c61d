"""Linear predictability matrix over all networks of a task (full and null-space rates)."""

from pathlib import Path

from altrnn import experiment, runtime
from altrnn.io import load_model, write_csv
from altrnn.tasks import make_task

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p):
    task = make_task(p.task, p.task_params)
    models = {Path(f).parent.name: load_model(f) for f in snakemake.input.models}
    o = p.options
    table = experiment.linear_predictability_table(models, task, o["n_trials"], o["seed"], o["test_fraction"],
                                                   o["rho"])
    write_csv(table, snakemake.output[0])


runtime.run(main, snakemake.params)

"""One similarity metric over all networks of a task, and the classical MDS of its distances."""

from pathlib import Path

from altrnn import comparison, runtime
from altrnn.io import load_model, write_csv
from altrnn.tasks import make_task

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p, out):
    task = make_task(p.task, p.task_params)
    models = {Path(f).parent.name: load_model(f) for f in snakemake.input.models}
    metric = snakemake.wildcards.metric
    table = comparison.similarity_table(models, task, metric, p.n_trials, p.seed, p.options)
    write_csv(table, out.table)
    write_csv(comparison.mds_table(table, metric), out.mds)


runtime.run(main, snakemake.params, snakemake.output)

"""Fixed, slow and (ReLU) exact points and cycles of one network: fixed_points.npz + fixed_points.csv."""

from altrnn import dynamics, runtime
from altrnn.io import load_model, write_csv, write_npz
from altrnn.tasks import make_task

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p, out):
    task = make_task(p.task, p.task_params)
    table, arrays = dynamics.fixed_point_analysis(load_model(snakemake.input.model), task, p.settings)
    write_npz(out.npz, **arrays)
    write_csv(table, out.csv)


runtime.run(main, snakemake.params, snakemake.output)

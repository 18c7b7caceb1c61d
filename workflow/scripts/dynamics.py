"""Fixed points, cycles, manifolds and basins of one network: fixed_points.csv|npz, manifolds.csv|npz."""

from altrnn import dynamics, runtime
from altrnn.io import load_model, write_csv, write_npz
from altrnn.tasks import make_task

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p, out):
    task = make_task(p.task, p.task_params)
    saved = load_model(snakemake.input.model)
    points, point_arrays = dynamics.fixed_point_analysis(saved, task, p.settings)
    manifolds, manifold_arrays = dynamics.manifold_analysis(saved, task, points, point_arrays, p.settings)
    write_npz(out.point_arrays, **point_arrays)
    write_csv(points, out.points)
    write_npz(out.manifold_arrays, **manifold_arrays)
    write_csv(manifolds, out.manifolds)


runtime.run(main, snakemake.params, snakemake.output)

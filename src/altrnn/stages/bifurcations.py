"""Stage `bifurcations`: fixed points and cycles of every training snapshot of a network, and their figure.

Needs train.snapshot_every > 0 (the training job then writes snapshots.npz).
Each snapshot is run noise-free on one batch of the task's trials (the same
batch for every snapshot); its visited states seed the search
(analysis.bifurcations) under each constant input of the dynamics stage
(`dynamics.inputs`, else the task's own). The figure draws the counts of every
network of a unit above its loss curve.
"""

from __future__ import annotations

import logging

import numpy as np

from ..analysis import bifurcations
from ..config import BifurcationsConfig, parse_section
from ..io import load_model, read_npz, read_table, write_csv
from ..netids import net_of

log = logging.getLogger("altrnn.stages.bifurcations")


def track_network(saved, snapshots: dict, task, settings=None, inputs=None):
    """The counts table (analysis.bifurcations.TABLE_COLUMNS) of one network's snapshots.

    saved: the network's SavedModel (its ModelConfig); snapshots: the arrays of snapshots.npz;
    settings: the bifurcations section (max_period, n_trials, n_initial, seed); inputs: {name: u}
    overriding the task's analysis inputs.
    """
    from ..model import forward  # here, so that the figure job never loads the training kernels

    s = settings if isinstance(settings, BifurcationsConfig) else parse_section(BifurcationsConfig, settings,
                                                                                  "bifurcations")
    cfg = saved.config
    if inputs:
        inputs = {str(k): np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    else:
        inputs = task.analysis_inputs()
    for name, u in inputs.items():
        if u.shape != (cfg.n_in,):
            raise ValueError(f"dynamics.inputs.{name}: {u.size} values, but the network has {cfg.n_in} inputs")
    batch = task.batch(s.n_trials, np.random.default_rng(s.seed))

    def visited(params):
        return forward(params.astype(cfg.np_dtype), cfg, batch.inputs).x.astype(np.float64)

    snaps = bifurcations.snapshot_list(snapshots)
    table = bifurcations.track(snaps, cfg, inputs, visited, max_period=s.max_period, n_initial=s.n_initial,
                               seed=s.seed)
    changes = bifurcations.count_changes(table)
    log.info("%d snapshots, %d inputs: %d intervals with a change in the counts", len(snaps), len(inputs),
             len(changes))
    for row in changes.itertuples():
        log.info("%s, iterations %d-%d: %s", row.condition, row.iteration_before, row.iteration_after, row.change)
    return table


def bifurcation_job(kind: str, task_params: dict, settings: dict, inputs, model_path, snapshots_path, out_csv):
    """The workflow's per-network job: model.npz + snapshots.npz -> bifurcations.csv."""
    from ..tasks import make_task

    saved = load_model(model_path)
    table = track_network(saved, read_npz(snapshots_path), make_task(kind, task_params), settings, inputs)
    write_csv(table, out_csv)


def figure_job(table_paths, log_paths, label: str, pdf_path, png_path):
    """The workflow's per-unit figure: counts of each network above its loss curve (plots.bifurcations)."""
    from ..plots import bifurcations as plot
    from ..plots.common import save_figure

    tables = {net_of(f): read_table(f) for f in table_paths}
    logs = {net_of(f): read_table(f) for f in log_paths}
    missing = sorted(set(tables) - set(logs))
    if missing:
        raise ValueError(f"no train_log.csv for network(s) {missing}")
    save_figure(plot.bifurcation_panels(tables, logs, label), pdf_path, png_path)

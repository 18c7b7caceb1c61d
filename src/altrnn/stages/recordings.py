"""Stage `recordings`: rank every network of a unit (and its family) by how well it matches recorded activity.

Every network (standard, ref, alt-k, imported: the unit's whole list) runs
noise-free on the recorded trials' inputs; analysis.recordings compares its
rates with the recording by each metric, with bootstrap intervals over the
recorded trials and a split-half noise ceiling. Writes a network table and a
family table; the figure is drawn from the family table (plots.recordings).
"""

from __future__ import annotations

import logging

import numpy as np

from ..analysis import recordings
from ..io import load_model, write_csv
from ..model import forward
from ..netids import net_of
from ..tasks import make_task

log = logging.getLogger("altrnn.stages.recordings")


def network_rates(models: dict, inputs) -> dict:
    """Noise-free rates r[1..T] (T, n_trials, N) of every network on the recorded trials' inputs."""
    return {name: forward(m.params, m.config, np.asarray(inputs)).r[1:].astype(np.float64)
            for name, m in models.items()}


def recordings_job(kind: str, params: dict, settings: dict, options: dict, recording_path, model_paths,
                   networks_csv, families_csv):
    """The workflow's recordings job; settings: the recordings section, options: the similarity metric options.

    Both tables are computed before either is written, so a failure leaves neither.
    """
    task = make_task(kind, params)
    recording = recordings.load_recording(recording_path, task.n_in)
    models = {net_of(f): load_model(f) for f in model_paths}
    log.info("%s: activity %s, %d conditions; %d networks", recording_path, recording.activity.shape,
             len(recording.groups), len(models))
    nets, fams = recordings.rank_hypotheses(
        network_rates(models, recording.inputs), recording, settings["metrics"], options=options,
        n_boot=settings["n_boot"], n_splits=settings["n_splits"], n_folds=settings["n_folds"],
        rho=settings["rho"], level=settings["level"], seed=settings["seed"])
    for (metric, direction), best in fams[fams["rank"] == 1].groupby(["metric", "direction"])["family"]:
        log.info("%s (%s): best family %s", metric, direction, ", ".join(best))
    write_csv(nets, networks_csv)
    write_csv(fams, families_csv)

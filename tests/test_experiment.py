"""Every task through the package's own pipeline: a few training steps, evaluation, fixed points, comparison."""

import numpy as np
import pytest

from altrnn import comparison, dynamics, experiment
from altrnn.io import SavedModel
from altrnn.model import ModelConfig
from altrnn.tasks import TASKS, make_task
from altrnn.train import TrainConfig, train


@pytest.mark.parametrize("name", sorted(TASKS))
def test_each_task_trains_evaluates_and_has_fixed_points(name):
    task = make_task(name)
    cfg = ModelConfig(n_in=task.n_in, n_rec=12, n_out=task.n_out, dtype="float64")
    nets = {f"s{seed}": SavedModel(train(task, cfg, TrainConfig(batch_size=8, max_iters=3), g=1.0, seed=seed).params,
                                   cfg, {}) for seed in (0, 1)}
    ev = experiment.evaluate(nets["s0"], task, n_trials=16, seed=0)
    assert list(ev.columns[:3]) == experiment.EVAL_COLUMNS
    assert ev["condition"].iloc[0] == "in_distribution" and ev["loss"].notna().all()
    extra = {"hmm": {"symbol_match"}, "sinewave": {"frequency_error"}}.get(name, set())
    assert extra <= set(ev.columns[3:]) and (extra or len(ev.columns) == 3)
    points, arrays = dynamics.fixed_point_analysis(nets["s0"], task, {"n_trials": 4, "n_initial": 16, "max_iters": 200})
    assert list(points.columns) == dynamics.POINT_COLUMNS
    assert set(points["condition"]) <= set(task.analysis_inputs())
    assert arrays["x"].shape == (len(points), 12)
    table = comparison.similarity_table(nets, task, "cka", n_trials=4, seed=0)
    assert len(table) == 4 and np.allclose(table.loc[table.net_a == table.net_b, "value"], 1.0)

"""Every task through the package's own pipeline: a few training steps, evaluation, fixed points, comparison."""

import numpy as np
import pytest

from altrnn.stages import dynamics, evaluate, similarity
from altrnn.io import SavedModel
from altrnn.model import ModelConfig
from altrnn.tasks import GENERATORS, make_task
from altrnn.train import TrainConfig, train


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_each_task_trains_evaluates_and_has_fixed_points(name):
    task = make_task(name)
    cfg = ModelConfig(n_in=task.n_in, n_rec=12, n_out=task.n_out, dtype="float64")
    nets = {f"s{seed}": SavedModel(train(task, cfg, TrainConfig(batch_size=8, max_iters=3), g=1.0, seed=seed).params,
                                   cfg, {}) for seed in (0, 1)}
    ev = evaluate.evaluate(nets["s0"], task, n_trials=16, seed=0)
    assert list(ev.columns[:3]) == evaluate.EVAL_COLUMNS
    assert ev["condition"].iloc[0] == "in_distribution" and ev["loss"].notna().all()
    extra = {"hmm": {"symbol_match"}, "sinewave": {"frequency_error"}}.get(name, set())
    assert extra <= set(ev.columns[3:]) and (extra or len(ev.columns) == 3)
    points, arrays = dynamics.fixed_point_analysis(nets["s0"], task, {"n_trials": 4, "n_initial": 16, "max_iters": 200})
    assert list(points.columns) == dynamics.POINT_COLUMNS
    assert set(points["condition"]) <= set(task.analysis_inputs())
    assert arrays["x"].shape == (len(points), 12)
    table = similarity.similarity_table(nets, task, "cka", n_trials=4, seed=0)
    assert len(table) == 4 and np.allclose(table.loc[table.net_a == table.net_b, "value"], 1.0)


@pytest.fixture(scope="module")
def relu_flipflop():
    task = make_task("flipflop", {"n_bits": 2, "T": 60})
    cfg = ModelConfig(n_in=2, n_rec=16, n_out=2, activation="relu", dtype="float64")
    result = train(task, cfg, TrainConfig(batch_size=32, lr=0.01, max_iters=300), g=1.0, seed=0)
    return SavedModel(result.params, cfg, {}), task


def test_relu_network_exact_and_optimised_points_agree_and_basins_name_them(relu_flipflop):
    saved, task = relu_flipflop
    points, arrays = dynamics.fixed_point_analysis(saved, task, {"n_initial": 128})
    stable = {m: arrays["x"][((points["method"] == m) & (points["kind"] == "fixed")
                              & (points["stability"] == "stable")).to_numpy()] for m in ("exact", "optimised")}
    assert len(stable["exact"]) >= 2 and len(stable["exact"]) == len(stable["optimised"])
    for x in stable["optimised"]:
        assert np.min(np.linalg.norm(stable["exact"] - x, axis=1)) < 1e-8
    table, m, _ = dynamics.manifold_analysis(saved, task, points, arrays)
    exact_stable = set(np.flatnonzero(((points["method"] == "exact") & (points["stability"] == "stable")).to_numpy()))
    labels = set(np.unique(m["basin_labels"])) - {-1}
    assert labels and labels <= exact_stable
    assert m["basin_labels"].shape == (1, 60, 60) and (m["basin_labels"] >= 0).mean() > 0.9
    unstable = table[(table["kind"] == "unstable") & (table["branch"] >= 0)]  # the exact 1-D branches
    assert len(unstable) > 0
    for i, row in unstable.iterrows():
        saddle = points.iloc[row["point"]]
        assert saddle["stability"] == "saddle" and saddle["n_unstable"] == 1 and saddle["method"] == "exact"
        start = m["curves"][m["curve_row"] == i][0]
        np.testing.assert_allclose(start, saddle[["pc1", "pc2", "pc3"]].to_numpy(dtype=float), atol=1e-9)

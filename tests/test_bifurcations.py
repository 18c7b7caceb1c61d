"""Fixed points and cycles through training: one-parameter families with known bifurcation points."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from altrnn.analysis import bifurcations, plrnn
from altrnn.analysis.stability import rnn_map
from altrnn.model.network import ModelConfig, Params


def one_unit(activation, w, h, alpha):
    cfg = ModelConfig(n_in=1, n_rec=1, n_out=1, activation=activation, alpha=alpha, dtype="float64")
    return Params(W_in=np.zeros((1, 1)), W=np.array([[w]]), b=np.array([h]), W_out=np.ones((1, 1)),
                  b_out=np.zeros(1)), cfg


def simulate(params, cfg, n=12, T=60, seed=0):
    """States visited from spread-out initial states: the search's seeds, (T+1, n, N)."""
    x = [np.random.default_rng(seed).uniform(-3, 3, (n, cfg.n_rec))]
    for _ in range(T):
        x.append(rnn_map(params, cfg, x[-1], np.zeros(cfg.n_in)))
    return np.array(x)


def family(activation, values, build, alpha):
    """Snapshots (iteration i, parameter values[i]) of a one-parameter family and its ModelConfig."""
    snaps = [(i, build(v)[0]) for i, v in enumerate(values)]
    return snaps, build(values[0])[1]


def test_tanh_pitchfork_at_unit_gain():
    # x -> (1-a) x + a w tanh(x): one stable point (0) for w < 1; for w > 1 the origin is unstable and
    # two stable points +-x*, x* = w tanh(x*), appear: a pitchfork at w = 1
    ws = np.round(np.arange(0.55, 1.5, 0.1), 2)
    snaps, cfg = family("tanh", ws, lambda w: one_unit("tanh", w, 0.0, 0.2), 0.2)
    table = bifurcations.track(snaps, cfg, {"zero": np.zeros(1)}, lambda p: simulate(p, cfg, T=5), seed=1)
    assert list(table.columns) == bifurcations.TABLE_COLUMNS and len(table) == len(ws)
    for w, row in zip(ws, table.itertuples()):
        # independent count: roots of w tanh(x) - x on a bracket grid
        grid = np.linspace(-5, 5, 2001) + 1e-7
        f = w * np.tanh(grid) - grid
        n_roots = int(np.sum(np.sign(f[:-1]) != np.sign(f[1:])))
        assert row.n_fixed == n_roots == (1 if w < 1 else 3), w
        if w > 1:
            x_star = brentq(lambda x: w * np.tanh(x) - x, 1e-3, 10)
            assert x_star > 0 and row.fixed_stable == 2 and row.fixed_unstable == 1
        else:
            assert row.fixed_stable == 1
    changes = bifurcations.count_changes(table)
    assert len(changes) == 1
    before, after = ws[changes.iteration_before[0]], ws[changes.iteration_after[0]]
    assert before < 1 < after
    assert "fixed_stable 1->2" in changes.change[0] and "fixed_unstable 0->1" in changes.change[0]


def test_relu_border_collision_at_zero_bias():
    # x -> 0.8 x + 0.2 (1.5 relu(x) + h): for h < 0 a stable point x = h and an unstable one x = -2h meet at
    # the switching boundary when h = 0 and vanish (a border-collision fold); brute force over the regions agrees
    hs = np.round(np.arange(-0.45, 0.5, 0.1), 2)
    build = lambda h: one_unit("relu", 1.5, h, 0.2)  # noqa: E731
    snaps, cfg = family("relu", hs, build, 0.2)
    table = bifurcations.track(snaps, cfg, {"zero": np.zeros(1)}, lambda p: simulate(p, cfg), max_period=1)
    for h, row in zip(hs, table.itertuples()):
        p, _ = build(h)
        brute = plrnn.enumerate_fixed_points(p, cfg, np.zeros(1))
        assert row.n_fixed == len(brute) == (2 if h < 0 else 0), h
        assert row.fixed_stable == (1 if h < 0 else 0) and row.fixed_unstable == (1 if h < 0 else 0)
    changes = bifurcations.count_changes(table)
    assert len(changes) == 1 and hs[changes.iteration_before[0]] < 0 < hs[changes.iteration_after[0]]


def test_relu_flip_to_a_two_cycle_at_unit_slope():
    # a = 1, x -> h - s relu(x), h = 1: the fixed point h / (1 + s) has multiplier -s; for s > 1 it is unstable
    # and the 2-cycle {h, h (1 - s)} (product multiplier 0, stable) exists, for s < 1 it does not
    ss = [0.5, 0.7, 0.9, 1.1, 1.3, 1.5]
    build = lambda s: one_unit("relu", -s, 1.0, 1.0)  # noqa: E731
    snaps, cfg = family("relu", ss, build, 1.0)
    table = bifurcations.track(snaps, cfg, {"zero": np.zeros(1)}, lambda p: simulate(p, cfg), max_period=3)
    for s, row in zip(ss, table.itertuples()):
        p, _ = build(s)
        brute = plrnn.enumerate_cycles(p, cfg, np.zeros(1), period=2)
        assert row.n_cycles == len(brute) == (1 if s > 1 else 0), s
        assert row.n_fixed == 1 and row.fixed_stable == (1 if s < 1 else 0) and row.cycle_stable == row.n_cycles
        if s > 1:
            np.testing.assert_allclose(np.sort(brute.orbits[0][:, 0]), [1 - s, 1.0], atol=1e-12)
    changes = bifurcations.count_changes(table)
    assert changes[["iteration_before", "iteration_after"]].values.tolist() == [[2, 3]]


def test_snapshot_list_and_bad_input():
    p, _ = one_unit("relu", 0.5, 1.0, 0.2)
    arrays = {"iteration": np.array([0, 10]), **{k: np.stack([v, 2 * v]) for k, v in p.as_dict().items()}}
    snaps = bifurcations.snapshot_list(arrays)
    assert [it for it, _ in snaps] == [0, 10] and snaps[1][1].W[0, 0] == 1.0
    with pytest.raises(ValueError, match="W_out"):
        bifurcations.snapshot_list({k: v for k, v in arrays.items() if k != "W_out"})
    with pytest.raises(ValueError, match="one entry per iteration"):
        bifurcations.snapshot_list({**arrays, "b": arrays["b"][:1]})


def test_count_changes_per_condition():
    base = {c: 0 for c in bifurcations.COUNT_COLUMNS}
    rows = [{"iteration": it, "condition": c, "n_fixed": n, "n_cycles": 0, **base, "fixed_stable": n}
            for c, ns in (("a", [1, 1, 2]), ("b", [3, 1, 1])) for it, n in zip([0, 5, 10], ns)]
    changes = bifurcations.count_changes(pd.DataFrame(rows))
    assert changes.values.tolist() == [["a", 5, 10, "fixed_stable 1->2"], ["b", 0, 5, "fixed_stable 3->1"]]


def test_stage_on_a_trained_relu_network_against_brute_force(tmp_path):
    # a small ReLU flip-flop trained with snapshots; the last snapshot's fixed points are all 2^8 regions' solutions
    from altrnn.io import load_model, read_npz, read_table
    from altrnn.stages import bifurcations as stage
    from altrnn.stages import train as train_stage
    from altrnn.tasks import make_task
    from altrnn.train import TrainConfig

    task = make_task("flipflop", {"T": 20, "n_bits": 2})
    cfg = ModelConfig(n_in=task.n_in, n_rec=8, n_out=task.n_out, activation="relu", dtype="float64")
    tc = TrainConfig(batch_size=16, lr=1e-2, max_iters=60, log_every=10, snapshot_every=20)
    paths = {k: tmp_path / k for k in ("model.npz", "train_log.csv", "snapshots.npz", "bifurcations.csv")}
    train_stage.train_and_save(task, cfg, tc, 1.0, 0, "std-g1-s0", paths["model.npz"], paths["train_log.csv"],
                               snapshots_path=paths["snapshots.npz"])
    saved = load_model(paths["model.npz"])
    stage.bifurcation_job("flipflop", task.params, {"max_period": 1, "n_trials": 8}, None, paths["model.npz"],
                          paths["snapshots.npz"], paths["bifurcations.csv"])
    table = read_table(paths["bifurcations.csv"])
    assert table["iteration"].tolist() == [0, 20, 40, 60] and set(table["condition"]) == {"zero"}
    brute = plrnn.enumerate_fixed_points(saved.params, saved.config, np.zeros(task.n_in))
    last = table.iloc[-1]
    assert last["n_fixed"] == len(brute)
    assert last["fixed_stable"] == sum(st.kind == "stable" for st in brute.stability)
    assert last["n_cycles"] == 0  # max_period 1
    first = bifurcations.snapshot_list(read_npz(paths["snapshots.npz"]))[0][1]
    assert table.iloc[0]["n_fixed"] == len(plrnn.enumerate_fixed_points(first, saved.config, np.zeros(task.n_in)))
    # the figure: one column per network, a dotted line per change in both rows
    pdf, png = tmp_path / "f.pdf", tmp_path / "f.png"
    other = tmp_path / "ref"
    other.mkdir()
    shifted = table.assign(fixed_stable=table["fixed_stable"] + np.arange(4) // 2)  # one change: 20 -> 40
    shifted.to_csv(other / "bifurcations.csv", index=False)
    (other / "train_log.csv").write_bytes(paths["train_log.csv"].read_bytes())
    from altrnn.plots.bifurcations import bifurcation_panels, change_iterations
    assert change_iterations(shifted).tolist() == sorted(set(change_iterations(table).tolist()) | {40})
    fig = bifurcation_panels({"a": table, "ref": shifted}, {"a": read_table(paths["train_log.csv"]),
                                                            "ref": read_table(paths["train_log.csv"])}, "flipflop")
    n_lines = [sum(line.get_linestyle() == ":" for line in ax.get_lines()) for ax in fig.axes]
    assert n_lines == [len(change_iterations(table))] * 2 + [len(change_iterations(shifted))] * 2 or \
        n_lines == [len(change_iterations(table)), len(change_iterations(shifted))] * 2
    stage.figure_job([paths["bifurcations.csv"], other / "bifurcations.csv"],
                     [paths["train_log.csv"], other / "train_log.csv"], "flipflop", pdf, png)
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0


def test_workflow_plans_snapshots_and_bifurcations_only_where_enabled(tmp_path):
    import copy

    from tiny import TINY, planned_outputs, write_config

    cfg = copy.deepcopy(TINY)
    cfg["tasks"]["flipflop"].update({"model": {"activation": "relu"}, "train": {"snapshot_every": 10}})
    write_config(tmp_path, cfg)
    planned = planned_outputs(tmp_path)
    nets = ["std-g1-s0", "std-g1.5-s0", "ref", "alt1"]
    assert sorted(f for f in planned if "snapshots" in f) == sorted(
        f"results/flipflop/nets/{n}/snapshots.npz" for n in nets)
    assert sorted(f for f in planned if "bifurcations" in f) == sorted(
        [f"results/flipflop/nets/{n}/bifurcations.csv" for n in nets]
        + [f"results/figures/flipflop_bifurcations.{e}" for e in ("pdf", "png")])

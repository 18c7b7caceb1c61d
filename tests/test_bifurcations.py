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

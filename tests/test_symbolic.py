"""Symbolic dynamics of piecewise-linear networks: known shifts, and the tent map built as an AL-RNN."""

import numpy as np
import pytest

from altrnn.analysis import plrnn, symbolic
from altrnn.analysis.stability import rnn_map
from altrnn.model import ModelConfig, Params

GOLDEN = (1 + np.sqrt(5)) / 2
U = np.zeros(1)


def test_entropy_of_known_shifts():
    assert symbolic.topological_entropy(np.ones((2, 2))) == pytest.approx(np.log(2), abs=1e-12)
    assert symbolic.topological_entropy(np.ones((3, 3))) == pytest.approx(np.log(3), abs=1e-12)
    assert symbolic.topological_entropy([[1, 1], [1, 0]]) == pytest.approx(np.log(GOLDEN), abs=1e-12)
    assert symbolic.topological_entropy([[0, 1], [1, 0]]) == pytest.approx(0.0, abs=1e-12)  # a 2-cycle
    assert symbolic.topological_entropy([[0, 1], [0, 0]]) == 0.0  # no cycle


def test_graph_of_sampled_golden_mean_sequences():
    """Random words of the golden-mean shift (a 1 is always followed by a 0): the graph recovers it."""
    rng = np.random.default_rng(0)
    seqs = np.zeros((20, 200), dtype=int)
    for t in range(1, 200):
        seqs[:, t] = np.where(seqs[:, t - 1] == 1, 0, rng.random(20) < 0.5)
    g = symbolic.symbolic_graph(seqs, n_switch=1)
    np.testing.assert_array_equal(g.symbols, [0, 1])
    np.testing.assert_array_equal(g.adjacency, [[1, 1], [1, 0]])
    assert g.entropy() == pytest.approx(np.log(GOLDEN), abs=1e-12)
    P = g.transition_probabilities
    np.testing.assert_allclose(P.sum(axis=1), 1)
    assert P[1, 0] == 1.0 and abs(P[0, 1] - 0.5) < 0.05
    assert g.counts.sum() == 20 * 199 and g.visits.sum() == 20 * 200


def tent_alrnn():
    """The tent map x -> 2x (x < 1/2), 2 - 2x (x >= 1/2) as an AL-RNN with alpha = 1: with z = x - 1/2,
    z' = 2z - 4 relu(z) + 1/2. Unit 0 (ReLU) and unit 1 (linear) both carry z, so the region symbol is
    0 (x < 1/2, "L") or 1 (x > 1/2, "R")."""
    W = np.array([[-4.0, 2.0], [-4.0, 2.0]])
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=1, activation="alrnn", n_relu=1, alpha=1.0, dtype="float64")
    p = Params(W_in=np.zeros((2, 1)), W=W, b=np.full(2, 0.5), W_out=np.zeros((1, 2)), b_out=np.zeros(1))
    return p, cfg


def run(p, cfg, x0, T):
    x = [np.asarray(x0, dtype=np.float64)]
    for _ in range(T):
        x.append(rnn_map(p, cfg, x[-1], U))
    return np.array(x)


def test_tent_map_region_sequence_and_graphs():
    p, cfg = tent_alrnn()
    # the 3-cycle 2/7 -> 4/7 -> 6/7 has itinerary L R R: the graph L -> R -> R -> L, the golden-mean graph
    z0 = 2 / 7 - 0.5
    states = run(p, cfg, [z0, z0], 24)
    seq = symbolic.symbol_sequences(states, cfg.n_relu)
    assert seq.shape == (1, 25)
    np.testing.assert_array_equal(seq[0], np.tile([0, 1, 1], 9)[:25])
    g = symbolic.symbolic_graph(seq, cfg.n_relu)
    np.testing.assert_array_equal(g.adjacency, [[0, 1], [1, 1]])
    assert g.entropy() == pytest.approx(np.log(GOLDEN), abs=1e-12)
    np.testing.assert_allclose(g.transition_probabilities, [[0, 1], [0.5, 0.5]], atol=0.05)
    np.testing.assert_allclose(g.occupancy, [1 / 3, 2 / 3], atol=0.03)
    assert g.names == ["0", "1"]
    # chaotic orbits from random starts visit every transition: the full 2-shift, entropy ln 2 (the tent map's)
    rng = np.random.default_rng(1)
    z = rng.random(50) - 0.5
    states = run(p, cfg, np.stack([z, z], axis=1), 30)  # (T+1, B, N); 30 doublings lose 30 of 53 bits
    g = symbolic.symbolic_graph(symbolic.symbol_sequences(states, 1), 1)
    np.testing.assert_array_equal(g.adjacency, np.ones((2, 2)))
    assert g.entropy() == pytest.approx(np.log(2), abs=1e-12)
    np.testing.assert_allclose(g.occupancy, [0.5, 0.5], atol=0.05)  # the tent map's invariant measure is uniform


def test_regions_of_the_tent_maps_fixed_points_and_cycles():
    p, cfg = tent_alrnn()
    fps = plrnn.enumerate_fixed_points(p, cfg, U)
    x = np.sort(fps.arrays()["x"][:, 0]) + 0.5
    np.testing.assert_allclose(x, [0.0, 2 / 3], atol=1e-12)  # the tent map's fixed points
    cycles = plrnn.enumerate_cycles(p, cfg, U, period=3)
    itineraries = sorted(tuple(symbolic.symbol_names(s, 1)) for s in symbolic.orbit_symbols(cycles.orbits, 1))
    # the two 3-cycles {2/7, 4/7, 6/7} (L R R) and {2/9, 4/9, 8/9} (L L R), listed from their smallest region
    assert itineraries == [("0", "0", "1"), ("0", "1", "1")]
    starts = sorted(o[0, 0] + 0.5 for o in cycles.orbits)
    np.testing.assert_allclose(starts, [2 / 9, 2 / 7], atol=1e-12)
    z = np.random.default_rng(2).random(40) - 0.5
    g = symbolic.symbolic_graph(symbolic.symbol_sequences(run(p, cfg, np.stack([z, z], axis=1), 20), 1), 1)
    table = symbolic.region_table(g, fps.orbits)
    assert list(table.columns) == list(symbolic.REGION_COLUMNS)
    by_region = dict(zip(table["pattern"], table["fixed_points"]))
    low = int(np.argmin(fps.arrays()["x"][:, 0]))  # x = 0 lies in L, x = 2/3 in R
    assert by_region == {"0": str(low), "1": str(1 - low)}
    table = symbolic.region_table(g, cycles.orbits, labels=["a", "b"])
    assert set(table["cycles"]) == {"a;b"}  # both 3-cycles visit both regions
    assert table["occupancy"].sum() == pytest.approx(1.0)


def test_symbols_of_a_relu_network_use_every_unit():
    states = np.array([[1.0, -1.0, 2.0], [0.0, 3.0, 1.0], [-1.0, -2.0, -3.0]])
    np.testing.assert_array_equal(symbolic.region_symbols(states, 3), [1 + 4, 2 + 4, 0])
    assert symbolic.symbol_names([5, 6, 0], 3) == ["101", "011", "000"]
    np.testing.assert_array_equal(symbolic.region_symbols(states, 1), [1, 0, 0])  # AL-RNN, P = 1
    with pytest.raises(ValueError, match="n_switch"):
        symbolic.region_symbols(states, 4)


def test_symbols_of_networks_wider_than_int64_stay_distinct():
    """A 70-unit ReLU network: symbols are exact Python ints, equal to the bit string read in base 2, and the
    graph of two states differing only in unit 69 has two regions."""
    rng = np.random.default_rng(0)
    states = rng.normal(size=(5, 4, 70))
    states[1, 0] = states[0, 0]
    states[1, 0, 69] = -states[0, 0, 69]
    sym = symbolic.region_symbols(states, 70)
    assert sym.shape == (5, 4)
    for idx in np.ndindex(sym.shape):
        text = "".join("1" if v > 0 else "0" for v in states[idx])  # unit 0 first
        assert sym[idx] == int(text[::-1], 2)
        assert symbolic.symbol_names([sym[idx]], 70) == [text]
    assert sym[0, 0] != sym[1, 0] and abs(sym[0, 0] - sym[1, 0]) == 2 ** 69
    graph = symbolic.symbolic_graph(symbolic.symbol_sequences(states, 70), 70)
    assert graph.visits.sum() == 20 and graph.counts.sum() == 4 * 4
    table = symbolic.region_table(graph)
    assert list(table["symbol"]) == sorted(set(sym.ravel().tolist()))


def test_stage_tables_and_figure(tmp_path):
    """The workflow stage on a small AL-RNN under the flip-flop's inputs: tables consistent with the network's
    own trajectories and with its exact fixed points, and a figure."""
    import pandas as pd

    from altrnn.io import SavedModel, read_table
    from altrnn.model import forward, init_params
    from altrnn.stages import symbolic as stage
    from altrnn.tasks import make_task

    task = make_task("flipflop", {"n_bits": 2, "T": 30})
    cfg = ModelConfig(n_in=task.n_in, n_rec=8, n_out=task.n_out, activation="alrnn", n_relu=3, dtype="float64",
                      sigma_rec=0.0)
    p = init_params(cfg, 1.5, np.random.default_rng(0))
    p.b[:] = 0.5
    fps = plrnn.enumerate_fixed_points(p, cfg, np.zeros(task.n_in))
    a = fps.arrays()
    points = fps.table().assign(condition="zero", method="exact")
    arrays = {"x": a["x"], "orbit": a["orbit"], "orbit_row": a["orbit_point"]}
    saved = SavedModel(p, cfg, {})
    table, edges = stage.network_graph(saved, task, points, arrays, n_trials=8, seed=3)
    # independent: the symbols of the forward pass on the same batch
    batch = task.batch(8, np.random.default_rng(3))
    x = forward(p, cfg, batch.inputs).x[1:]
    bits = (x[..., :3] > 0).astype(int) @ [1, 2, 4]
    visited = table[table["n_visits"] > 0]
    np.testing.assert_array_equal(visited["symbol"], np.unique(bits))
    np.testing.assert_array_equal(visited["n_visits"], [np.sum(bits == s) for s in visited["symbol"]])
    assert edges["count"].sum() == 8 * (x.shape[0] - 1)
    for row, xf in enumerate(a["x"]):
        s = int((xf[:3] > 0) @ [1, 2, 4])
        assert str(row) in table.set_index("symbol").loc[s, "fixed_points"].split(";")
    for name, df in (("symbolic.csv", table), ("symbolic_edges.csv", edges)):
        df.to_csv(tmp_path / name, index=False)
    paths = [tmp_path / "nets" / n for n in ("std-g1-s0", "ref")]
    for d in paths:
        d.mkdir(parents=True)
        table.to_csv(d / "symbolic.csv", index=False)
        edges.to_csv(d / "symbolic_edges.csv", index=False)
    assert isinstance(read_table(paths[0] / "symbolic.csv"), pd.DataFrame)
    stage.figure_job([d / "symbolic.csv" for d in paths], [d / "symbolic_edges.csv" for d in paths], "flipflop",
                     tmp_path / "symbolic.pdf", tmp_path / "symbolic.png")
    assert (tmp_path / "symbolic.pdf").stat().st_size > 1000 and (tmp_path / "symbolic.png").stat().st_size > 1000


def test_entropy_by_components_equals_the_dense_spectral_radius():
    """Many transient regions around a few cycles: the component-wise radius equals the whole matrix's."""
    rng = np.random.default_rng(1)
    A = (rng.random((60, 60)) < 0.03).astype(float)
    A[np.tril_indices(60)] = 0  # a DAG of transient regions ...
    A[5, 5] = 1  # ... with a self-loop, a 2-cycle and a golden-mean pair
    A[10, 11] = A[11, 10] = 1
    A[20, 21] = A[21, 20] = A[20, 20] = 1
    dense = np.log(np.max(np.abs(np.linalg.eigvals(A))))
    assert symbolic.topological_entropy(A) == pytest.approx(dense, abs=1e-12)
    assert symbolic.topological_entropy(A) == pytest.approx(np.log((1 + 5 ** 0.5) / 2), abs=1e-12)

"""Surrogates: projection, matching on hand-built point sets, the stage on a ReLU teacher with known fixed points."""

import numpy as np
import pandas as pd
import pytest

from altrnn.analysis import surrogate as sur
from altrnn.config import SurrogateConfig
from altrnn.io import SavedModel, read_npz, save_model, write_npz
from altrnn.model import ModelConfig, Params
from altrnn.stages import dynamics
from altrnn.stages import surrogate as stage
from altrnn.tasks import make_task

ALPHA = 0.2


def test_projection_round_trip_and_variance_rule():
    """States with variances 9, 4, 1, 0.01 along random orthonormal axes: 90% of the variance needs 2 axes
    (9/14.01 = 0.64, 13/14.01 = 0.93); the round trip is exact with all 4."""
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    coords = rng.standard_normal((4000, 4))
    coords = (coords - coords.mean(0)) @ np.linalg.cholesky(np.linalg.inv(np.cov(coords.T, bias=True))) * [3, 2, 1, 0.1]
    X = 5.0 + coords @ Q[:4]
    p = sur.fit_projection(X, variance=0.9)
    assert p.n_components == 2
    np.testing.assert_allclose(p.explained, np.array([9, 4]) / 14.01, rtol=1e-6)
    np.testing.assert_allclose(np.abs(p.axes @ Q[:2].T), np.eye(2), atol=1e-8)  # the axes, up to sign
    full = sur.fit_projection(X, n_components=4)
    np.testing.assert_allclose(full.to_states(full.to_latent(X)), X, atol=1e-10)
    assert np.sqrt(np.mean(full.to_latent(X) ** 2)) == pytest.approx(1.0)  # the scale makes the RMS 1
    assert sur.spread(X) == pytest.approx(np.sqrt(9 + 4 + 1 + 0.01), rel=1e-9)
    with pytest.raises(ValueError, match="n_components"):
        sur.fit_projection(X, n_components=7)


def test_nearest_partners_and_unmatched():
    """Points 0, 1, 5 against 0.05, 1.02, 3.5, 0.9: 0 <-> 0.05 and 1 <-> 1.02 match; 0.9's nearest is 1, which
    prefers 1.02 (not mutual); 5 and 3.5 are each other's nearest but 1.5 apart (> tol)."""
    a, b = np.array([0.0, 1.0, 5.0]), np.array([0.05, 1.02, 3.5, 0.9])
    pa, da, ma, pb, db, mb = sur.nearest_partners(np.abs(a[:, None] - b[None]), tol=0.5)
    np.testing.assert_array_equal(pa, [0, 1, 2])
    np.testing.assert_allclose(da, [0.05, 0.02, 1.5])
    np.testing.assert_array_equal(ma, [True, True, False])
    np.testing.assert_array_equal(pb, [0, 1, 2, 1])
    np.testing.assert_array_equal(mb, [True, True, False, False])
    # nothing comparable (np.inf): no partner
    pa, da, ma, *_ = sur.nearest_partners(np.full((2, 1), np.inf), tol=1.0)
    np.testing.assert_array_equal(pa, [-1, -1])
    assert np.isnan(da).all() and not ma.any()
    pa, da, ma, pb, *_ = sur.nearest_partners(np.empty((2, 0)), tol=1.0)
    np.testing.assert_array_equal(pa, [-1, -1])
    assert len(pb) == 0


def test_orbit_distance_of_circles_and_points():
    """Concentric circles of radii 1 and 1.1 (200 points each): 0.1 apart; two points: Euclidean."""
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    c = np.stack([np.cos(t), np.sin(t), np.zeros_like(t)], axis=1)
    assert sur.orbit_distance(c, 1.1 * c) == pytest.approx(0.1, abs=1e-3)
    assert sur.orbit_distance([[0, 0, 0]], [[3, 4, 0]]) == pytest.approx(5.0)


def _frame(condition, kinds, periods, stability, reaches=None):
    n = len(kinds)
    return pd.DataFrame({"condition": condition, "index": np.arange(10, 10 + n), "kind": kinds, "period": periods,
                         "stability": stability, "n_unstable": 0, "spiral": False, "max_modulus": 0.5,
                         "eig_real": 0.5, "eig_imag": 0.0, "pc1": 0.0, "pc2": 0.0, "reaches": reaches or [""] * n})


def test_match_table_keeps_points_and_cycles_apart():
    """A surrogate point next to a network cycle is not matched to it; the matching cycle is, and the
    disagreeing stability is reported."""
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    ring = np.stack([np.cos(t), np.sin(t)], axis=1)
    s = _frame("zero", ["fixed", "cycle"], [1, 12], ["stable", "stable"])
    n = _frame("zero", ["cycle", "fixed", "slow"], [12.3, 1, 1], ["saddle", "stable", "stable"])
    s_orbits = [np.array([[1.0, 0.0]]), 1.02 * ring]
    n_orbits = [ring, np.array([[0.0, 0.0]]), np.array([[5.0, 5.0]])]
    table = sur.match("zero", s, s_orbits, n, n_orbits, unit=1.0, tol=0.1)
    assert list(table.columns) == sur.MATCH_COLUMNS
    surr, net = table[table["side"] == "surrogate"], table[table["side"] == "network"]
    np.testing.assert_array_equal(surr["partner"], [11, 10])  # the point's nearest point is (0, 0), 1 away
    np.testing.assert_array_equal(surr["matched"], [False, True])
    np.testing.assert_allclose(surr["distance"], [1.0, 0.02], atol=2e-3)
    assert not surr["same_stability"].iloc[1]  # stable surrogate cycle, saddle network cycle
    np.testing.assert_array_equal(net["matched"], [True, False, False])
    np.testing.assert_array_equal(net["partner"], [11, 10, 10])
    summ = sur.summary(table)
    row = summ[(summ["side"] == "network") & (summ["kind"] == "point")].iloc[0]
    assert (row["n"], row["n_matched"]) == (2, 0)


def test_match_with_nothing_on_one_side():
    """A surrogate without exact points: every network point is reported unmatched, partner -1."""
    n = _frame("u", ["fixed", "cycle"], [1, 5], ["stable", "stable"])
    table = sur.match("u", _frame("u", [], [], []), [], n, [np.zeros((1, 2)), np.ones((5, 2))], unit=1.0, tol=0.1)
    assert list(table["side"]) == ["network", "network"] and list(table["partner"]) == [-1, -1]
    assert not table["matched"].any() and table["distance"].isna().all() and not table["same_stability"].any()
    with pytest.raises(ValueError, match="spread"):
        sur.match("u", n, [], n, [], unit=0.0, tol=0.1)


def test_skeletons_agree_only_through_matched_partners():
    """Saddles at 0 (both sides) whose branches reach the attractors at -1 and 1: the surrogate's saddle 10
    reaches 11, 12, the network's saddle 10 reaches 11, 12 (matched in the same order): they agree. The
    network's second saddle at 3 reaches an attractor at 4 that the surrogate lacks (unmatched): it
    cannot agree, though its partner saddle reaches a matched point."""
    s = _frame("u", ["fixed"] * 4, [1] * 4, ["saddle", "stable", "stable", "saddle"], ["11;12", "", "", "11"])
    n = _frame("u", ["fixed"] * 5, [1] * 5, ["saddle", "stable", "stable", "saddle", "stable"],
               ["11;12", "", "", "14", ""])
    at = lambda *v: [np.array([[x, 0.0]]) for x in v]  # noqa: E731
    table = sur.match("u", s, at(0, -1, 1, 3), n, at(0.01, -1, 1, 3, 4), unit=1.0, tol=0.1)
    surr, net = table[table["side"] == "surrogate"], table[table["side"] == "network"]
    assert surr["matched"].all() and list(net["matched"]) == [True, True, True, True, False]
    np.testing.assert_array_equal(surr["same_reaches"], [True, True, True, False])
    np.testing.assert_array_equal(net["same_reaches"], [True, True, True, False, False])
    assert sur.summary(table).set_index("side").loc["network", "n_same_reaches"] == 3


# ---------------------------------------------------------------------------------------------- the stage

def teacher():
    """Two ReLU units inhibiting each other (W = [[0, -2], [-2, 0]], b = 1), input pushing them apart: stable
    fixed points (1, -1) and (-1, 1), a saddle at (1/3, 1/3) (eigenvalues of J: 1 + a, 1 - 3a)."""
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=1, activation="relu", alpha=ALPHA, sigma_rec=0.0, dtype="float64")
    p = Params(W_in=np.array([[1.5], [-1.5]]), W=np.array([[0.0, -2.0], [-2.0, 0.0]]), b=np.ones(2),
               W_out=np.array([[1.0, -1.0]]), b_out=np.zeros(1))
    return SavedModel(p, cfg, {})


def oracle_fit(proj):
    """The exact AL-RNN z' = W phi(z) + W_in u + b of the teacher x' = (1 - a) x + a (W_t relu(x) + h), for
    the stage's observation model: ReLU units 0, 1 hold x and 2, 3 hold y = -x (so x = relu(x) - relu(y)),
    linear units 4, 5 the projections Q (x - m) / s; the free units start at 0, as the teacher does."""
    t = teacher().params
    Q, m, s, a = proj.axes, proj.mean, proj.scale, ALPHA
    A = np.hstack([(1 - a) * np.eye(2) + a * t.W, -(1 - a) * np.eye(2)])  # x' from (relu(x), relu(y))
    W = np.zeros((6, 6))
    W[:2, :4], W[2:4, :4], W[4:, :4] = A, -A, Q @ A / s
    W_in = np.vstack([a * t.W_in, -a * t.W_in, Q @ (a * t.W_in) / s])
    b = np.concatenate([a * t.b, -a * t.b, Q @ (a * t.b - m) / s])
    cfg = ModelConfig(n_in=1, n_rec=6, n_out=2, activation="alrnn", n_relu=4, alpha=1.0, sigma_rec=0.0,
                      dtype="float64")
    return Params(W_in, W, b, np.eye(6)[4:], np.zeros(2)), cfg


def test_stage_maps_an_exact_surrogate_back_onto_the_teachers_points(tmp_path, monkeypatch):
    """With the exact AL-RNN of a ReLU teacher as its surrogate, the stage recovers the teacher's three exact
    fixed points in its state space (distance ~ 0, same stability), and the figure draws."""
    task = make_task("flipflop", {"n_bits": 1, "T": 60, "p_pulse": 0.1})
    saved = teacher()
    points, arrays = dynamics.fixed_point_analysis(saved, task, {"n_trials": 16, "n_initial": 32, "max_period": 2})
    exact = points[points["method"] == "exact"]
    assert sorted(exact["stability"]) == ["saddle", "stable", "stable"]

    def fit(latent, inputs, s):
        proj = sur.fit_projection(stage.network_trials(saved, task, s.n_trials, s.seed)[1][:, :48], 2)
        np.testing.assert_allclose(proj.to_latent(proj.to_states(latent)), latent, atol=1e-12)
        params, cfg = oracle_fit(proj)
        return params, cfg, 0, 0.0

    monkeypatch.setattr(stage, "fit", fit)
    manifolds = dynamics.manifold_analysis(saved, task, points, arrays, {"n_trials": 16, "basin_resolution": 4,
                                                                          "basin_samples": 0})[0]
    settings = SurrogateConfig(n_components=2, n_latent=6, n_relu=4, max_period=2)
    table, fit_table, out = stage.analyse(saved, task, points, arrays, manifolds, settings)
    surr, net = table[table["side"] == "surrogate"], table[table["side"] == "network"]
    assert len(surr) == 3 and net["matched"].all() and surr["matched"].all()
    assert surr["distance"].max() < 1e-9 and surr["same_stability"].all()
    # the saddle's two unstable branches reach the two stable points, on both sides
    saddle = net[net["stability"] == "saddle"].iloc[0]
    assert len(saddle["reaches"].split(";")) == 2 and table["same_reaches"].all()
    q = fit_table.set_index(["split", "measure"])["value"]
    assert q["test", "one_step_r2"] == pytest.approx(1.0) and q["test", "free_r2"] == pytest.approx(1.0)
    assert q["test", "d_stsp"] == pytest.approx(0.0, abs=1e-9)

    # the same through the workflow's job functions and files, then the figure
    net = tmp_path / "results" / "flipflop" / "nets" / "ref"
    net.mkdir(parents=True)
    save_model(net / "model.npz", saved.params, saved.config, {})
    points.to_csv(net / "fixed_points.csv", index=False)
    write_npz(net / "fixed_points.npz", **arrays)
    manifolds.to_csv(net / "manifolds.csv", index=False)
    files = [net / f for f in ("surrogate.npz", "surrogate.csv", "surrogate_fit.csv")]
    stage.surrogate_job("flipflop", task.params, {"n_components": 2, "n_latent": 6, "n_relu": 4, "max_period": 2},
                        net / "model.npz", net / "fixed_points.csv", net / "fixed_points.npz", net / "manifolds.csv",
                        *files)
    saved_table = stage.read_matches(files[1])
    assert saved_table["matched"].all() and len(saved_table) == 6
    z = read_npz(files[0])
    assert int(z["orbit_row"].max()) == 2 and z["projection_axes"].shape == (2, 2) and z["W"].shape == (6, 6)
    stage.figure_job([files[1]], [files[0]], [net / "fixed_points.npz"], "flipflop", tmp_path / "f.pdf",
                     tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0
    with pytest.raises(ValueError, match="pair up"):
        stage.figure_job([files[1]], [files[0]], [tmp_path / "x" / "fixed_points.npz"], "flipflop", tmp_path / "g.pdf",
                         tmp_path / "g.png")


def test_fitted_surrogate_of_a_relu_teacher_recovers_its_fixed_points():
    """The AL-RNN fitted by teacher forcing (dsr.training) to the ReLU teacher's own trajectories: its exact
    fixed points, mapped back, match the teacher's three (two stable, one saddle) within 5% of the states'
    spread, with the same stability, and the saddle's branches lead to the same two attractors."""
    task = make_task("flipflop", {"n_bits": 1, "T": 60, "p_pulse": 0.1})
    saved = teacher()
    points, arrays = dynamics.fixed_point_analysis(saved, task, {"n_trials": 16, "n_initial": 32, "max_period": 2})
    manifolds = dynamics.manifold_analysis(saved, task, points, arrays, {"n_trials": 16, "basin_resolution": 4,
                                                                          "basin_samples": 0})[0]
    settings = SurrogateConfig(n_components=2, n_latent=6, n_relu=2, n_trials=32, max_iters=1000, lr=1e-2,
                               forcing_interval=10, max_period=2)
    table, fit_table, _ = stage.analyse(saved, task, points, arrays, manifolds, settings)
    net = table[table["side"] == "network"]
    assert len(net) == 3 and net["matched"].all() and net["same_stability"].all() and net["same_reaches"].all()
    assert net["distance"].max() < 0.05
    q = fit_table.set_index(["split", "measure"])["value"]
    assert q["test", "one_step_r2"] > 0.99
    turn = fit_table[fit_table["split"] == "long_run"].set_index("measure")["value"]
    assert np.isnan(turn["network_steps_per_turn"]) and np.isnan(turn["surrogate_steps_per_turn"])  # no rotation


def test_rotation_of_a_circle_a_spiral_into_a_point_and_a_rest():
    """A rotation by 2 pi / 23.5 per step (no whole-step period) gives 23.5 steps per turn at its radius; a
    spiral that has reached its point and a point at rest give no period."""
    t = np.arange(2000)
    circle = 2.0 * np.stack([np.cos(2 * np.pi * t / 23.5), np.sin(2 * np.pi * t / 23.5)], axis=1) + [1.0, -3.0]
    per_turn, radius = sur.rotation(circle)
    assert per_turn == pytest.approx(23.5, rel=1e-3) and radius == pytest.approx(2.0, rel=1e-3)
    spiral = circle * (0.9 ** t)[:, None] + 1.0
    assert np.isnan(sur.rotation(spiral[1000:])[0])
    assert np.isnan(sur.rotation(np.ones((50, 3, 2)))[0])


def test_config_names_a_bad_surrogate_key():
    from altrnn import config

    with pytest.raises(config.ConfigError, match=r"tasks\.flipflop\.surrogate\.nets: \['alt7'\]"):
        config.load({"tasks": {"flipflop": {"surrogate": {"enabled": True, "nets": ["alt7"]}}}})
    with pytest.raises(config.ConfigError, match="surrogate.n_components"):
        config.load({"tasks": {"flipflop": {"surrogate": {"n_latent": 10, "n_relu": 8, "n_components": 3}}}})
    assert config.load({"tasks": {"flipflop": {}}}).units["flipflop"].surrogate.enabled is False

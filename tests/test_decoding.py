"""Linear decoding over time: synthetic static and rotating codes, held-out scores, task variables, the workflow."""

import numpy as np
import pytest
from tiny import TINY

from altrnn import netids
from altrnn.analysis import decoding
from altrnn.io import read_npz
from altrnn.io import read_table
from altrnn.stages.decoding import COLUMNS, matrices
from altrnn.tasks import GENERATORS, TASKS, make_task

T, B, N = 24, 300, 16


def synthetic_code(values, angles, noise, seed=0, plane_noise=True):
    """States (T, B, N): the variable (T, B) along a unit direction in the (e0, e1) plane at angle angles[t],
    plus isotropic noise (in every direction, or only outside the plane)."""
    rng = np.random.default_rng(seed)
    states = noise * rng.standard_normal((*values.shape, N))
    if not plane_noise:
        states[..., :2] = 0.0
    states[..., 0] += values * np.cos(angles)[:, None]
    states[..., 1] += values * np.sin(angles)[:, None]
    return states


def constant_variable(seed=1):
    y = np.random.default_rng(seed).standard_normal(B)
    return np.broadcast_to(y, (T, B)).copy()


def test_a_static_code_decodes_across_all_times():
    values = constant_variable()
    kind, score, _, n_test = decoding.decode(synthetic_code(values, np.zeros(T), 0.1), values, ridge=1e-3)
    assert kind == "continuous" and (n_test == B // 2).all()
    assert score.min() > 0.95  # off-diagonal as high as the diagonal


def test_a_rotating_code_decodes_only_near_the_diagonal():
    """The encoding direction turns by pi over the trial. With noise only outside the code's plane, the decoder
    of step t is d_t (ridge aside) and predicts y cos(delta) at a step rotated by delta: closed-form r2
    1 - (1 - cos(delta))^2 sum(y^2) / sum((y - mean y)^2) on the test trials (about 0 at pi/2, -3 at pi)."""
    values = constant_variable()
    angles = np.linspace(0, np.pi, T)
    _, score, _, _ = decoding.decode(synthetic_code(values, angles, 0.1, plane_noise=False), values, ridge=1e-4)
    delta = angles[:, None] - angles[None, :]
    y = values[0, B // 2:]
    expected = 1 - (1 - np.cos(delta)) ** 2 * (y ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert np.abs(score - expected).max() < 0.01
    quarter = np.isclose(np.abs(delta), np.pi / 2, atol=0.1)
    assert quarter.any() and np.abs(score[quarter]).max() < 0.2
    # The same with noise in every direction: the pattern holds on average (the decoders pick up some noise).
    _, score, _, _ = decoding.decode(synthetic_code(values, angles, 0.1), values, ridge=1e-3)
    assert np.diag(score).min() > 0.95
    assert abs(score[quarter].mean()) < 0.15 and score[0, -1] < -2 and score[-1, 0] < -2


def test_a_rotating_binary_code_falls_to_chance_then_below():
    signs = np.where(np.random.default_rng(2).random(B) < 0.5, -1.0, 1.0)
    values = np.broadcast_to(signs, (T, B)).copy()
    angles = np.linspace(0, np.pi, T)
    kind, score, _, _ = decoding.decode(synthetic_code(values, angles, 0.3), values, ridge=1e-3)
    assert kind == "binary"
    assert np.diag(score).min() > 0.95
    quarter = np.isclose(np.abs(angles[:, None] - angles[None, :]), np.pi / 2, atol=0.1)
    assert abs(score[quarter].mean() - 0.5) < 0.1  # chance
    assert score[0, -1] < 0.05  # the decision flips: below chance


def test_no_signal_gives_held_out_r2_near_zero_not_the_inflated_training_r2():
    rng = np.random.default_rng(3)
    states = rng.standard_normal((T, B, N))
    values = constant_variable()
    _, score, _, _ = decoding.decode(states, values, ridge=1e-2)
    held_out = np.diag(score)
    assert -0.3 < held_out.mean() < 0.02 and held_out.max() < 0.1
    # The same decoders scored on their own training trials would look informative (about N / n_train):
    targets = decoding.coded(values, "continuous")
    W, b = decoding.fit_decoders(states[:, : B // 2], targets[:, : B // 2], 1e-2)
    train, _ = decoding.cross_temporal(W, b, states[:, : B // 2], targets[:, : B // 2], "continuous")
    assert np.diag(train).mean() > 0.07 > held_out.mean() + 0.05
    # A binary variable without signal is at chance.
    signs = np.where(rng.random(B) < 0.5, -1.0, 1.0)
    _, accuracy, _, _ = decoding.decode(states, np.broadcast_to(signs, (T, B)).copy(), ridge=1e-2)
    assert abs(np.diag(accuracy).mean() - 0.5) < 0.05


def test_ridge_weights_match_an_augmented_least_squares_solution():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((40, 5)) * [1, 2, 3, 4, 5] + 7, rng.standard_normal((40, 2))
    ridge = 0.3
    W, b = decoding._ridge(X, Y, ridge)
    Xc = X - X.mean(axis=0)
    lam = ridge * np.trace(Xc.T @ Xc) / 5
    A = np.vstack([Xc, np.sqrt(lam) * np.eye(5)])
    reference = np.linalg.lstsq(A, np.vstack([Y - Y.mean(axis=0), np.zeros((5, 2))]), rcond=None)[0]
    np.testing.assert_allclose(W, reference, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(X.mean(axis=0) @ W + b, Y.mean(axis=0), atol=1e-12)


def test_an_angle_code_has_small_circular_error_and_no_signal_a_quarter_turn():
    rng = np.random.default_rng(5)
    theta = rng.uniform(0, 2 * np.pi, B)
    direction = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    values = np.broadcast_to(direction, (T, B, 2)).copy()
    states = 0.05 * rng.standard_normal((T, B, N))
    states[..., :2] += direction
    kind, score, circular, _ = decoding.decode(states, values, ridge=1e-3)
    assert kind == "angle" and np.diag(score).min() > 0.95 and np.diag(circular).max() < 0.1
    _, _, circular, _ = decoding.decode(rng.standard_normal((T, B, N)), values, ridge=1e-2)
    assert abs(np.nanmean(np.diag(circular)) - np.pi / 2) < 0.15  # uniform errors average pi/2


def test_undefined_steps_give_nan_and_kinds_are_read_from_the_values():
    values = constant_variable()
    values[:3] = np.nan  # undefined for every trial at the first steps
    values[3:6, ::2] = np.nan  # defined for half of the trials
    _, score, _, n_test = decoding.decode(synthetic_code(np.nan_to_num(values), np.zeros(T), 0.1), values,
                                          ridge=1e-3)
    np.testing.assert_array_equal(n_test, [0] * 3 + [B // 4] * 3 + [B // 2] * (T - 6))
    assert np.isnan(score[:3]).all() and np.isnan(score[:, :3]).all()
    assert np.isfinite(score[3:, 3:]).all() and score[3:, 3:].min() > 0.9
    assert decoding.variable_kind(np.array([[0.0, 1.0], [np.nan, 1.0]])) == "binary"
    np.testing.assert_array_equal(decoding.coded(np.array([[0.0, 1.0]]), "binary")[..., 0], [[-1.0, 1.0]])
    assert decoding.variable_kind(np.array([[0.0, 1.0, 2.0]])) == "continuous"
    with pytest.raises(ValueError, match="undefined"):
        decoding.variable_kind(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="test_fraction"):
        decoding.decode(np.zeros((2, 3, 4)), np.zeros((2, 3)), ridge=1e-2)


# --- task variables on hand-checked trials ------------------------------------------------------------------


def test_flipflop_bits_are_the_last_pulse_sign_from_the_first_pulse_on():
    task = make_task("flipflop", {"n_bits": 2, "T": 40, "p_pulse": 0.2})
    batch = task.batch(5, np.random.default_rng(0))
    variables = task.task_variables(batch)
    assert list(variables) == ["bit1", "bit2"]
    for bit in range(2):
        for trial in range(5):
            state = np.nan
            for t in range(40):  # brute force: walk the trial
                if batch.inputs[t, trial, bit] != 0:
                    state = batch.inputs[t, trial, bit]
                np.testing.assert_equal(variables[f"bit{bit + 1}"][t, trial], state)


def test_integration_context_and_evidence():
    task = make_task("integration", {"T_fix": 3, "T_stim": 4, "T_resp": 2})
    batch = task.batch(6, np.random.default_rng(1))
    v = task.task_variables(batch)
    assert sorted(v) == ["context", "evidence1", "evidence2"]
    np.testing.assert_array_equal(v["context"], np.tile(np.where(batch.meta["context"] == 1, 1.0, -1.0), (9, 1)))
    for c in range(2):
        e = v[f"evidence{c + 1}"]
        assert np.isnan(e[:3]).all()
        for t in range(3, 9):  # the stream's inputs from step 3 up to t (none after step 6)
            np.testing.assert_allclose(e[t], batch.inputs[3: t + 1, :, c].sum(axis=0))
        np.testing.assert_array_equal(e[-1], e[6])  # held after the stimulus
    # Without noise the evidence is the coherence times the number of stimulus steps so far.
    task = task.with_params(noise_std=0.0)
    batch = task.batch(6, np.random.default_rng(1))
    steps = np.array([np.nan] * 3 + [1, 2, 3, 4, 4, 4])[:, None]
    for c in range(2):
        np.testing.assert_allclose(task.task_variables(batch)[f"evidence{c + 1}"],
                                   steps * batch.meta["coherence"][:, c])


def test_memorypro_angle_from_stimulus_to_the_end_of_the_response():
    task = make_task("memorypro", {"T_fix": 2, "T_stim": 3, "delay_min": 1, "delay_max": 4, "T_resp": 3,
                                   "grace": 1})
    batch = task.batch(8, np.random.default_rng(2))
    angle = task.task_variables(batch)["angle"]
    assert angle.shape == (batch.T, 8, 2)
    for trial in range(8):
        end = 2 + 3 + batch.meta["delay"][trial] + 3
        assert np.isnan(angle[:2, trial]).all() and np.isnan(angle[end:, trial]).all()
        np.testing.assert_allclose(np.arctan2(angle[2:end, trial, 1], angle[2:end, trial, 0]) % (2 * np.pi),
                                   batch.meta["angle"][trial])


def test_tasks_without_declared_variables_have_none():
    declared = {"flipflop", "integration", "memorypro"}
    for name in GENERATORS:  # the user tasks' variables come from their data (test_user_tasks.py)
        cls = TASKS[name]
        task = cls()
        variables = task.task_variables(task.batch(2, np.random.default_rng(0)))
        assert bool(variables) == (name in declared), name


# --- the workflow ---------------------------------------------------------------------------------------------


def test_a_tiny_run_writes_the_decoding_table_matrices_and_panel(tiny_run):
    assert TINY["decoding"] == {"n_trials": 16, "stride": 3}  # 8 test trials, every third step
    nets = [netids.standard_id(g, s) for g in TINY["standard"]["g"] for s in TINY["standard"]["seeds"]]
    nets += netids.insd_ids(TINY["insd"]["n_alternatives"])
    for task, variables in (("flipflop", ["bit1", "bit2", "bit3"]), ("integration", ["context", "evidence1",
                                                                                      "evidence2"])):
        table = read_table(tiny_run / f"results/{task}/decoding.csv")
        assert list(table.columns) == COLUMNS and set(table["net_id"]) == set(nets)
        assert set(table["variable"]) == set(variables) and table["n_test"].between(0, 8).all()
        for (net, var), rows in table.groupby(["net_id", "variable"]):  # defined from a step on, then always
            assert np.all(np.diff(rows.sort_values("time")["n_test"]) >= 0) and rows["n_test"].iloc[-1] > 0
        assert (table.loc[table["variable"] == "context", "n_test"] == 8).all()
        arrays = read_npz(tiny_run / f"results/{task}/decoding.npz")
        T = make_task(task, TINY["tasks"][task]["params"]).batch(1, np.random.default_rng(0)).T
        np.testing.assert_array_equal(arrays["times"], np.arange(0, T, 3))
        mats = matrices(arrays)
        assert set(mats) == {(n, v) for n in nets for v in variables}
        for (net, var), m in mats.items():  # the table's values are the matrices' diagonals
            rows = table[(table["net_id"] == net) & (table["variable"] == var)].sort_values("time")
            np.testing.assert_array_equal(rows["value"], np.diag(m))
    assert (tiny_run / netids.figure_file("flipflop", "decoding", "png")).stat().st_size > 1000
    assert (tiny_run / netids.figure_file("integration", "decoding", "pdf")).stat().st_size > 1000

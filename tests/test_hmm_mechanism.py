"""Mechanism tools of HMM-emulating networks (analysis.hmm_mechanism, stage hmm_mechanism)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import solve_discrete_lyapunov

from altrnn.analysis import hmm_mechanism as hm
from altrnn.config import HmmMechanismConfig
from altrnn.model import ModelConfig, Params
from altrnn.tasks.hmm_presets import preset
from altrnn.train.generative import GenerativeConfig, evaluate_generator

SMALL = HmmMechanismConfig(n_trials=32, n_steps=100, n_null=10, n_boot=200, eval_trials=20, eval_steps=50,
                           snapshot_trials=4, n_initial=16)


def random_net(N=6, n_in=1, S=2, activation="relu", seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    cfg = ModelConfig(n_in=n_in, n_rec=N, n_out=S, activation=activation, sigma_rec=0.05, dtype=dtype)
    p = Params(rng.standard_normal((N, n_in)), 0.9 * rng.standard_normal((N, N)) / np.sqrt(N),
               0.1 * rng.standard_normal(N), 3 * rng.standard_normal((S, N)), np.zeros(S)).astype(cfg.np_dtype)
    return p, cfg


def test_ablating_a_unit_without_outgoing_weights_changes_nothing():
    p, cfg = random_net()
    p.W[:, 3] = 0
    p.W_out[:, 3] = 0
    gen, hmm = GenerativeConfig(), preset("linear2")
    noise = hm.draw_noise(cfg, gen, 2, 32, 100, np.random.default_rng(1))
    base = hm.emissions(p, cfg, gen, noise)
    for mu in (0.0, 2.0, 5.0):
        assert np.array_equal(hm.emissions(hm.scale_unit(p, 3, mu), cfg, gen, noise), base)
    null = [hm.draw_noise(cfg, gen, 2, 32, 100, np.random.default_rng(2 + j)) for j in range(3)]
    table = hm.perturbation_table(p, cfg, gen, hmm, noise, [0.0, 2.0], null)
    silent = table[table["unit"] == 3]
    assert (silent[list(hm.CHANGE_KEYS) + ["switch_rate_change", "delta_transition_tv"]] == 0).all().all()
    baseline = table[table["kind"] == "baseline"].iloc[0]
    for key in hm.STAT_KEYS:
        assert (silent[key] == baseline[key]).all()
    # a unit that does project changes the emissions, so the comparison above can fail
    assert table[(table["kind"] == "perturbed") & (table["unit"] != 3)]["transition_change"].max() > 0


def test_amplification_by_one_changes_nothing():
    p, cfg = random_net(activation="tanh", dtype="float32")
    gen = GenerativeConfig()
    noise = hm.draw_noise(cfg, gen, 2, 16, 50, np.random.default_rng(1))
    base = hm.emissions(p, cfg, gen, noise)
    for i in range(cfg.n_rec):
        q = hm.scale_unit(p, i, 1.0)
        assert all(np.array_equal(a, b) for a, b in zip(q.arrays(), p.arrays()))
        assert np.array_equal(hm.emissions(q, cfg, gen, noise), base)
    assert not np.array_equal(hm.scale_unit(p, 0, 2.0).W, p.W)


def test_orbit_radius_of_a_linear_network_matches_its_stationary_covariance():
    """x' = J x + a W_in u + sqrt(2a) sigma eta with J = (1 - a) I + a W: Sigma = J Sigma J^T + Q, radius^2 =
    tr Sigma around the zero-input fixed point 0 (linear network: AL-RNN without ReLU units, b = 0)."""
    N, a, sigma = 5, 0.2, 0.1
    rng = np.random.default_rng(3)
    cfg = ModelConfig(n_in=2, n_rec=N, n_out=2, activation="alrnn", n_relu=0, alpha=a, sigma_rec=sigma,
                      dtype="float64")
    p = Params(rng.standard_normal((N, 2)), 0.6 * rng.standard_normal((N, N)) / np.sqrt(N), np.zeros(N),
               rng.standard_normal((2, N)), np.zeros(2))
    gen = GenerativeConfig(n_noise=2, burn_in=150)
    noise = hm.draw_noise(cfg, gen, 2, 200, 300, np.random.default_rng(4))
    variances = [0.25, 1.0, 4.0]
    table = hm.orbit_radius(p, cfg, gen, noise, np.zeros(N), variances, n_boot=300, free_steps=400)
    J = (1 - a) * np.eye(N) + a * p.W
    free = table.iloc[-1]  # without any noise the stable linear network decays to its fixed point: (rho(J))^300
    assert not free["recurrent_noise"] and free["radius"] < 1e-3 * table["radius"].iloc[0]
    assert free["radius"] > 0
    table = table.iloc[:-1]
    for v, row in zip(variances, table.itertuples()):
        Q = a ** 2 * v * p.W_in @ p.W_in.T + 2 * a * sigma ** 2 * np.eye(N)
        exact = np.sqrt(np.trace(solve_discrete_lyapunov(J, Q)))
        assert row.radius == pytest.approx(exact, rel=0.04)
        assert row.radius_low < row.radius < row.radius_high
    assert table["radius"].is_monotonic_increasing
    assert table["trained"].tolist() == [False, True, False]
    assert (table["diverged"] == 0).all()


def test_orbit_radius_flags_trials_that_run_away():
    """x' = ReLU(2 x + 1 + u) grows without bound on every trial; the radius is then reported as diverged."""
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=2, alpha=1.0, sigma_rec=0.0, activation="relu", dtype="float64")
    p = Params(np.ones((2, 1)), 2 * np.eye(2), np.ones(2), np.eye(2), np.zeros(2))
    gen = GenerativeConfig(n_noise=1, burn_in=0)
    noise = hm.draw_noise(cfg, gen, 2, 6, 60, np.random.default_rng(0))
    table = hm.orbit_radius(p, cfg, gen, noise, None, [0.0, 1.0], n_boot=50)
    assert (table["diverged"] == 1.0).all()


def _with_fixed_point(p, cfg, x_star, phi):
    """b such that F(x*) = x*: x* = W phi(x*) + b under u = 0."""
    return dataclasses.replace(p, b=x_star - p.W @ phi(x_star))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_zero_input_fixed_point_of_a_network_with_a_known_one(activation):
    p, cfg = random_net(N=5, activation=activation, seed=5)
    p = dataclasses.replace(p, W=0.5 * p.W)  # contracting: x* is the only fixed point
    x_star = np.array([0.3, -0.2, 0.5, 0.1, -0.4])
    phi = np.tanh if activation == "tanh" else (lambda x: np.maximum(x, 0))
    p = _with_fixed_point(p, cfg, x_star, phi)
    states = x_star + 0.3 * np.random.default_rng(6).standard_normal((20, 4, 5))
    table, x = hm.zero_input_fixed_points(p, cfg, states, 16, 12, np.random.default_rng(7))
    fixed = table["kind"] == "fixed"
    assert fixed.sum() == 1 and table["method"][0] == ("optimisation" if activation == "tanh" else "enumeration")
    assert np.allclose(x[fixed.to_numpy()][0], x_star, atol=1e-7)
    slope = 1 - np.tanh(x_star) ** 2 if activation == "tanh" else (x_star > 0).astype(float)
    J = (1 - cfg.alpha) * np.eye(5) + cfg.alpha * p.W * slope[None, :]
    lead = np.max(np.abs(np.linalg.eigvals(J)))
    row = table[fixed].iloc[0]
    assert row["stability"] == "stable" and row["reference"]
    assert row["max_modulus"] == pytest.approx(lead, rel=1e-9)
    assert np.abs(hm.leading_eigenvalues(p, cfg, x_star, 2)[0]) == pytest.approx(lead, rel=1e-9)


def kick_network(gain=100.0):
    """Four identical units read out together follow unit 4, a slow integrator of the input noise that alone
    makes the symbol switch; unit 5 receives noise but projects nowhere, unit 6 reaches the output only
    faintly. Linear units."""
    N, k = 7, 4
    W, W_in, W_out = np.zeros((N, N)), np.zeros((N, 1)), np.zeros((2, N))
    W[4, 4] = 0.9
    for j in range(k):
        W[j, 4] = 1.0
        W_out[:, j] = [gain / k, -gain / k]
    W_in[4:7, 0] = 1.0
    W_out[:, 6] = [0.01, -0.01]
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=2, activation="alrnn", n_relu=0, sigma_rec=0.0, dtype="float64")
    return Params(W_in, W, np.zeros(N), W_out, np.zeros(2)), cfg


def test_kick_unit_detection_finds_the_one_unit_that_drives_transitions():
    p, cfg = kick_network()
    gen, hmm = GenerativeConfig(), preset("linear2")
    rng = np.random.default_rng(8)
    noise = hm.draw_noise(cfg, gen, 2, 48, 150, rng)
    null = [hm.draw_noise(cfg, gen, 2, 48, 150, rng) for _ in range(12)]
    table = hm.perturbation_table(p, cfg, gen, hmm, noise, [0.0, 2.0], null)
    kicks = hm.kick_units(table, alpha=0.05)
    assert kicks["unit"].iloc[0] == 4 and kicks["rank"].iloc[0] == 1
    assert kicks["kick"].tolist() == [True] + [False] * 6
    assert kicks.loc[kicks["unit"] == 5, "effect"].item() == 0
    assert kicks["effect"].iloc[0] > 10 * kicks["threshold"].iloc[0]


def test_kick_threshold_is_the_bonferroni_normal_quantile_of_the_null():
    null = np.array([0.01, 0.02, 0.03, 0.02])
    rows = [{"kind": "redraw", "unit": -1, "mu": 1.0, "transition_change": v, "switch_rate_change": 0.0,
             "occupancy_change": 0.0} for v in null]
    rows += [{"kind": "perturbed", "unit": i, "mu": mu, "transition_change": e, "switch_rate_change": 0.0,
              "occupancy_change": 0.0} for i, (e0, e1) in enumerate([(0.0, 0.05), (0.025, 0.01)])
             for mu, e in ((0.0, e0), (2.0, e1))]
    kicks = hm.kick_units(pd.DataFrame(rows), alpha=0.1)
    threshold = 0.02 + 1.6448536269514722 * np.std(null, ddof=1)  # z_(1 - 0.1 / 2)
    assert kicks["threshold"].iloc[0] == pytest.approx(threshold)
    assert kicks["unit"].tolist() == [0, 1] and kicks["mu"].tolist() == [2.0, 0.0]
    assert kicks["kick"].tolist() == [True, False]
    assert kicks["p_empirical"].tolist() == pytest.approx([1 / 5, 2 / 5])


def test_noise_kick_is_the_rms_step_of_the_noise():
    p, cfg = random_net(N=4, n_in=2)
    rng = np.random.default_rng(9)
    u = 1.5 * rng.standard_normal((20000, 2))
    eta = rng.standard_normal((20000, 4))
    kicks = cfg.alpha * u @ p.W_in.T + np.sqrt(2 * cfg.alpha) * cfg.sigma_rec * eta
    assert hm.noise_kick(p, cfg, 1.5) == pytest.approx(np.sqrt((kicks ** 2).sum(axis=1).mean()), rel=0.02)


@pytest.fixture(scope="module")
def trained_files(tmp_path_factory):
    """A tiny network trained on linear2, saved in the hmm stage's layout with two snapshots."""
    from altrnn.io import save_model, write_npz
    from altrnn.train.generative import train_generative

    hmm = preset("linear2")
    cfg = ModelConfig(n_in=1, n_rec=8, n_out=2, activation="relu")
    gen = GenerativeConfig(n_steps=10, batch_size=32, hmm_batch_size=32, max_iters=20, log_every=10,
                           tau_decay_iters=20)
    res = train_generative(hmm, cfg, gen, g=0.9, seed=0)
    d = tmp_path_factory.mktemp("hmm") / "nets" / "gen-s0"
    meta = {"hmm": {"name": "linear2", "transition": hmm.transition.tolist(), "emission": hmm.emission.tolist()},
            "generative": dataclasses.asdict(gen)}
    save_model(d / "model.npz", res.params, cfg, meta)
    write_npz(d / "snapshots.npz", iteration=np.array([0, 20]),
              **{k: np.stack([getattr(res.init, k), getattr(res.params, k)]) for k in ("W_in", "W", "b", "W_out",
                                                                                     "b_out")})
    return d, res.params, cfg, gen, hmm


def test_stage_job_on_a_tiny_trained_network(trained_files):
    from altrnn.stages import hmm_mechanism as stage

    d, params, cfg, gen, hmm = trained_files
    settings = dataclasses.asdict(SMALL)
    paths = {k: d / f for k, f in stage.TABLES.items()}
    stage.mechanism_job(settings, d / "model.npz", d / "snapshots.npz", paths)
    tables = {k: stage.read_csv(f) for k, f in paths.items()}
    assert set(tables["ablation"]["kind"]) == {"baseline", "perturbed", "redraw"}
    assert len(tables["kick_units"]) == 8 and tables["kick_units"]["rank"].tolist() == list(range(1, 9))
    assert tables["orbit_radius"]["variance"].tolist() == [*SMALL.noise_variances, 0.0]
    assert tables["orbit_radius"]["recurrent_noise"].tolist() == [True] * 4 + [False]
    assert tables["fixed_points"]["method"].eq("enumeration").all()
    phase = tables["training_phase"]
    assert phase["iteration"].tolist() == [0, 20]
    direct = evaluate_generator(params, cfg, gen, hmm, SMALL.eval_trials, SMALL.eval_steps, seed=SMALL.seed)
    for key in hm.STAT_KEYS:
        assert phase[key].iloc[-1] == pytest.approx(direct[key])
    # the last snapshot is the saved network: its fixed points are the stage's own
    assert phase["n_fixed"].iloc[-1] == (tables["fixed_points"]["kind"] == "fixed").sum()


def test_stage_job_names_a_file_without_hmm_metadata(trained_files, tmp_path):
    from altrnn.io import save_model, write_npz
    from altrnn.stages import hmm_mechanism as stage

    _, params, cfg, _, _ = trained_files
    save_model(tmp_path / "model.npz", params, cfg, {})
    paths = {k: tmp_path / f for k, f in stage.TABLES.items()}
    with pytest.raises(ValueError, match="model.npz.*hmm"):
        stage.mechanism_job({}, tmp_path / "model.npz", None, paths)
    write_npz(tmp_path / "snapshots.npz", iteration=np.array([0]))
    with pytest.raises(ValueError, match="snapshots.npz.*W_in"):
        stage.mechanism_job({}, trained_files[0] / "model.npz", tmp_path / "snapshots.npz", paths)
    with pytest.raises(ValueError, match="hmm_mechanism.mus"):
        stage.mechanism_job({"mus": "two"}, trained_files[0] / "model.npz", None, paths)
    assert not any(p.exists() for p in paths.values())


def test_figures_of_the_stage(trained_files, tmp_path):
    from altrnn.stages import hmm_mechanism as stage

    d = trained_files[0]
    paths = {k: d / f for k, f in stage.TABLES.items()}
    if not all(p.exists() for p in paths.values()):
        stage.mechanism_job(dataclasses.asdict(SMALL), d / "model.npz", d / "snapshots.npz", paths)
    outputs = {name: (tmp_path / f"{name}.pdf", tmp_path / f"{name}.png") for name in stage.FIGURES}
    stage.figure_job("linear2", {k: [p] for k, p in paths.items()}, outputs)
    assert all(pdf.stat().st_size > 1000 and png.stat().st_size > 1000 for pdf, png in outputs.values())

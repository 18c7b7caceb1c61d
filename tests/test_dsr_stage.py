"""Stage dsr: the config section, the data job, and a real Snakemake run on trajectories from a file."""

import numpy as np
import pandas as pd
import pytest
from tiny import snakemake, write_config

from altrnn import config
from altrnn.dsr.systems import SYSTEMS
from altrnn.io import ResultFileError, load_model, read_npz
from altrnn.stages import dsr as stage


def test_section_merges_per_system_values_and_needs_no_tasks():
    cfg = config.load({"dsr": {"n_relu": [1, 2], "seeds": [0, 3], "teacher_forcing": {"max_iters": 7},
                               "systems": {"lorenz63": None,
                                           "ross": {"system": "rossler", "n_relu": [1],
                                                    "teacher_forcing": {"lr": 0.01}},
                                           "mine": {"path": "x.npz"}}}})
    assert cfg.units == {} and list(cfg.dsr) == ["lorenz63", "ross", "mine"]
    assert cfg.dsr["lorenz63"].net_ids() == ["alrnn-P1-s0", "alrnn-P1-s3", "alrnn-P2-s0", "alrnn-P2-s3"]
    assert cfg.dsr["ross"].settings.system == "rossler" and cfg.dsr["ross"].settings.n_relu == (1,)
    assert cfg.dsr["ross"].teacher_forcing["lr"] == 0.01 and cfg.dsr["ross"].teacher_forcing["max_iters"] == 7
    assert cfg.dsr["mine"].settings.system is None
    assert set(config.DSR_SYSTEMS) == set(SYSTEMS)


@pytest.mark.parametrize("section,message", [
    ({"systems": {"henon": None}}, "dsr.systems.henon: 'henon' is not a simulated system"),
    ({"systems": {"lorenz63": {"n_relu": [18]}}}, r"dsr.systems.lorenz63.n_relu: at most n_latent - 3 = 17"),
    ({"systems": {"a": {"path": "x.csv"}}}, r"dsr.systems.a.path: 'x.csv' is not an .npz file"),
    ({"systems": {"a": {"path": "x.npz", "system": "rossler"}}}, "dsr.systems.a: give either system"),
    ({"systems": {"lorenz63": {"teacher_forcing": {"forcing_interval": 0}}}},
     "dsr.systems.lorenz63.teacher_forcing.forcing_interval must be an integer >= 1"),
    ({"systems": {"lorenz63": {"teacher_forcing": {"tau": 3}}}}, "dsr.systems.lorenz63.teacher_forcing.tau: unknown"),
    ({"systems": {"lorenz63": None}, "n_bins": 1}, "dsr.n_bins: must be >= 2"),
    ({"systems": {"lorenz63": {"bins": 1}}}, "dsr.systems.lorenz63.bins: unknown key"),
])
def test_section_errors_name_the_key(section, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load({"dsr": section})


def test_data_job_simulates_splits_and_standardises(tmp_path):
    spec = {"system": "rossler", "path": None, "dt": 0.1, "n_steps": 300, "n_trajectories": 2, "test_steps": 200,
            "n_test": 1, "test_fraction": 0.25, "data_seed": 0, "standardise": True}
    stage.data_job(spec, tmp_path / "data.npz")
    d = read_npz(tmp_path / "data.npz")
    assert d["train"].shape == (300, 2, 3) and d["test"].shape == (200, 1, 3)
    np.testing.assert_allclose(d["train"].mean(axis=(0, 1)), 0, atol=1e-12)
    np.testing.assert_allclose(d["train"].std(axis=(0, 1)), 1, atol=1e-12)
    assert not np.allclose(d["train"][:, 0], d["train"][:, 1])  # different starts
    # a file with one trajectory: the last test_fraction of its steps is held out
    np.savez(tmp_path / "one.npz", trajectories=np.arange(40.0).reshape(20, 2))
    stage.data_job({**spec, "path": str(tmp_path / "one.npz"), "standardise": False}, tmp_path / "d1.npz")
    d = read_npz(tmp_path / "d1.npz")
    assert d["train"].shape == (15, 1, 2) and d["test"].shape == (5, 1, 2) and d["test"][0, 0, 0] == 30
    with pytest.raises(ValueError, match="missing.npz: file not found"):
        stage.data_job({**spec, "path": str(tmp_path / "missing.npz")}, tmp_path / "d2.npz")
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match=r"bad.npz: needs an array `trajectories`"):
        stage.data_job({**spec, "path": str(tmp_path / "bad.npz")}, tmp_path / "d3.npz")


def test_evaluate_scores_the_true_map_zero_and_a_diverging_one_infinite():
    from altrnn.dsr import training
    from altrnn.model import ModelConfig

    A = 0.999 * np.array([[np.cos(0.2), -np.sin(0.2)], [np.sin(0.2), np.cos(0.2)]])
    x = np.zeros((500, 2, 2))
    x[0] = [[1.0, 0.0], [0.0, 2.0]]
    for t in range(499):
        x[t + 1] = x[t] @ A.T
    cfg = ModelConfig(n_in=1, n_rec=3, n_out=2, activation="alrnn", n_relu=1, alpha=1.0, sigma_rec=0.0,
                      dtype="float64")
    p = training.init_params(cfg, 0.0, np.random.default_rng(0), has_inputs=False)
    p.W[:] = 0
    p.W[1:, 1:] = A  # the observed units 1, 2 follow the true map; the ReLU unit 0 stays at 0 (off)
    scores, _ = stage.evaluate(p, cfg, {"train": x, "test": x[:, :1]}, n_bins=10, sigma=2.0)
    for split in ("train", "test"):
        assert scores[split]["d_stsp"] == pytest.approx(0, abs=1e-12)
        assert scores[split]["d_h"] == pytest.approx(0, abs=1e-7)
        assert (scores[split]["n_regions"], scores[split]["entropy"]) == (1, 0.0)
    p.W[1:, 1:] = 10 * A  # grows tenfold per step: overflows after about 300 steps
    with np.errstate(over="ignore", invalid="ignore"):
        scores, _ = stage.evaluate(p, cfg, {"train": x, "test": x}, n_bins=10, sigma=2.0)
    assert scores["test"]["d_stsp"] == np.inf and scores["test"]["d_h"] == 1.0


def test_workflow_fits_trajectories_from_a_file(tmp_path):
    """A linear system driven by an input, from a file: the fit's files, scores and figure."""
    rng = np.random.default_rng(0)
    A = 0.95 * np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
    T, n = 150, 4
    u = rng.standard_normal((T, n, 1))
    x = np.zeros((T, n, 2))
    x[0] = rng.standard_normal((n, 2))
    for t in range(T - 1):
        x[t + 1] = x[t] @ A.T + 0.5 * u[t] * np.array([1.0, 0.0])
    np.savez(tmp_path / "lin.npz", trajectories=x, inputs=u)
    write_config(tmp_path, {"dsr": {"n_latent": 4, "n_relu": [1], "teacher_forcing": {
        "sequence_length": 20, "forcing_interval": 5, "batch_size": 8, "lr": 0.01, "max_iters": 200,
        "log_every": 50}, "systems": {"lin": {"path": "lin.npz"}}}})
    snakemake(tmp_path)
    net = tmp_path / "results/dsr/lin/nets/alrnn-P1-s0"
    for f in ("model.npz", "train_log.csv", "dsr_metrics.csv", "symbolic.csv", "symbolic_edges.csv", "dsr.pdf",
              "dsr.png"):
        assert (net / f).is_file(), f
    assert not (net / "checkpoint.npz").exists()
    saved = load_model(net / "model.npz")
    assert (saved.config.activation, saved.config.n_relu, saved.config.n_in, saved.config.n_out) == ("alrnn", 1, 1, 2)
    assert saved.metadata["observation"]["units"] == [1, 3]
    metrics = stage.read_metrics(net / "dsr_metrics.csv")
    assert list(metrics["split"]) == ["train", "test"] and metrics["published_min_n_relu"].isna().all()
    assert metrics["d_stsp"].notna().all() and (metrics["d_h"] < 0.5).all()
    log = pd.read_csv(net / "train_log.csv")
    assert list(log["iteration"]) == [50, 100, 150, 200] and log["loss"].iloc[-1] < log["loss"].iloc[0]


def test_read_metrics_rejects_foreign_tables(tmp_path):
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "dsr_metrics.csv", index=False)
    with pytest.raises(ResultFileError, match="dsr_metrics.csv"):
        stage.read_metrics(tmp_path / "dsr_metrics.csv")

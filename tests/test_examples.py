"""The shipped example files (config/examples/) equal what altrnn.examples writes, each loads through its own
loader, and they fit together: the lab model roughly solves the task and the recording is a noisy readout of it."""

import os

import numpy as np
import pytest

from altrnn import config, examples
from altrnn.analysis import recordings
from altrnn.model.imports import read_network
from altrnn.tasks import make_task

from tiny import REPO

SHIPPED = REPO / "config" / "examples"


def arrays(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_shipped_examples_equal_the_generator(tmp_path):
    written = examples.write_examples(tmp_path)
    assert {p.name for p in written.values()} == {p.name for p in SHIPPED.iterdir()}
    for path in written.values():
        new, old = arrays(path), arrays(SHIPPED / path.name)
        assert sorted(new) == sorted(old), path.name
        for k in new:
            assert new[k].dtype == old[k].dtype and new[k].shape == old[k].shape, (path.name, k)
            np.testing.assert_array_equal(new[k], old[k], err_msg=f"{path.name}: {k}")
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 300_000


def test_examples_load_and_fit_together():
    task = make_task("arrays", {"path": str(SHIPPED / "task.npz"), "tolerance": 0.5})
    assert (task.n_in, task.n_out, task.n_file_trials) == (2, 1, 128)
    batch = task.batch(128, np.random.default_rng(0))
    assert set(task.task_variables(batch)) == {"coherence", "choice"}

    params, naming, _ = read_network(SHIPPED / "lab_rnn.npz", task.n_in, task.n_out)
    assert naming == "torch" and params.W.shape == (examples.N_LAB, examples.N_LAB)

    rec = recordings.load_recording(SHIPPED / "recording.npz", task.n_in)
    assert rec.activity.shape == (50, 128, examples.N_UNITS)
    assert [g.size for g in rec.groups] == [examples.REPEATS] * len(examples.COHERENCES) and rec.has_repeats

    # the lab model, run as the workflow runs an imported network, roughly solves the task (on the file's trials,
    # which are also the recorded trials)
    np.testing.assert_array_equal(rec.inputs, task._data["inputs"])
    lab = examples.lab_rates(SHIPPED / "lab_rnn.npz", rec.inputs)
    y = lab @ params.W_out.T + params.b_out
    d = task._data
    mse = np.sum(d["mask"] * (y - d["targets"]) ** 2) / np.sum(d["mask"])
    scored = d["mask"][..., 0] > 0
    sign_acc = np.mean(np.sign(y[..., 0][scored]) == d["targets"][..., 0][scored])
    assert mse < 0.3 and sign_acc > 0.9, (mse, sign_acc)

    # the recording is a noisy linear readout of the lab model: its condition averages are predicted well from
    # the lab rates, and not from the same rates played backwards in time
    X, Y = recordings._average(lab, rec.groups), recordings._average(rec.activity, rec.groups)
    folds = np.arange(len(rec.groups)) % 4
    r2 = recordings.cv_predictability(X, Y, folds, 1e-3)
    r2_wrong = recordings.cv_predictability(X[::-1], Y, folds, 1e-3)
    assert r2 > 0.9 and r2_wrong < r2 - 0.15, (r2, r2_wrong)


def test_default_config_uses_the_examples(monkeypatch):
    monkeypatch.chdir(REPO)  # relative paths are relative to where Snakemake runs: the repository root
    unit = config.load(config.read_yaml("config/config.yaml")).units["own_data"]
    assert unit.task == "arrays" and unit.params["path"] == "config/examples/task.npz"
    assert unit.imported["lab"].path == "config/examples/lab_rnn.npz"
    assert unit.recordings.path == "config/examples/recording.npz"
    assert all(os.path.exists(p) for p in (unit.params["path"], unit.imported["lab"].path, unit.recordings.path))

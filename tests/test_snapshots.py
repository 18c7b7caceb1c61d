"""Weight snapshots through training (train.snapshot_every): which iterations, determinism, resume."""

import numpy as np
import pytest

from altrnn.io import read_npz
from altrnn.model import ModelConfig
from altrnn.stages import train as train_stage
from altrnn.tasks import make_task
from altrnn.train import TrainConfig, train


def small(**kw):
    task = make_task("flipflop", {"T": 20})
    cfg = ModelConfig(n_in=task.n_in, n_rec=8, n_out=task.n_out, activation="relu")
    tc = TrainConfig(**{"batch_size": 8, "lr": 3e-3, "max_iters": 25, "log_every": 5, "checkpoint_every": 10,
                        "snapshot_every": 10, **kw})
    return task, cfg, tc


class Interrupt(Exception):
    pass


def crash_at(n):
    calls = []

    def factory(inputs, iteration):
        calls.append(1)
        if len(calls) == n:
            raise Interrupt
        return None
    return factory


def test_snapshots_at_start_every_k_and_end():
    task, cfg, tc = small()
    res = train(task, cfg, tc, g=1.0, seed=0)
    snap = res.snapshots
    assert snap["iteration"].tolist() == [0, 10, 20, 25]
    assert snap["W"].shape == (4, 8, 8) and snap["b_out"].shape == (4, task.n_out)
    for name, a in res.init.as_dict().items():
        np.testing.assert_array_equal(snap[name][0], a)
    for name, a in res.params.as_dict().items():
        np.testing.assert_array_equal(snap[name][-1], a)
    # the snapshot at 10 is the final weights of a run of 10 iterations
    short = train(task, cfg, small(max_iters=10)[2], g=1.0, seed=0)
    np.testing.assert_array_equal(snap["W"][1], short.params.W)
    assert not np.array_equal(snap["W"][1], snap["W"][2])
    off = train(task, cfg, small(snapshot_every=0)[2], g=1.0, seed=0)
    assert off.snapshots is None
    np.testing.assert_array_equal(off.params.W, res.params.W)  # snapshots change nothing else


def test_snapshots_survive_a_resume(tmp_path):
    task, cfg, tc = small()
    straight = train(task, cfg, tc, g=1.0, seed=1)
    ckpt = tmp_path / "checkpoint.npz"
    with pytest.raises(Interrupt):
        train(task, cfg, tc, g=1.0, seed=1, checkpoint=ckpt, penalty_factory=crash_at(23))
    assert read_npz(ckpt)["snapshot_iteration"].tolist() == [0, 10, 20]
    resumed = train(task, cfg, tc, g=1.0, seed=1, checkpoint=ckpt)
    for name in straight.snapshots:
        assert resumed.snapshots[name].tobytes() == straight.snapshots[name].tobytes(), name


def test_stage_writes_snapshots_npz(tmp_path):
    task, cfg, tc = small(max_iters=12)
    paths = {k: tmp_path / f"{k}" for k in ("model.npz", "log.csv", "snapshots.npz")}
    train_stage.train_and_save(task, cfg, tc, 1.0, 0, "std-g1-s0", paths["model.npz"], paths["log.csv"],
                               snapshots_path=paths["snapshots.npz"])
    saved = read_npz(paths["snapshots.npz"])
    assert saved["iteration"].tolist() == [0, 10, 12]
    with pytest.raises(ValueError, match="snapshot_every"):
        train_stage.train_and_save(task, cfg, small(snapshot_every=0)[2], 1.0, 0, "x", tmp_path / "m2.npz",
                                   tmp_path / "l2.csv", snapshots_path=tmp_path / "s2.npz")

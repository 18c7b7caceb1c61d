"""The training loop: learning, determinism, resuming, divergence, model files."""

import numpy as np
import pytest

from altrnn.insd import insd_penalty_factory
from altrnn.stages import evaluate as evaluate_stage
from altrnn.stages import train as train_stage
from altrnn.io import ResultFileError, load_model
from altrnn.model import ModelConfig
from altrnn.tasks import make_task
from altrnn.train import TrainConfig, TrainingDiverged, train


def small(task_name="flipflop", **train_kw):
    task = make_task("flipflop", {"T": 30}) if task_name == "flipflop" else make_task(task_name)
    cfg = ModelConfig(n_in=task.n_in, n_rec=16, n_out=task.n_out)
    tc = TrainConfig(**{"batch_size": 16, "lr": 3e-3, "max_iters": 30, "log_every": 5, "checkpoint_every": 10,
                        **train_kw})
    return task, cfg, tc


def test_flipflop_reaches_loss_target():
    task = make_task("flipflop", {"T": 60})
    cfg = ModelConfig(n_in=3, n_rec=32, n_out=3)
    tc = TrainConfig(batch_size=32, lr=1e-2, max_iters=1500, loss_target=0.1, log_every=20)
    result = train(task, cfg, tc, g=1.0, seed=0)
    assert result.converged, result.log.tail()
    assert result.log["task_loss"].iloc[-1] < 0.1 < result.log["task_loss"].iloc[0]


def test_same_seed_gives_bitwise_identical_weights():
    task, cfg, tc = small()
    a = train(task, cfg, tc, g=1.0, seed=3).params
    b = train(task, cfg, tc, g=1.0, seed=3).params
    c = train(task, cfg, tc, g=1.0, seed=4).params
    for x, y, z in zip(a.arrays(), b.arrays(), c.arrays()):
        assert x.tobytes() == y.tobytes()
    assert not np.array_equal(a.W, c.W)


class Interrupt(Exception):
    """Stands in for the job being killed."""


def crash_at(n):
    """A penalty factory that raises at the n-th iteration (and otherwise adds no penalty)."""
    calls = []

    def factory(inputs, iteration):
        calls.append(1)
        if len(calls) == n:
            raise Interrupt
        return None

    return factory


def test_killed_run_resumes_from_checkpoint_to_the_same_weights(tmp_path):
    task, cfg, tc = small()
    ckpt = tmp_path / "checkpoint.npz"
    with pytest.raises(Interrupt):
        train(task, cfg, tc, g=1.0, seed=0, checkpoint=ckpt, penalty_factory=crash_at(25))
    assert ckpt.exists()  # written at iteration 20
    resumed = train(task, cfg, tc, g=1.0, seed=0, checkpoint=ckpt)
    assert not ckpt.exists()  # removed on success
    straight = train(task, cfg, tc, g=1.0, seed=0)
    for x, y in zip(resumed.params.arrays(), straight.params.arrays()):
        assert x.tobytes() == y.tobytes()
    assert list(resumed.log["iteration"]) == list(straight.log["iteration"])


def test_checkpoint_of_other_settings_is_ignored(tmp_path):
    task, cfg, tc = small()
    ckpt = tmp_path / "checkpoint.npz"
    with pytest.raises(Interrupt):
        train(task, cfg, tc, g=1.0, seed=0, checkpoint=ckpt, penalty_factory=crash_at(25))
    other = train(task, cfg, tc, g=1.0, seed=1, checkpoint=ckpt)
    straight = train(task, cfg, tc, g=1.0, seed=1)
    assert other.params.W.tobytes() == straight.params.W.tobytes()


def test_diverging_training_fails_clearly_and_writes_nothing(tmp_path):
    task, _, tc = small(lr=50.0, grad_clip=0.0, max_iters=200, checkpoint_every=1)
    cfg = ModelConfig(n_in=task.n_in, n_rec=16, n_out=task.n_out, activation="relu")
    model, log = tmp_path / "model.npz", tmp_path / "train_log.csv"
    with pytest.raises(TrainingDiverged, match="diverged at iteration"):
        train_stage.train_and_save(task, cfg, tc, 3.0, 0, "std-g3-s0", str(model), str(log))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_model_file_round_trip_and_corruption(tmp_path):
    task, cfg, tc = small()
    model, log = tmp_path / "model.npz", tmp_path / "train_log.csv"
    result = train_stage.train_and_save(task, cfg, tc, 1.0, 0, "std-g1-s0", str(model), str(log))
    saved = load_model(model)
    assert saved.config == cfg
    assert saved.metadata["task"] == "flipflop" and saved.metadata["seed"] == 0
    assert saved.metadata["task_params"]["T"] == 30 and "version" in saved.metadata
    assert saved.params.W.tobytes() == result.params.W.tobytes()
    data = model.read_bytes()
    model.write_bytes(data[: len(data) // 2])
    with pytest.raises(ResultFileError, match="model.npz"):
        load_model(model)


def test_evaluation_table_covers_every_condition():
    task, cfg, tc = small()
    result = train(task, cfg, tc, g=1.0, seed=0)
    from altrnn.io import SavedModel

    table = evaluate_stage.evaluate(SavedModel(result.params, cfg, {}), task, n_trials=8, seed=0)
    assert list(table.columns) == ["condition", "loss", "accuracy"]
    assert list(table["condition"]) == ["in_distribution", *task.ood_variants()]
    assert table["loss"].notna().all() and table["accuracy"].between(0, 1).all()


def test_insd_penalty_weight_ramps_up_over_the_warmup():
    task, cfg, tc = small()
    ref = train(task, cfg, tc, g=1.0, seed=0).params
    from altrnn.io import SavedModel

    factory = insd_penalty_factory({"ref": SavedModel(ref, cfg, {})}, lam=2.0, rho=1e-3,
                                              rho_mode="relative", warmup=4)
    inputs = task.batch(4, np.random.default_rng(0)).inputs
    assert [factory(inputs, it).lam for it in range(6)] == [0.5, 1.0, 1.5, 2.0, 2.0, 2.0]
    no_warmup = insd_penalty_factory({"ref": SavedModel(ref, cfg, {})}, 2.0, 1e-3, "relative")
    assert no_warmup(inputs, 0).lam == 2.0


def test_checkpoint_of_another_identity_is_ignored(tmp_path):
    task, cfg, tc = small()
    ckpt = tmp_path / "checkpoint.npz"
    with pytest.raises(Interrupt):
        train(task, cfg, tc, g=1.0, seed=0, checkpoint=ckpt, penalty_factory=crash_at(25), identity={"lambda": 1})
    other = train(task, cfg, tc, g=1.0, seed=0, checkpoint=ckpt, identity={"lambda": 2})
    assert other.log["iteration"].iloc[0] == tc.log_every  # started over, not resumed at 20

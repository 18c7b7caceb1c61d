"""The training loop: learning, determinism, resuming, divergence, model files."""

from dataclasses import replace

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


def test_training_loop_is_adam_on_the_trainable_arrays():
    """The trainer's iteration, written out by hand: per-iteration seeded batch and noise, loss_and_grad on the
    effective weights, gradients times c, clipping, Adam with lr (times gamma in mean field). Pins the standard
    path bitwise and checks the mean-field chain and learning-rate rule."""
    from altrnn.model import effective_params, init_params, recurrent_noise, trainable_grads
    from altrnn.train.adam import Adam, clip_by_global_norm
    from altrnn.train.objective import loss_and_grad
    from altrnn.train.trainer import batch_rng

    task, base, tc = small(max_iters=12, l1=1e-3, nuclear=1e-3, weight_l2=1e-3)
    for parameterisation, gamma in (("standard", 1.0), ("mean_field", 4.0)):
        cfg = ModelConfig(**{**base.__dict__, "parameterisation": parameterisation, "gamma": gamma})
        theta = init_params(cfg, 1.2, np.random.default_rng([5, 0]))
        start = effective_params(theta, cfg).copy()
        opt = Adam(theta, lr=tc.lr * gamma)
        for it in range(tc.max_iters):
            rng = batch_rng(5, it)
            batch = task.batch(tc.batch_size, rng)
            noise = recurrent_noise(cfg, (*batch.inputs.shape[:2], cfg.n_rec), rng)
            _, grads, _ = loss_and_grad(effective_params(theta, cfg), cfg, batch.inputs, batch.targets, batch.mask,
                                        noise, weight_l2=tc.weight_l2, l1=tc.l1, nuclear=tc.nuclear)
            trainable_grads(grads, cfg)
            clip_by_global_norm(grads, tc.grad_clip)
            opt.step(theta, grads)
        result = train(task, cfg, tc, g=1.2, seed=5)
        for name, x, y in zip(("W_in", "W", "b", "W_out", "b_out"), result.params.arrays(),
                              effective_params(theta, cfg).arrays()):
            assert x.tobytes() == y.tobytes(), (parameterisation, name)
        for x, y in zip(result.init.arrays(), start.arrays()):
            assert x.tobytes() == y.tobytes()


def test_patience_trains_on_for_log_windows_after_the_target():
    task, cfg, tc = small(loss_target=100.0, max_iters=200)  # reached at the first log window
    assert train(task, cfg, tc, g=1.0, seed=0).iterations == 5
    result = train(task, cfg, replace(tc, patience=3), g=1.0, seed=0)
    assert result.converged and result.iterations == 20 and list(result.log["iteration"]) == [5, 10, 15, 20]
    unreached = train(task, cfg, replace(tc, loss_target=1e-9, patience=3, max_iters=30), g=1.0, seed=0)
    assert not unreached.converged and unreached.iterations == 30


def test_resume_during_patience_is_bitwise_identical(tmp_path):
    """Killed after the target was reached, a mean-field run with L1 and nuclear norm resumes to the same weights."""
    task, base, _ = small()
    cfg = ModelConfig(**{**base.__dict__, "parameterisation": "mean_field", "gamma": 2.0})
    tc = TrainConfig(batch_size=16, lr=3e-3, max_iters=200, log_every=5, checkpoint_every=10, loss_target=100.0,
                     patience=4, l1=1e-3, nuclear=1e-3)
    ckpt = tmp_path / "checkpoint.npz"
    with pytest.raises(Interrupt):
        train(task, cfg, tc, g=1.0, seed=0, checkpoint=ckpt, penalty_factory=crash_at(18))
    assert ckpt.exists()  # written at iteration 10, after the target (iteration 5)
    resumed = train(task, cfg, tc, g=1.0, seed=0, checkpoint=ckpt)
    straight = train(task, cfg, tc, g=1.0, seed=0)
    assert resumed.iterations == straight.iterations == 25
    for x, y in zip(resumed.params.arrays(), straight.params.arrays()):
        assert x.tobytes() == y.tobytes()
    assert resumed.log.equals(straight.log.assign(seconds=resumed.log["seconds"]))


def test_alpha_one_is_the_discrete_time_vanilla_rnn():
    """a = 1, no noise: r[t+1] = tanh(W r[t] + W_in u[t] + b), i.e. h_t = tanh(W h_{t-1} + W_x x_t + b)."""
    from altrnn.model import forward, init_params

    cfg = ModelConfig(n_in=3, n_rec=10, n_out=2, alpha=1.0, sigma_rec=0.0, dtype="float64")
    rng = np.random.default_rng(0)
    p = init_params(cfg, 1.5, rng)
    p.b[:] = rng.standard_normal(10)
    u = rng.standard_normal((15, 4, 3))
    traj = forward(p, cfg, u)
    h = np.zeros((4, 10))
    for t in range(15):
        h = np.tanh(h @ p.W.T + u[t] @ p.W_in.T + p.b)
        np.testing.assert_allclose(traj.r[t + 1], h, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(traj.y[t], h @ p.W_out.T + p.b_out, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("parameterisation,gamma", [("standard", 1.0), ("mean_field", 0.5)])
def test_stage_saves_initial_weights_and_diagnostics(tmp_path, parameterisation, gamma):
    import pandas as pd

    from altrnn.model import effective_params, init_params

    task, base, tc = small()
    cfg = ModelConfig(**{**base.__dict__, "parameterisation": parameterisation, "gamma": gamma})
    model, log = tmp_path / "model.npz", tmp_path / "train_log.csv"
    result = train_stage.train_and_save(task, cfg, tc, 1.0, 0, "std-g1-s0", str(model), str(log))
    saved = load_model(model)
    start = effective_params(init_params(cfg, 1.0, np.random.default_rng([0, 0])), cfg).astype(np.float32)
    for x, y in zip(saved.init.arrays(), start.arrays()):
        assert x.tobytes() == y.tobytes()
    assert saved.params.W.tobytes() == result.params.W.tobytes()  # effective weights, as every analysis expects
    assert saved.config.parameterisation == parameterisation and saved.config.gamma == gamma
    diag = pd.read_csv(tmp_path / "diagnostics.csv")
    assert list(diag.columns) == ["weight_change", "kernel_alignment", "iterations", "converged"]
    change = np.linalg.norm(saved.params.W - saved.init.W) / np.linalg.norm(saved.init.W)
    assert diag["weight_change"].iloc[0] == pytest.approx(change, rel=1e-6) and change > 0
    assert 0 < diag["kernel_alignment"].iloc[0] < 1 and diag["iterations"].iloc[0] == 30

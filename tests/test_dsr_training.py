"""Teacher-forced training on trajectories (altrnn.dsr.training): exact gradients, linear recovery, resume, Lorenz."""

import numpy as np
import pytest

from altrnn.analysis.dsr_metrics import state_space_divergence
from altrnn.dsr import training as dsr
from altrnn.dsr.systems import simulate
from altrnn.model import ModelConfig, Params

F64 = dict(activation="alrnn", alpha=1.0, sigma_rec=0.0, dtype="float64")


def _reference_loss(p: Params, P, obs, u, tau, a):
    """Plain-numpy loss of the module docstring, one step at a time (independent of the kernels)."""
    L, B, D = obs.shape[0] - 1, obs.shape[1], obs.shape[2]
    M = p.W.shape[0]
    z = np.zeros((B, M))
    z[:, P:P + D] = obs[0]
    total = 0.0
    for t in range(L):
        if t > 0 and t % tau == 0:
            z[:, P:P + D] = a * obs[t] + (1 - a) * z[:, P:P + D]
        phi = z.copy()
        phi[:, :P] = np.maximum(phi[:, :P], 0)
        z = phi @ p.W.T + u[t] @ p.W_in.T + p.b
        total += np.sum((z[:, P:P + D] - obs[t + 1]) ** 2)
    return total / (L * B * D)


def test_window_loss_matches_reference_and_central_differences():
    cfg = ModelConfig(n_in=2, n_rec=6, n_out=2, n_relu=2, **F64)
    rng = np.random.default_rng(3)
    p = dsr.init_params(cfg, 0.5, rng)
    p.b[:] = 0.3 * rng.standard_normal(6)
    L, B = 9, 3
    obs, u = rng.standard_normal((L + 1, B, 2)), rng.standard_normal((L, B, 2))
    tf = dsr.TeacherForcingConfig(sequence_length=L, forcing_interval=3, forcing_strength=0.6)
    loss, grads = dsr.window_loss(p, cfg, obs, u, tf)
    assert loss == pytest.approx(_reference_loss(p, 2, obs, u, 3, 0.6), rel=1e-12)
    h = 1e-6
    for name in ("W", "W_in", "b"):
        arr, fd = getattr(p, name), np.zeros_like(getattr(p, name))
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            up = dsr.window_loss(p, cfg, obs, u, tf, grad=False)[0]
            arr[idx] = old - h
            down = dsr.window_loss(p, cfg, obs, u, tf, grad=False)[0]
            arr[idx] = old
            fd[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(getattr(grads, name), fd, rtol=1e-6, atol=1e-9, err_msg=name)
    assert not grads.W_out.any() and not grads.b_out.any()  # the observation model is fixed


def test_recovers_a_linear_system_exactly():
    """Data from z' = A z + c (P = 0, M = D): the fitted one-step map is (A, c) to ~1e-6."""
    rng = np.random.default_rng(0)
    theta = 0.3
    A = 0.97 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    c = np.array([0.1, -0.2])
    T, n = 60, 4
    x = np.empty((T, n, 2))
    x[0] = 2 * rng.standard_normal((n, 2))
    for t in range(T - 1):
        x[t + 1] = x[t] @ A.T + c
    cfg = ModelConfig(n_in=1, n_rec=2, n_out=2, n_relu=0, **F64)
    tf = dsr.TeacherForcingConfig(sequence_length=20, forcing_interval=5, batch_size=8, lr=0.02, lr_final=1e-4,
                                  max_iters=1500, log_every=500)
    res = dsr.fit_trajectories(x, cfg, tf, seed=1)
    np.testing.assert_allclose(res.params.W, A, atol=1e-6)
    np.testing.assert_allclose(res.params.b, c, atol=1e-6)
    assert res.final_loss < 1e-12


def test_deterministic_and_resumes_bitwise(tmp_path, monkeypatch):
    x = simulate("lorenz63", 400, seed=0)[:, None, :]
    x = (x - x.mean(axis=(0, 1))) / x.std(axis=(0, 1))
    cfg = ModelConfig(n_in=1, n_rec=8, n_out=3, n_relu=2, **F64)
    tf = dsr.TeacherForcingConfig(sequence_length=20, forcing_interval=5, batch_size=4, max_iters=30, log_every=10,
                                  checkpoint_every=10)
    full = dsr.fit_trajectories(x, cfg, tf, seed=5)
    again = dsr.fit_trajectories(x, cfg, tf, seed=5)
    # a run interrupted at iteration 25 (its checkpoint of iteration 20 left behind), then resumed
    ckpt = tmp_path / "ckpt.npz"
    original, calls = dsr.window_loss, []

    def interrupted(*args, **kw):
        calls.append(1)
        if len(calls) > 25:
            raise KeyboardInterrupt
        return original(*args, **kw)

    monkeypatch.setattr(dsr, "window_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        dsr.fit_trajectories(x, cfg, tf, seed=5, checkpoint=ckpt)
    monkeypatch.setattr(dsr, "window_loss", original)
    assert ckpt.exists()
    resumed = dsr.fit_trajectories(x, cfg, tf, seed=5, checkpoint=ckpt)
    assert not ckpt.exists()
    for a, b, c in zip(full.params.arrays(), again.params.arrays(), resumed.params.arrays()):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    cols = ["iteration", "loss", "grad_norm", "lr"]
    assert full.log[cols].equals(resumed.log[cols])
    other = dsr.fit_trajectories(x, cfg, tf, seed=6)
    assert not np.array_equal(other.params.W, full.params.W)


def test_lorenz63_short_fit_reaches_stated_state_space_divergence():
    """Two seconds of sparse teacher forcing (Lorenz-63 sampled every 0.02, standardised; M = 20, P = 2): the
    free-running AL-RNN started on a held-out stretch stays near the attractor, the median over seeds 0-2 of
    D_stsp (10 bins per dimension) against it below 4 (measured 2.03, 1.61, 1.70 on one machine; 3.39, 5.82,
    2.82 on another, where the rounding of the linear algebra differs and 2000 steps on a chaotic system
    amplify it; two true stretches of these lengths: 0.09), where the untrained network's is above 5
    (measured 9.1)."""
    series = simulate("lorenz63", 12000, dt=0.02, seed=0, rtol=1e-8, atol=1e-8)
    x = series[:4000]  # the rest, 160 time units later on, is held out
    mu, sd = x.mean(0), x.std(0)
    held_out = (series[4000:] - mu) / sd
    cfg = ModelConfig(n_in=1, n_rec=20, n_out=3, n_relu=2, **F64)
    tf = dsr.TeacherForcingConfig(sequence_length=40, forcing_interval=10, batch_size=32, lr=1e-2, lr_final=1e-4,
                                  max_iters=2000, log_every=1000)

    def divergence(p):
        generated = dsr.generate(p, cfg, held_out[:1], len(held_out))[:, 0]
        return state_space_divergence(held_out, np.nan_to_num(generated, posinf=1e6, neginf=-1e6), n_bins=10)

    fits = [dsr.fit_trajectories(((x - mu) / sd)[:, None, :], cfg, tf, seed=seed) for seed in (0, 1, 2)]
    d_fit = float(np.median([divergence(res.params) for res in fits]))
    d_init = divergence(fits[0].init)
    assert d_fit < 4 < 5 < d_init, (d_fit, d_init)


def test_bad_inputs_name_the_key():
    cfg = ModelConfig(n_in=1, n_rec=4, n_out=3, n_relu=1, **F64)
    x = np.zeros((30, 1, 3))
    with pytest.raises(ValueError, match="sequence_length"):
        dsr.fit_trajectories(x, cfg, dsr.TeacherForcingConfig(sequence_length=40), seed=0)
    with pytest.raises(ValueError, match="model.n_out"):
        dsr.fit_trajectories(x[..., :2], cfg, dsr.TeacherForcingConfig(sequence_length=10), seed=0)
    with pytest.raises(ValueError, match="model.alpha"):
        dsr.fit_trajectories(x, ModelConfig(n_in=1, n_rec=4, n_out=3, n_relu=1, activation="alrnn", alpha=0.5,
                                            sigma_rec=0.0), dsr.TeacherForcingConfig(sequence_length=10), seed=0)
    with pytest.raises(ValueError, match="teacher_forcing.forcing_strength"):
        dsr.TeacherForcingConfig.from_dict({"forcing_strength": 0})
    with pytest.raises(ValueError, match="teacher_forcing.bogus"):
        dsr.TeacherForcingConfig.from_dict({"bogus": 1})

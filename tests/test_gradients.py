"""BPTT gradients against central finite differences (float64, noise fixed)."""

import numpy as np
import pytest

from altrnn.model import (PARAM_NAMES, ModelConfig, effective_params, init_params, recurrent_noise,
                          trainable_grads)
from altrnn.train.objective import loss_and_grad


def finite_difference(f, params, name, h=1e-6):
    arr = getattr(params, name)
    out = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + h
        up = f()
        arr[idx] = old - h
        down = f()
        arr[idx] = old
        out[idx] = (up - down) / (2 * h)
    return out


def tiny_problem(activation, seed=0, T=12, B=3):
    rng = np.random.default_rng(seed)
    cfg = ModelConfig(n_in=3, n_rec=7, n_out=2, activation=activation, sigma_rec=0.1, dtype="float64")
    params = init_params(cfg, g=1.5, rng=rng)
    params.b[:] = 0.3 * rng.standard_normal(cfg.n_rec)  # non-zero biases so every term is exercised
    params.b_out[:] = rng.standard_normal(cfg.n_out)
    inputs = rng.standard_normal((T, B, cfg.n_in))
    targets = rng.standard_normal((T, B, cfg.n_out))
    mask = (rng.random((T, B, cfg.n_out)) < 0.7).astype(float)
    noise = recurrent_noise(cfg, (T, B, cfg.n_rec), rng)
    return cfg, params, inputs, targets, mask, noise


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("rate_l2,weight_l2", [(0.0, 0.0), (0.3, 0.05)])
def test_bptt_matches_finite_differences(activation, rate_l2, weight_l2):
    cfg, params, inputs, targets, mask, noise = tiny_problem(activation)

    def loss():
        return loss_and_grad(params, cfg, inputs, targets, mask, noise, rate_l2, weight_l2)[0].total

    terms, grads, _ = loss_and_grad(params, cfg, inputs, targets, mask, noise, rate_l2, weight_l2)
    assert (terms.rate > 0) == (rate_l2 > 0) and (terms.weight > 0) == (weight_l2 > 0)
    for name in PARAM_NAMES:
        fd = finite_difference(loss, params, name)
        analytic = getattr(grads, name)
        rel = np.max(np.abs(analytic - fd)) / np.max(np.abs(fd))
        assert rel < 1e-6, f"{name}: relative error {rel:.2e}"


def test_float32_kernel_tracks_float64():
    """The float32 path (fast tanh) stays within float32 accuracy of the exact float64 path."""
    cfg, params, inputs, targets, mask, noise = tiny_problem("tanh", T=40, B=5)
    cfg32 = ModelConfig(**{**cfg.__dict__, "dtype": "float32"})
    t64, g64, _ = loss_and_grad(params, cfg, inputs, targets, mask, noise)
    t32, g32, _ = loss_and_grad(params.astype(np.float32), cfg32, inputs, targets, mask, noise.astype(np.float32))
    assert abs(t32.total - t64.total) / t64.total < 1e-5
    for name in PARAM_NAMES:
        a, b = getattr(g32, name), getattr(g64, name)
        assert a.dtype == np.float32
        assert np.max(np.abs(a - b)) / np.max(np.abs(b)) < 1e-4


def test_structural_regularisers_match_finite_differences():
    """L1 on W_in, W, W_out and the nuclear norm of W, away from their kinks (no zero weight, W full rank)."""
    cfg, params, inputs, targets, mask, noise = tiny_problem("tanh", seed=1)
    assert min(np.abs(getattr(params, n)).min() for n in ("W_in", "W", "W_out")) > 1e-3
    assert np.linalg.svd(params.W, compute_uv=False).min() > 1e-3

    def loss():
        return loss_and_grad(params, cfg, inputs, targets, mask, noise, l1=0.4, nuclear=0.7)[0].total

    terms, grads, _ = loss_and_grad(params, cfg, inputs, targets, mask, noise, l1=0.4, nuclear=0.7)
    N = cfg.n_rec
    assert np.isclose(terms.nuclear, 0.7 * np.linalg.svd(params.W, compute_uv=False).sum() / N, rtol=1e-12)
    l1 = 0.4 * sum(np.abs(getattr(params, n)).mean() for n in ("W_in", "W", "W_out"))
    assert np.isclose(terms.l1, l1, rtol=1e-12)
    assert np.isclose(terms.total, terms.task + terms.l1 + terms.nuclear, rtol=1e-12)
    for name in PARAM_NAMES:
        fd = finite_difference(loss, params, name)
        rel = np.max(np.abs(getattr(grads, name) - fd)) / np.max(np.abs(fd))
        assert rel < 1e-6, f"{name}: relative error {rel:.2e}"


@pytest.mark.parametrize("parameterisation,gamma", [("standard", 1.0), ("mean_field", 1.0), ("mean_field", 3.0)])
def test_trainable_gradients_match_finite_differences(parameterisation, gamma):
    """dL/dtheta = c * dL/dW_eff through every term (task, rate and weight L2, L1, nuclear), in trainable coordinates."""
    base, _, inputs, targets, mask, noise = tiny_problem("relu", seed=2)
    cfg = ModelConfig(**{**base.__dict__, "parameterisation": parameterisation, "gamma": gamma})
    theta = init_params(cfg, g=1.5, rng=np.random.default_rng(5))
    theta.b[:] = 0.2
    theta.b_out[:] = -0.1
    kw = dict(rate_l2=0.1, weight_l2=0.05, l1=0.02, nuclear=0.03)

    def loss():
        return loss_and_grad(effective_params(theta, cfg), cfg, inputs, targets, mask, noise, **kw)[0].total

    grads = trainable_grads(loss_and_grad(effective_params(theta, cfg), cfg, inputs, targets, mask, noise, **kw)[1],
                            cfg)
    for name in PARAM_NAMES:
        fd = finite_difference(loss, theta, name)
        rel = np.max(np.abs(getattr(grads, name) - fd)) / np.max(np.abs(fd))
        assert rel < 1e-6, f"{name}: relative error {rel:.2e}"

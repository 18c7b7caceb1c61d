"""BPTT gradients against central finite differences (float64, noise fixed)."""

import numpy as np
import pytest

from altrnn.model import PARAM_NAMES, ModelConfig, init_params, recurrent_noise
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

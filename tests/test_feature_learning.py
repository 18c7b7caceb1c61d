"""Parameterisations and feature-learning diagnostics: scales, init, the output Jacobian and the tangent kernel."""

import dataclasses

import numpy as np
import pytest

from altrnn.analysis.feature_learning import (kernel_alignment, output_jacobian, probe_times,
                                              relative_weight_change, tangent_kernel)
from altrnn.model import (PARAM_NAMES, ModelConfig, Params, effective_params, forward, init_params,
                          parameter_scales, trainable_params)


def network(parameterisation="standard", gamma=1.0, activation="tanh", seed=0):
    cfg = ModelConfig(n_in=2, n_rec=6, n_out=2, activation=activation, dtype="float64",
                      parameterisation=parameterisation, gamma=gamma)
    rng = np.random.default_rng(seed)
    theta = init_params(cfg, 1.2, rng)
    theta.b[:] = 0.3 * rng.standard_normal(cfg.n_rec)
    theta.b_out[:] = rng.standard_normal(cfg.n_out)
    inputs = rng.standard_normal((9, 3, cfg.n_in))
    return cfg, theta, inputs


def test_mean_field_scales_and_init_match_the_standard_effective_weights():
    N, gamma = 50, 2.5
    std = ModelConfig(n_in=3, n_rec=N, n_out=2, dtype="float64")
    mf = dataclasses.replace(std, parameterisation="mean_field", gamma=gamma)
    assert parameter_scales(std) is None
    c = parameter_scales(mf)
    assert c == {"W_in": 1 / np.sqrt(3), "W": 1 / np.sqrt(N), "b": 1.0, "W_out": 1 / (gamma * N), "b_out": 1.0}
    p_std = init_params(std, 1.5, np.random.default_rng(0))
    theta = init_params(mf, 1.5, np.random.default_rng(0))
    eff = effective_params(theta, mf)
    # same draws: the effective recurrent and input weights are the standard ones, W ~ N(0, g^2/N)
    np.testing.assert_allclose(eff.W, p_std.W, rtol=1e-14)
    np.testing.assert_allclose(eff.W_in, p_std.W_in, rtol=1e-14)
    # the readout: O(1) trainable entries times 1/(gamma N)
    np.testing.assert_allclose(theta.W_out, p_std.W_out * np.sqrt(N), rtol=1e-14)
    np.testing.assert_allclose(eff.W_out, theta.W_out / (gamma * N), rtol=1e-14)
    assert abs(theta.W.std() - 1.5) < 0.1  # trainable entries O(1): N(0, g^2)
    for a, b in zip(trainable_params(eff, mf).arrays(), theta.arrays()):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    assert effective_params(p_std, std) is p_std


def test_gamma_without_mean_field_is_rejected():
    with pytest.raises(ValueError, match="gamma"):
        ModelConfig(n_in=1, n_rec=2, n_out=1, gamma=2.0)
    with pytest.raises(ValueError, match="parameterisation"):
        ModelConfig(n_in=1, n_rec=2, n_out=1, parameterisation="mup")


@pytest.mark.parametrize("parameterisation,gamma,activation",
                         [("standard", 1.0, "tanh"), ("mean_field", 2.0, "tanh"), ("mean_field", 0.5, "relu")])
def test_output_jacobian_matches_finite_differences(parameterisation, gamma, activation):
    """J = dy/dtheta of the probed outputs (trainable coordinates) against central differences in float64."""
    cfg, theta, inputs = network(parameterisation, gamma, activation)
    times = np.array([0, 4, 8])
    J = output_jacobian(effective_params(theta, cfg), cfg, inputs, times)

    def outputs():
        y = forward(effective_params(theta, cfg), cfg, inputs).y  # (T, B, n_out)
        return y[times].transpose(1, 0, 2).ravel()  # rows in the order trial, time, output

    h, cols = 1e-6, []
    for name in PARAM_NAMES:
        arr = getattr(theta, name)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + h
            up = outputs()
            arr[idx] = old - h
            down = outputs()
            arr[idx] = old
            cols.append((up - down) / (2 * h))
    fd = np.array(cols).T
    assert J.shape == fd.shape == (3 * 3 * 2, sum(a.size for a in theta.arrays()))
    rel = np.max(np.abs(J - fd)) / np.max(np.abs(fd))
    assert rel < 1e-6, f"relative error {rel:.2e}"


@pytest.mark.parametrize("parameterisation,gamma", [("standard", 1.0), ("mean_field", 3.0)])
def test_tangent_kernel_of_a_silent_readout_is_closed_form(parameterisation, gamma):
    """With W_out = 0 only the readout weights move the output: K = delta_oo' c_out^2 r_t(b) . r_t'(b')
    (the readout bias is not part of the kernel)."""
    cfg, theta, inputs = network(parameterisation, gamma)
    params = effective_params(theta, cfg)
    params.W_out[:] = 0
    times = np.array([1, 5, 8])
    c_out = 1.0 if parameterisation == "standard" else 1 / (gamma * cfg.n_rec)
    r = forward(params, cfg, inputs).r[1:][times].transpose(1, 0, 2).reshape(-1, cfg.n_rec)  # (trial, time) rows
    gram = c_out**2 * r @ r.T
    expected = np.kron(gram, np.eye(cfg.n_out))  # rows ordered (trial, time, output)
    np.testing.assert_allclose(tangent_kernel(params, cfg, inputs, times), expected, rtol=1e-12, atol=1e-14)


def test_scaling_the_readout_scales_the_hidden_kernel_quadratically():
    """W_out -> s W_out leaves the readout blocks and multiplies the hidden ones by s^2 (dy/dhidden = W_out dr/d.),
    so the alignment has the closed form <A + H, A + s^2 H> / (|A + H| |A + s^2 H|); s = 1 gives 1."""
    cfg, init, inputs = network()
    times = np.array([2, 6, 8])
    J = output_jacobian(init, cfg, inputs, times, blocks=True)
    A = J["W_out"] @ J["W_out"].T
    H = sum(J[n] @ J[n].T for n in ("W_in", "W", "b"))
    K0 = tangent_kernel(init, cfg, inputs, times)
    np.testing.assert_allclose(K0, A + H, rtol=1e-12)
    alignments = []
    for s in (1.0, 0.2, 3.0):
        final = Params(*(a.copy() for a in init.arrays()))
        final.W_out *= s
        alignments.append(kernel_alignment(K0, tangent_kernel(final, cfg, inputs, times)))
        expected = np.sum((A + H) * (A + s**2 * H)) / (np.linalg.norm(A + H) * np.linalg.norm(A + s**2 * H))
        assert alignments[-1] == pytest.approx(expected, rel=1e-12)
    assert alignments[0] == pytest.approx(1.0, rel=1e-14) and alignments[2] < 0.99  # s = 3 does change it


def test_kernel_alignment_known_values():
    K = np.array([[2.0, 1.0], [1.0, 2.0]])
    assert kernel_alignment(np.eye(2), K) == pytest.approx(4 / np.sqrt(20), rel=1e-14)  # hand-computed
    assert kernel_alignment(K, 7.5 * K) == pytest.approx(1.0, rel=1e-14)
    assert kernel_alignment(np.diag([1.0, 0.0]), np.diag([0.0, 1.0])) == 0.0
    with pytest.raises(ValueError, match="shape"):
        kernel_alignment(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="zero"):
        kernel_alignment(np.zeros((2, 2)), K)


def test_relative_weight_change_known_values():
    W0 = np.random.default_rng(0).standard_normal((5, 5))
    assert relative_weight_change(W0, 1.3 * W0) == pytest.approx(0.3, rel=1e-12)
    assert relative_weight_change(W0, W0) == 0.0
    E = np.zeros_like(W0)
    E[1, 2] = 2.0
    assert relative_weight_change(W0, W0 + E) == pytest.approx(2.0 / np.sqrt(np.sum(W0**2)), rel=1e-12)
    with pytest.raises(ValueError, match="zero"):
        relative_weight_change(np.zeros((2, 2)), np.ones((2, 2)))


def test_probe_times_are_spread_and_valid():
    assert probe_times(100, 5).tolist() == [0, 25, 50, 74, 99]
    assert probe_times(3, 5).tolist() == [0, 1, 2]
    cfg, theta, inputs = network()
    with pytest.raises(ValueError, match="probe times"):
        output_jacobian(theta, cfg, inputs, [0, 9])


def test_float32_networks_get_the_float64_kernel_to_float32_accuracy():
    """A float32 network's kernel (its own kernels, fast tanh) agrees with the same weights run in float64."""
    cfg, theta, inputs = network("mean_field", 2.0)
    params = effective_params(theta, cfg)
    times = np.array([0, 4, 8])
    K64 = tangent_kernel(params, cfg, inputs, times)
    K32 = tangent_kernel(params.astype(np.float32), dataclasses.replace(cfg, dtype="float32"), inputs, times)
    assert K32.dtype == np.float64
    assert np.max(np.abs(K32 - K64)) / np.max(np.abs(K64)) < 1e-5

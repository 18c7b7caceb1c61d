"""Lorenz-63 and Rössler simulated with scipy, and the reconstruction measures D_stsp and D_H on known cases."""

import numpy as np
import pytest

from altrnn.analysis import dsr_metrics as dm
from altrnn.dsr import systems


@pytest.mark.parametrize("name", ["lorenz63", "rossler"])
def test_flows_vanish_at_their_closed_form_equilibria(name):
    field = systems.SYSTEMS[name][0]
    fps = systems.fixed_points(name)
    assert len(fps) == (3 if name == "lorenz63" else 2)
    for x in fps:
        np.testing.assert_allclose(field(0, x), 0, atol=1e-12)
    assert not np.allclose(field(0, fps[0] + 0.1), 0)


@pytest.mark.parametrize("name", ["lorenz63", "rossler"])
def test_simulated_series_follow_the_vector_field(name):
    """Central differences of the samples match the field (an independent check of the integration)."""
    field, dt = systems.SYSTEMS[name][0], 0.002
    x = systems.simulate(name, 400, dt=dt, transient=20, seed=1)
    assert x.shape == (400, 3)
    slope = (x[2:] - x[:-2]) / (2 * dt)  # error dt^2 x'''/6: below 1e-3 of the field's scale here
    v = field(0, x[1:-1].T).T
    assert np.max(np.abs(slope - v)) / np.max(np.abs(v)) < 1e-3
    np.testing.assert_array_equal(x, systems.simulate(name, 400, dt=dt, transient=20, seed=1))
    other = systems.simulate(name, 400, dt=dt, transient=20, seed=1, rtol=1e-6, atol=1e-6)
    assert np.abs(other - x).max() > 0  # the tolerances reach the integrator


def test_lorenz_is_on_the_butterfly():
    x = systems.simulate("lorenz63", 3000, transient=10, seed=0)
    assert (x[:, 0] > 0).mean() == pytest.approx(0.5, abs=0.2)  # visits both wings
    assert 15 < x[:, 2].mean() < 30 and x[:, 2].min() > 0


def test_stsp_binned_known_case():
    """Uniform over two halves against 3:1: KL = 0.5 ln(0.5/0.75) + 0.5 ln(0.5/0.25) = 0.5 ln(4/3)."""
    true = np.repeat([[0.0], [1.0]], 500, axis=0)
    gen = np.concatenate([np.zeros((750, 1)), np.ones((250, 1))])
    got = dm.state_space_divergence(true, gen, n_bins=2, margin=0.0, smoothing=1e-12)
    assert got == pytest.approx(0.5 * np.log(4 / 3), abs=1e-9)
    assert dm.state_space_divergence(true, true[::-1], n_bins=2) == 0.0


def test_stsp_mixture_is_the_gaussian_kl_for_single_points():
    a, b = np.array([[0.0, 1.0]]), np.array([[0.3, 0.5]])
    # scale relative to the true data's spread; one point has none, so s = scale
    got = dm.state_space_divergence(np.repeat(a, 2, 0), np.repeat(b, 2, 0), method="gmm", scale=0.5)
    assert got == pytest.approx(np.sum((a - b) ** 2) / (2 * 0.25), rel=1e-12)


def test_hellinger_known_cases():
    T = 1024
    t = np.arange(T)
    s1, s2 = np.sin(2 * np.pi * 40 * t / T), np.sin(2 * np.pi * 45 * t / T)
    assert dm.hellinger_distance(s1, s1) == 0.0
    assert dm.hellinger_distance(s1, s2, sigma=0) == pytest.approx(1.0, abs=1e-7)  # disjoint spectra
    # Gaussian-smoothed lines 5 bins apart: Bhattacharyya coefficient exp(-5^2 / (8 sigma^2)) for the continuous
    # Gaussians; the sampled kernel, cut at 4 sigma, is within 1e-3 of it
    assert dm.hellinger_distance(s1, s2, sigma=3) == pytest.approx(np.sqrt(1 - np.exp(-25 / 72)), abs=1e-3)
    assert dm.hellinger_distance(s1, s2, sigma=2) == pytest.approx(np.sqrt(1 - np.exp(-25 / 32)), abs=1e-3)
    # amplitude and offset do not matter (standardised), the shorter length is used
    assert dm.hellinger_distance(s1, 3 * s1[:-24] + 2) < 0.05


@pytest.mark.parametrize("name", ["lorenz63", "rossler"])
def test_both_measures_are_zero_for_identical_data_and_grow_with_perturbation(name):
    x = systems.simulate(name, 1500, transient=10, seed=0, rtol=1e-8, atol=1e-8)
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(x.shape) * x.std(axis=0)
    d_stsp = [dm.state_space_divergence(x, x + eps * noise, n_bins=20) for eps in (0, 0.05, 0.2, 0.5)]
    d_gmm = [dm.state_space_divergence(x, x + eps * noise, method="gmm", n_points=500) for eps in (0, 0.2, 0.5)]
    d_h = [dm.hellinger_distance(x, x + eps * noise) for eps in (0, 0.05, 0.2, 0.5)]
    for d in (d_stsp, d_gmm, d_h):
        assert d[0] == pytest.approx(0.0, abs=1e-12)
        assert all(b > a for a, b in zip(d, d[1:])), d
    other = systems.simulate("rossler" if name == "lorenz63" else "lorenz63", 1500, transient=10, seed=0,
                             rtol=1e-8, atol=1e-8)
    assert dm.hellinger_distance(x, other) > d_h[1]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same dimension"):
        dm.state_space_divergence(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="method"):
        dm.state_space_divergence(np.zeros((10, 2)), np.zeros((10, 2)), method="knn")
    with pytest.raises(ValueError, match="generated must be a finite"):
        dm.hellinger_distance(np.zeros((10, 2)), np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="system must be"):
        systems.simulate("chua", 10)

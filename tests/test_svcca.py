"""Tests of SVCCA: against classical CCA, a closed form, and its invariances."""

import numpy as np
import pytest
from scipy.stats import ortho_group

from altrnn.analysis.svcca import canonical_correlations, pairwise_svcca, svcca, svd_directions


def _reference_cca(X, Y) -> np.ndarray:
    """Canonical correlations from covariances: sqrt of the eigenvalues of Sxx^-1 Sxy Syy^-1 Syx."""
    X, Y = X - X.mean(0), Y - Y.mean(0)
    Sxx, Syy, Sxy = X.T @ X, Y.T @ Y, X.T @ Y
    M = np.linalg.solve(Sxx, Sxy) @ np.linalg.solve(Syy, Sxy.T)
    rho2 = np.sort(np.linalg.eigvals(M).real)[::-1][:min(X.shape[1], Y.shape[1])]
    return np.sqrt(np.clip(rho2, 0, 1))


def test_canonical_correlations_match_classical_cca():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((500, 3))
    X = Z @ rng.standard_normal((3, 5)) + 0.5 * rng.standard_normal((500, 5))
    Y = Z @ rng.standard_normal((3, 4)) + 0.8 * rng.standard_normal((500, 4)) + 7.0
    rho = canonical_correlations(svd_directions(X, k=5), svd_directions(Y, k=4))
    np.testing.assert_allclose(rho, _reference_cca(X, Y), atol=1e-10)
    assert rho[0] > 0.5 and rho[-1] < 0.3  # three shared directions, one not


def test_closed_form_of_two_subspaces_at_a_known_angle():
    rng = np.random.default_rng(1)
    Zc = rng.standard_normal((300, 3))
    z, _ = np.linalg.qr(Zc - Zc.mean(0))  # orthonormal, centred columns
    theta = 0.7
    X = np.column_stack([3 * z[:, 0], z[:, 1]])
    Y = np.column_stack([z[:, 0], np.cos(theta) * z[:, 1] + np.sin(theta) * z[:, 2]])
    np.testing.assert_allclose(canonical_correlations(svd_directions(X, k=2), svd_directions(Y, k=2)),
                               [1.0, np.cos(theta)], atol=1e-12)
    assert svcca(X, Y, k=2) == pytest.approx((1 + np.cos(theta)) / 2, abs=1e-12)


def _activity(seed, M=400, N=12, latent=4):
    """Low-dimensional activity plus small noise, like a network's rates."""
    rng = np.random.default_rng(seed)
    return np.tanh(rng.standard_normal((M, latent)) @ rng.standard_normal((latent, N))) \
        + 0.01 * rng.standard_normal((M, N))


def test_identical_rotated_shifted_and_scaled_copies_give_one():
    X = _activity(2)
    Q = ortho_group.rvs(X.shape[1], random_state=3)
    assert svcca(X, X) == pytest.approx(1.0, abs=1e-10)
    assert svcca(X, 2.5 * X @ Q + 4.0) == pytest.approx(1.0, abs=1e-10)
    A = np.random.default_rng(4).standard_normal((12, 12))  # any invertible map, with every direction kept
    assert svcca(X, X @ A, share=1.0) == pytest.approx(1.0, abs=1e-8)


def test_unrelated_representations_give_a_low_value():
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((2000, 10)), rng.standard_normal((2000, 10))
    assert svcca(X, Y) < 0.15
    assert svcca(X, Y) < svcca(_activity(6), _activity(6) + 0.05 * rng.standard_normal((400, 12)))


def test_the_kept_directions_follow_the_variance_share():
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((200, 4))
    U, _ = np.linalg.qr(Z - Z.mean(0))  # orthonormal, centred columns
    X = U @ np.diag([10.0, 3.0, 1.0, 0.1]) @ ortho_group.rvs(4, random_state=8)
    # variance shares 100, 9, 1, 0.01 of 110.01: cumulative 0.909, 0.991, 0.9999, 1
    assert [svd_directions(X, share).shape[1] for share in (0.9, 0.99, 0.999, 1.0)] == [1, 2, 3, 4]
    assert svd_directions(X, k=3).shape == (200, 3)
    rank_one = X[:, :2] @ np.ones((2, 5))  # share 1.0 keeps no rounding-noise direction
    assert svd_directions(rank_one, 1.0).shape[1] == 1


def test_pairwise_svcca_and_3d_states():
    states = {n: _activity(s).reshape(20, 20, 12) for n, s in (("a", 9), ("b", 10))}
    S = pairwise_svcca({**states, "c": states["a"] @ ortho_group.rvs(12, random_state=11)})
    np.testing.assert_allclose(np.diag(S), 1.0)
    assert S[0, 2] == pytest.approx(1.0, abs=1e-10) and S[0, 1] < 0.99
    assert S[0, 1] == pytest.approx(svcca(states["a"].reshape(400, 12), states["b"].reshape(400, 12)))


def test_svcca_checks_its_input():
    X = _activity(12)
    with pytest.raises(ValueError, match="constant"):
        svcca(np.ones((10, 3)), X[:10])
    with pytest.raises(ValueError, match="k must be an integer"):
        svcca(X, X, k=13)
    with pytest.raises(ValueError, match="share"):
        svcca(X, X, share=0.0)
    with pytest.raises(ValueError, match="same samples"):
        svcca(X, X[:-1])
    with pytest.raises(ValueError, match="Y contains non-finite"):
        svcca(X, np.full_like(X, np.nan))

"""The map, its Jacobian and the stability classes, against finite differences and hand-made spectra."""

import numpy as np
import pytest

from altrnn.analysis.stability import classify, jacobian, rnn_map
from altrnn.model.network import ModelConfig, init_params


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_jacobian_matches_finite_differences(act):
    cfg = ModelConfig(n_in=2, n_rec=7, n_out=1, activation=act, dtype="float64")
    rng = np.random.default_rng(0)
    params = init_params(cfg, 1.5, rng)
    params.b[:] = rng.standard_normal(7)
    x, u, h = rng.standard_normal(7), np.array([0.3, -1.0]), 1e-6
    fd = np.column_stack([(rnn_map(params, cfg, x + h * e, u) - rnn_map(params, cfg, x - h * e, u)) / (2 * h)
                          for e in np.eye(7)])
    np.testing.assert_allclose(jacobian(params, cfg, x), fd, rtol=1e-7, atol=1e-9)


def test_map_is_the_network_step():
    """rnn_map agrees with the closed form written out by hand."""
    cfg = ModelConfig(n_in=1, n_rec=3, n_out=1, activation="tanh", alpha=0.25, dtype="float64")
    params = init_params(cfg, 1.0, np.random.default_rng(1))
    x, u = np.array([0.1, -0.2, 0.3]), np.array([0.7])
    expected = 0.75 * x + 0.25 * (params.W @ np.tanh(x) + params.W_in @ u + params.b)
    np.testing.assert_allclose(rnn_map(params, cfg, x, u), expected, rtol=1e-14)


@pytest.mark.parametrize("diag, kind, n_unstable", [
    ([0.5, 0.9, -0.3], "stable", 0),
    ([1.0, 0.5, 0.2], "marginal", 0),
    ([1.5, -1.2, 0.3], "saddle", 2),
    ([2.0, -3.0, 1.1], "unstable", 3),
])
def test_classes_of_diagonal_maps(diag, kind, n_unstable):
    st = classify(np.diag(diag), alpha=0.2)
    assert st.kind == kind and st.n_unstable == n_unstable and not st.spiral
    assert st.max_modulus == pytest.approx(max(abs(d) for d in diag))
    np.testing.assert_allclose(np.sort(st.cont_eigvals.real), np.sort((np.array(diag) - 1) / 0.2))


def test_rotation_is_a_spiral_with_its_leading_eigenvector():
    c, s = 0.9 * np.cos(0.3), 0.9 * np.sin(0.3)
    J = np.array([[c, -s, 0], [s, c, 0], [0, 0, 0.1]])
    st = classify(J)
    assert st.kind == "stable" and st.spiral and st.cont_eigvals.size == 0
    np.testing.assert_allclose(np.abs(st.eigvals[:2]), 0.9)
    v = st.eigvecs[:, 0]
    np.testing.assert_allclose(J @ v, st.eigvals[0] * v, atol=1e-12)
    with pytest.raises(ValueError, match="square"):
        classify(np.ones((2, 3)))

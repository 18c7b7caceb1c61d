"""Tests of classical MDS and of the degeneracy measures (behaviour, dynamics, weights)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.distance import pdist, squareform

from altrnn.analysis.degeneracy import (align_permutation, behavioural_degeneracy, degeneracy_table,
                                        dynamical_degeneracy, permutation_distance, weight_degeneracy)
from altrnn.analysis.mds import classical_mds

# --- MDS ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 3])
def test_mds_reproduces_a_known_configuration(dim):
    X = np.random.default_rng(dim).standard_normal((9, dim)) * [3.0, 1.0, 0.5][:dim]
    D = squareform(pdist(X))
    coords, evals = classical_mds(D, n_components=dim)
    np.testing.assert_allclose(squareform(pdist(coords)), D, atol=1e-10)
    Xc = X - X.mean(axis=0)
    R, _ = orthogonal_procrustes(coords, Xc)  # the same points up to a rotation / reflection
    np.testing.assert_allclose(coords @ R, Xc, atol=1e-10)
    assert np.all(evals[:dim] > 1e-6) and np.all(np.abs(evals[dim:]) < 1e-9)
    np.testing.assert_allclose(evals[:dim], np.sort(np.linalg.eigvalsh(Xc.T @ Xc))[::-1], rtol=1e-10)


def test_mds_of_a_non_euclidean_matrix_has_negative_eigenvalues():
    D = np.array([[0, 1, 5], [1, 0, 1], [5, 1, 0]], float)  # violates the triangle inequality
    coords, evals = classical_mds(D, n_components=2)
    assert evals[-1] < -1.0
    assert coords.shape == (3, 2)
    np.testing.assert_array_equal(coords[:, 1], 0.0)  # no coordinates along a negative direction


def test_mds_checks_its_input():
    D = squareform(pdist(np.random.default_rng(0).standard_normal((5, 2))))
    A = D.copy()
    A[0, 1] += 0.5
    with pytest.raises(ValueError, match="not symmetric"):
        classical_mds(A)
    coords, _ = classical_mds(A, symmetrize=True)
    expected, _ = classical_mds((A + A.T) / 2)
    np.testing.assert_allclose(coords, expected)
    Z = D.copy()
    Z[2, 2] = 0.1
    with pytest.raises(ValueError, match="zero diagonal"):
        classical_mds(Z)
    with pytest.raises(ValueError, match="square"):
        classical_mds(D[:3])
    with pytest.raises(ValueError, match="n_components"):
        classical_mds(D, n_components=6)
    with pytest.raises(ValueError, match="negative"):
        classical_mds(-D)


# --- behaviour --------------------------------------------------------------------------------------------


def _eval_table(scale=1.0):
    losses = {"in_distribution": [1e-3, 1e-3, 1e-3], "ood_long": [0.01, 0.1, 1.0], "ood_noise": [0.5, 0.5, 0.5]}
    rows = [{"net_id": f"net{i}", "condition": c, "loss": scale * v[i], "accuracy": 1.0}
            for c, v in losses.items() for i in range(3)]
    return pd.DataFrame(rows)


def test_behavioural_degeneracy_on_constructed_losses():
    table = behavioural_degeneracy(_eval_table()).set_index("measure")
    # log10 losses -2, -1, 0: sample std 1
    assert table.loc["log10_loss_std[ood_long]", "value"] == pytest.approx(1.0)
    assert table.loc["log10_loss_std[ood_noise]", "value"] == pytest.approx(0.0)
    assert table.loc["log10_loss_std[in_distribution]", "value"] == pytest.approx(0.0)
    assert table.loc["ood_log10_loss_std", "value"] == pytest.approx(0.5)
    assert (table["n_networks"] == 3).all() and (table["level"] == "behaviour").all()
    scaled = behavioural_degeneracy(_eval_table(scale=7.0)).set_index("measure")
    np.testing.assert_allclose(scaled["value"], table["value"], atol=1e-12)  # blind to the loss units


def test_behavioural_degeneracy_rejects_bad_tables():
    table = _eval_table()
    with pytest.raises(ValueError, match="missing column"):
        behavioural_degeneracy(table.drop(columns="loss"))
    with pytest.raises(ValueError, match="at least 2 networks"):
        behavioural_degeneracy(table[table.net_id == "net0"])
    with pytest.raises(ValueError, match="more than one row"):
        behavioural_degeneracy(pd.concat([table, table.iloc[:1]]))


# --- dynamics ---------------------------------------------------------------------------------------------


def test_dynamical_degeneracy_is_the_mean_over_distinct_pairs():
    D = np.array([[0.0, 0.2, 0.4], [0.2, 0.0, 0.9], [0.4, 0.9, 0.0]])
    assert dynamical_degeneracy(D) == pytest.approx((0.2 + 0.4 + 0.9) / 3)
    names = ["a", "b", "c"]
    long = pd.DataFrame([{"net_a": a, "net_b": b, "value": D[i, j] + (0.1 if (i, j) == (0, 1) else 0.0)}
                         for i, a in enumerate(names) for j, b in enumerate(names)])
    assert dynamical_degeneracy(long) == pytest.approx((0.25 + 0.4 + 0.9) / 3)  # asymmetric pair averaged
    with pytest.raises(ValueError, match="misses some pairs"):
        dynamical_degeneracy(long.drop(index=1))  # (a, b) missing


# --- weights ----------------------------------------------------------------------------------------------


def test_permutation_distance_recovers_a_hidden_permutation():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((64, 64)) / 8
    perm = rng.permutation(64)
    W_b = W[np.ix_(perm, perm)]
    p = align_permutation(W, W_b)
    np.testing.assert_array_equal(p, perm)
    assert permutation_distance(W, W_b) == 0.0
    assert permutation_distance(W, W) == 0.0


def test_permutation_distance_closed_form_for_a_scaled_copy():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((20, 20))
    perm = rng.permutation(20)
    c = 1.3
    d = permutation_distance(W, c * W[np.ix_(perm, perm)])
    assert d == pytest.approx(abs(1 - c) / np.sqrt(1 + c ** 2), rel=1e-12)
    # scale invariance: a common factor does not change it
    W2 = rng.standard_normal((20, 20))
    assert permutation_distance(5 * W, 5 * W2) == pytest.approx(permutation_distance(W, W2), rel=1e-12)


def _brute_force(W_a, W_b):
    denom = np.sqrt((W_a ** 2).sum() + (W_b ** 2).sum())
    return min(np.linalg.norm(W_a[np.ix_(p, p)] - W_b) for p in map(list, itertools.permutations(range(len(W_a))))
               ) / denom


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_permutation_distance_matches_brute_force_on_noisy_copies(seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((6, 6))
    perm = rng.permutation(6)
    W_b = W[np.ix_(perm, perm)] + 0.3 * rng.standard_normal((6, 6))
    assert permutation_distance(W, W_b) == pytest.approx(_brute_force(W, W_b), rel=1e-12)


def test_permutation_distance_of_unrelated_matrices():
    rng = np.random.default_rng(3)
    W_a, W_b = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    d = permutation_distance(W_a, W_b)
    assert _brute_force(W_a, W_b) - 1e-12 <= d <= np.linalg.norm(W_a - W_b) / np.sqrt(
        (W_a ** 2).sum() + (W_b ** 2).sum()) + 1e-12
    with pytest.raises(ValueError, match="same shape"):
        permutation_distance(W_a, np.eye(5))
    with pytest.raises(ValueError, match="W_b must be a square"):
        permutation_distance(W_a, np.ones((6, 5)))


# --- table ------------------------------------------------------------------------------------------------


def test_degeneracy_table_gathers_the_levels():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((8, 8))
    perm = rng.permutation(8)
    weights = {"net0": W, "net1": W[np.ix_(perm, perm)], "net2": rng.standard_normal((8, 8))}
    D = np.array([[0.0, 0.2, 0.4], [0.2, 0.0, 0.9], [0.4, 0.9, 0.0]])
    table = degeneracy_table(eval_table=_eval_table(), dsa=D, weights=weights)
    assert list(table.columns) == ["level", "measure", "value", "ci_low", "ci_high", "n_networks"]
    assert set(table["level"]) == {"behaviour", "dynamics", "weights"}
    row = table.set_index("measure")
    assert row.loc["mean_dsa_distance", "value"] == pytest.approx(0.5)
    expected = np.mean([0.0, permutation_distance(W, weights["net2"]),
                        permutation_distance(weights["net1"], weights["net2"])])
    assert row.loc["mean_permutation_distance", "value"] == pytest.approx(expected)
    assert row.loc["mean_permutation_distance", "value"] == pytest.approx(weight_degeneracy(weights))
    assert row.loc["mean_permutation_distance", "n_networks"] == 3
    with pytest.raises(ValueError, match="at least one"):
        degeneracy_table()

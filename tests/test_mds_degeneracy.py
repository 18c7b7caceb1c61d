"""Tests of classical MDS and of the degeneracy measures (behaviour, dynamics, weights, representations)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.distance import pdist, squareform

from altrnn.analysis.degeneracy import (align_permutation, behavioural_degeneracy, degeneracy_table, dsa_null,
                                        dynamical_degeneracy, permutation_distance, sigma_ood, weight_degeneracy,
                                        weight_distance)
from altrnn.analysis.similarity import pairwise
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
    losses = {"in_distribution": [1e-3, 1e-3, 1e-3], "temporal_x2": [0.01, 0.1, 1.0], "ood_noise": [0.5, 0.5, 0.5]}
    rows = [{"net_id": f"net{i}", "condition": c, "loss": scale * v[i], "accuracy": 1.0}
            for c, v in losses.items() for i in range(3)]
    return pd.DataFrame(rows)


def test_behavioural_degeneracy_on_constructed_losses():
    table = behavioural_degeneracy(_eval_table()).set_index("measure")
    # raw losses 0.01, 0.1, 1.0: mean 0.37, squared deviations 0.1296 + 0.0729 + 0.3969, / (3 - 1)
    assert table.loc["sigma_ood", "value"] == pytest.approx(np.sqrt(0.5994 / 2), rel=1e-12)
    assert sigma_ood(_eval_table()) == table.loc["sigma_ood", "value"]
    # log10 losses -2, -1, 0: sample std 1
    assert table.loc["log10_loss_std[temporal_x2]", "value"] == pytest.approx(1.0)
    assert table.loc["log10_loss_std[ood_noise]", "value"] == pytest.approx(0.0)
    assert table.loc["log10_loss_std[in_distribution]", "value"] == pytest.approx(0.0)
    assert table.loc["ood_log10_loss_std", "value"] == pytest.approx(0.5)
    assert list(table.index[:1]) == ["sigma_ood"]
    assert (table["n_networks"] == 3).all() and (table["level"] == "behaviour").all()
    scaled = behavioural_degeneracy(_eval_table(scale=7.0)).set_index("measure")
    logs = [m for m in table.index if m != "sigma_ood"]
    np.testing.assert_allclose(scaled.loc[logs, "value"], table.loc[logs, "value"], atol=1e-12)  # blind to units
    assert scaled.loc["sigma_ood", "value"] == pytest.approx(7 * table.loc["sigma_ood", "value"])  # raw: not


def test_sigma_ood_without_temporal_rows_is_nan_with_a_warning(caplog):
    table = _eval_table()
    table = table[table["condition"] != "temporal_x2"]
    with caplog.at_level("WARNING", logger="altrnn.analysis.degeneracy"):
        rows = degeneracy_table(eval_table=table).set_index("measure")
    assert np.isnan(rows.loc["sigma_ood", "value"]) and rows.loc["sigma_ood", "n_networks"] == 0
    assert np.isnan(rows.loc["sigma_ood", ["ci_low", "ci_high"]].astype(float)).all()
    assert rows.loc["ood_log10_loss_std", "value"] == pytest.approx(0.0)  # the other rows are still there
    assert "temporal_x2" in caplog.text and "sigma_ood is NaN" in caplog.text


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


def _linear_system(eigenvalues, seed, n_sets=2, T=40, B=12, N=8):
    """Trial sets (T, B, N) of one noise-free linear system (two damped 2-D rotations, read out into N units),
    each from its own random initial states."""
    rng = np.random.default_rng(seed)
    blocks = [r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]]) for r, w in eigenvalues]
    A = np.block([[blocks[0], np.zeros((2, 2))], [np.zeros((2, 2)), blocks[1]]])
    C = rng.standard_normal((N, 4))
    sets = []
    for _ in range(n_sets):
        x = np.empty((T, B, 4))
        x[0] = rng.standard_normal((B, 4))
        for t in range(T - 1):
            x[t + 1] = x[t] @ A.T
        sets.append(x @ C.T)
    return sets


DSA_OPTIONS = {"n_delays": 2, "rank": 4}


def test_dsa_null_is_near_zero_for_one_network_and_larger_across_networks():
    a1, a2 = _linear_system([(0.97, 0.3), (0.9, 0.8)], seed=0)
    b1, _ = _linear_system([(0.95, 0.15), (0.8, 1.2)], seed=1)
    projected = dict(DSA_OPTIONS, whiten=False)  # the operator does not depend on the trial set
    null = dsa_null(a1, a2, **projected)
    across = pairwise("dsa", {"a": a1, "b": b1}, **projected).set_index(["net_a", "net_b"])["value"]
    assert null < 1e-4
    assert across["a", "b"] > 0.1 > 100 * null
    # whitened (the default, as published): the whitening follows each trial set's sampled covariance,
    # so the null is a sampling floor (0.03 here), still well below the distance across networks
    null = dsa_null(a1, a2, **DSA_OPTIONS)
    across = pairwise("dsa", {"a": a1, "b": b1}, **DSA_OPTIONS).set_index(["net_a", "net_b"])["value"]
    assert 1e-3 < null < across["a", "b"] / 5
    with pytest.raises(ValueError, match="unknown DSA option"):
        dsa_null(a1, a2, n_delay=2)


def test_degeneracy_table_dsa_null_and_ratio():
    D = np.array([[0.0, 0.2, 0.4, 0.6], [0.2, 0.0, 0.9, 0.5], [0.4, 0.9, 0.0, 0.3], [0.6, 0.5, 0.3, 0.0]])
    null = {0: 0.1, 1: 0.05, 2: 0.2, 3: 0.05}
    rows = degeneracy_table(dsa=D, dsa_null=null).set_index("measure")
    assert rows.loc["mean_dsa_distance", "value"] == pytest.approx(2.9 / 6)
    assert rows.loc["dsa_null", "value"] == pytest.approx(0.1)
    assert rows.loc["dsa_ratio", "value"] == pytest.approx(2.9 / 6 / 0.1)
    for m in ("dsa_null", "dsa_ratio"):
        assert rows.loc[m, "ci_low"] <= rows.loc[m, "value"] <= rows.loc[m, "ci_high"]
    assert rows.loc["dsa_null", "ci_low"] >= 0.05 and rows.loc["dsa_null", "ci_high"] <= 0.2
    same = degeneracy_table(dsa=D, dsa_null=list(null.values()))
    pd.testing.assert_frame_equal(same.set_index("measure"), rows)
    with pytest.raises(ValueError, match=r"dsa_null has no value for network\(s\) \[3\]"):
        degeneracy_table(dsa=D, dsa_null={0: 0.1, 1: 0.1, 2: 0.1})
    with pytest.raises(ValueError, match="needs dsa"):
        degeneracy_table(weights={"a": np.eye(2), "b": np.eye(2)}, dsa_null=null)


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


@pytest.mark.parametrize("n", [5, 10])
def test_weight_distance_is_zero_for_a_relabelled_copy_and_size_normalised(n):
    rng = np.random.default_rng(n)
    W = rng.standard_normal((n, n))
    perm = rng.permutation(n)
    assert weight_distance(W, W[np.ix_(perm, perm)]) == 0.0
    # a constant offset c on every weight: ||c 1||_F / n^2 = c n / n^2 = c / n
    c = 0.3
    assert weight_distance(W, W[np.ix_(perm, perm)] + c) == pytest.approx(c / n, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weight_distance_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((6, 6))
    perm = rng.permutation(6)
    W_b = W[np.ix_(perm, perm)] + 0.3 * rng.standard_normal((6, 6))
    best = min(np.linalg.norm(W[np.ix_(p, p)] - W_b) for p in map(list, itertools.permutations(range(6))))
    assert weight_distance(W, W_b) == pytest.approx(best / 36, rel=1e-12)


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
    expected = np.mean([0.0, weight_distance(W, weights["net2"]), weight_distance(weights["net1"], weights["net2"])])
    assert row.loc["mean_weight_distance", "value"] == pytest.approx(expected)
    assert list(table["measure"][table["level"] == "weights"]) == ["mean_permutation_distance",
                                                                    "mean_weight_distance"]
    with pytest.raises(ValueError, match="at least one"):
        degeneracy_table()


def test_degeneracy_table_mean_svcca():
    from altrnn.analysis.svcca import svcca

    rng = np.random.default_rng(5)
    X = np.tanh(rng.standard_normal((300, 3)) @ rng.standard_normal((3, 10)))
    Q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    reps = {"a": X, "b": X @ Q, "c": rng.standard_normal((300, 10))}
    row = degeneracy_table(representations=reps).iloc[0]
    assert (row["level"], row["measure"], row["n_networks"]) == ("representations", "mean_svcca", 3)
    expected = (1.0 + svcca(X, reps["c"]) + svcca(X @ Q, reps["c"])) / 3
    assert row["value"] == pytest.approx(expected, abs=1e-10)
    assert row["ci_low"] <= row["value"] <= row["ci_high"]
    with pytest.raises(ValueError, match="at least 2 networks"):
        degeneracy_table(representations={"a": X})

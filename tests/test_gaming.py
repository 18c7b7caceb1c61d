"""Metric gaming: closed forms of CKA and predictability under noise padding, the noise, the table, the workflow."""

import numpy as np
import pandas as pd
import pytest
from tiny import TINY

from altrnn import netids
from altrnn.analysis import gaming
from altrnn.analysis.similarity import linear_cka, linear_predictability
from altrnn.stages.gaming import read_gaming_table

T, B, N = 20, 200, 8


def rates(seed=0, isotropic=False):
    """(T, B, N) low-dimensional rates with unequal unit variances (or i.i.d. unit-variance units)."""
    rng = np.random.default_rng(seed)
    if isotropic:
        return rng.standard_normal((T, B, N))
    latent = rng.standard_normal((T, B, 3))
    return np.tanh(latent @ rng.standard_normal((3, N)) + 0.1 * rng.standard_normal((T, B, N)))


def test_gaussian_padding_has_the_mean_unit_variance_and_no_relation_to_the_units():
    X = rates().reshape(-1, N)
    Z = gaming.noise_units(X, 40, np.random.default_rng(1))
    assert Z.shape == (X.shape[0], 40)
    assert Z.var(axis=0).mean() == pytest.approx(X.var(axis=0).mean(), rel=0.02)
    assert np.abs(np.corrcoef(X, Z, rowvar=False)[:N, N:]).max() < 4 / np.sqrt(X.shape[0])


def test_shuffled_padding_reuses_each_units_values_in_another_order():
    X = rates().reshape(-1, N)
    Z = gaming.noise_units(X, 6, np.random.default_rng(2), "shuffled")
    for z in Z.T:  # each padding unit holds exactly the values of one unit of X, reordered
        matches = [j for j in range(N) if np.array_equal(np.sort(z), np.sort(X[:, j]))]
        assert matches and not np.array_equal(z, X[:, matches[0]])
    assert gaming.noise_units(X, 0, np.random.default_rng(2), "shuffled").shape == (X.shape[0], 0)


def test_bad_noise_is_named():
    with pytest.raises(ValueError, match="noise must be one of"):
        gaming.noise_units(np.ones((4, 2)), 1, np.random.default_rng(0), "uniform")


@pytest.mark.parametrize("k", [N, 4 * N])
def test_cka_of_isotropic_units_and_their_padded_copy_is_sqrt_n_over_n_plus_k(k):
    """X^T [X, Z] ~ [M I, 0] and [X, Z]^T [X, Z] ~ M I: CKA -> N / sqrt(N (N + k))."""
    X = np.random.default_rng(3).standard_normal((20000, N))
    Z = gaming.noise_units(X, k, np.random.default_rng(4))
    closed = np.sqrt(N / (N + k))
    assert linear_cka(X, np.hstack([X, Z])) == pytest.approx(closed, abs=0.01)
    assert gaming.expected_values(X, k)["cka"] == pytest.approx(closed, abs=0.01)


def test_expected_cka_matches_a_large_sample_for_correlated_units():
    X = rates(5).reshape(-1, N)
    for noise in gaming.NOISES:
        values = [linear_cka(X, np.hstack([X, gaming.noise_units(X, 3 * N, np.random.default_rng(s), noise)]))
                  for s in range(5)]
        assert np.mean(values) == pytest.approx(gaming.expected_values(X, 3 * N, noise)["cka"], abs=0.01)


def test_earlier_to_new_explains_n_over_n_plus_k_and_new_to_earlier_stays_one():
    X = rates(6).reshape(-1, N)
    half = X.shape[0] // 2
    for k in (0, N, 3 * N):
        P = np.hstack([X, gaming.noise_units(X, k, np.random.default_rng(7))])
        forward = linear_predictability(X[:half], P[:half], X[half:], P[half:])
        backward = linear_predictability(P[:half], X[:half], P[half:], X[half:])
        assert forward == pytest.approx(N / (N + k), abs=0.01)
        assert backward > 0.995  # an exact copy, up to the ridge's bias
        assert gaming.expected_values(X, k)["earlier_to_new"] == N / (N + k)


def test_padding_table_rows_draws_and_trends():
    table = gaming.padding_table(rates(8), [0, 1, 3], n_draws=3, seed=0)
    assert list(table.columns) == gaming.COLUMNS
    assert len(table) == 3 * 3 * len(gaming.MEASURES)
    assert sorted(set(table["n_padding"])) == [0, N, 3 * N] and (table["n_units"] == N).all()
    mean = table.groupby(["measure", "padding"])["value"].mean().unstack()
    assert np.allclose(mean[0.0], 1.0, atol=1e-3)  # unpadded: the same network by every measure
    assert (mean.loc["new_to_earlier"] > 0.995).all()  # the INSD direction cannot be gamed
    for m in ("cka", "rsa", "earlier_to_new"):  # the others can, and more with more noise
        assert mean.loc[m, 0.0] > mean.loc[m, 1.0] + 0.02 > mean.loc[m, 3.0] + 0.04, m
    assert mean.loc["earlier_to_new", 3.0] == pytest.approx(0.25, abs=0.02)
    draws = table[(table["measure"] == "cka") & (table["padding"] == 3)]["value"]
    assert draws.nunique() == 3  # independent draws
    again = gaming.padding_table(rates(8), [0, 1, 3], n_draws=3, seed=0)
    pd.testing.assert_frame_equal(table, again)  # seeded


def test_padding_table_rejects_bad_input():
    with pytest.raises(ValueError, match="states must be"):
        gaming.padding_table(np.ones((4, 5)), [1], 2, 0)
    with pytest.raises(ValueError, match="paddings must be >= 0"):
        gaming.padding_table(rates(), [-1], 2, 0)
    with pytest.raises(ValueError, match="test_fraction"):
        gaming.padding_table(rates()[:, :1], [1], 2, 0)


def test_summary_is_the_mean_over_draws_with_a_bootstrap_interval():
    table = pd.DataFrame({"padding": [1.0] * 4, "n_padding": 8, "n_units": 8, "draw": range(4), "measure": "cka",
                          "value": [0.5, 0.6, 0.7, 0.8], "expected": 0.65})
    out = gaming.summarise(table, n_boot=4000, seed=1)
    assert list(out.columns) == gaming.SUMMARY_COLUMNS
    row = out.iloc[0]
    assert row["mean"] == pytest.approx(0.65) and row["n_draws"] == 4 and row["expected"] == 0.65
    assert 0.5 <= row["low"] < 0.65 < row["high"] <= 0.8
    one = gaming.summarise(table.iloc[:1])
    assert np.isnan(one["low"].iloc[0]) and np.isnan(one["high"].iloc[0])


def test_a_tiny_run_writes_the_gaming_table_and_panel(tiny_run):
    assert TINY["gaming"] == {"paddings": [0, 2], "n_draws": 2}
    for task in ("flipflop", "integration"):
        table = read_gaming_table(tiny_run / f"results/{task}/metric_gaming.csv")
        n = TINY["model"]["n_rec"]
        assert set(table["measure"]) == set(gaming.MEASURES) and set(table["n_padding"]) == {0, 2 * n}
        assert (table["n_draws"] == 2).all() and (table["n_units"] == n).all()
        wide = table.set_index(["measure", "padding"])["mean"]
        assert wide["new_to_earlier", 2.0] > 0.99
        assert wide["earlier_to_new", 2.0] < 0.5 and wide["cka", 2.0] < wide["cka", 0.0]
    assert (tiny_run / netids.figure_file("flipflop", "metric_gaming", "png")).stat().st_size > 1000
    assert (tiny_run / netids.figure_file("integration", "metric_gaming", "pdf")).stat().st_size > 1000

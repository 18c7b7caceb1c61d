"""Bootstrap intervals: closed forms, nominal coverage, pairs of networks against brute force."""

import itertools

import numpy as np
import pandas as pd
import pytest

from altrnn.analysis.degeneracy import degeneracy_table
from altrnn.analysis.statistics import bootstrap_mean, bootstrap_networks, pair_mean


def test_constant_and_single_values():
    assert bootstrap_mean([2.5] * 7) == (2.5, 2.5, 2.5)
    mean, low, high = bootstrap_mean([4.0])
    assert mean == 4.0 and np.isnan(low) and np.isnan(high)
    assert all(np.isnan(v) for v in bootstrap_mean([]))
    assert bootstrap_mean([1.0, np.nan, 3.0])[0] == 2.0  # missing values are left out


def test_deterministic_for_a_seed():
    x = np.random.default_rng(0).standard_normal(20)
    assert bootstrap_mean(x, seed=3) == bootstrap_mean(x, seed=3)
    assert bootstrap_mean(x, seed=3) != bootstrap_mean(x, seed=4)


def test_interval_matches_the_normal_theory_width_for_large_samples():
    x = np.random.default_rng(1).standard_normal(400)
    mean, low, high = bootstrap_mean(x, n_boot=4000)
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert mean == pytest.approx(x.mean())
    assert (high - low) / 2 == pytest.approx(half, rel=0.08)
    assert (low + high) / 2 == pytest.approx(mean, abs=0.2 * half)


def test_coverage_is_close_to_nominal():
    rng = np.random.default_rng(2)
    hits = 0
    n_rep = 400
    for i in range(n_rep):
        x = rng.normal(1.0, 2.0, size=30)
        _, low, high = bootstrap_mean(x, n_boot=1000, seed=i)
        hits += low <= 1.0 <= high
    assert 0.90 <= hits / n_rep <= 0.98, hits / n_rep


def test_pair_mean_against_brute_force():
    rng = np.random.default_rng(3)
    A = rng.random((5, 5))
    D = (A + A.T) / 2
    assert pair_mean(D) == pytest.approx(np.mean([D[i, j] for i, j in itertools.combinations(range(5), 2)]))
    idx = np.array([0, 0, 3, 4, 4])
    brute = [D[idx[i], idx[j]] for i, j in itertools.combinations(range(5), 2) if idx[i] != idx[j]]
    assert pair_mean(D, idx) == pytest.approx(np.mean(brute))
    assert np.isnan(pair_mean(D, np.array([2, 2, 2])))


def test_bootstrap_networks_leaves_out_undefined_resamples():
    assert all(np.isnan(v) for v in bootstrap_networks(2, lambda idx: 1.0))  # no interval from 2 networks
    low, high = bootstrap_networks(3, lambda idx: float(len(set(idx))) if len(set(idx)) > 1 else np.nan)
    assert (low, high) == (2.0, 3.0)


def _relabelled(W, rng):
    p = rng.permutation(W.shape[0])
    return W[np.ix_(p, p)]


def test_degeneracy_intervals_separate_near_copies_from_unrelated_networks():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((12, 12))
    copies = {f"c{i}": _relabelled(W + 0.01 * rng.standard_normal(W.shape), rng) for i in range(5)}
    unrelated = {f"u{i}": rng.standard_normal((12, 12)) for i in range(5)}
    near = degeneracy_table(weights=copies).iloc[0]
    far = degeneracy_table(weights=unrelated).iloc[0]
    assert near["ci_low"] <= near["value"] <= near["ci_high"] < 0.05
    assert far["ci_low"] > near["ci_high"] and far["ci_low"] > 0.5
    names = list(unrelated)
    evals = pd.DataFrame([{"net_id": n, "condition": c, "loss": float(rng.uniform(0.1, 1.0))}
                          for n in names for c in ("in_distribution", "temporal_x2", "noisy")])
    table = degeneracy_table(eval_table=evals)
    assert list(table.columns) == ["level", "measure", "value", "ci_low", "ci_high", "n_networks"]
    assert (table["ci_low"] <= table["ci_high"]).all() and table["ci_low"].notna().all()

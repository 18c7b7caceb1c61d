"""How far INSD moves a network, in units of natural degeneracy: hand examples, the bootstrap interval
against a closed form, and a tiny real Snakemake run."""

import copy
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from altrnn.analysis.insd_distance import (COLUMNS, behaviour_distances, distance_ratio, dsa_distances,
                                           insd_distance_table, weight_distances)
from tiny import TINY, planned_outputs, snakemake, write_config

STD = ["std-g1-s0", "std-g1-s1", "std-g1-s2"]


def _evals(profiles: dict) -> pd.DataFrame:
    """eval rows from net_id -> log10 losses in conditions noisy, long (in_distribution is 1e-3 for all)."""
    rows = []
    for net, logs in profiles.items():
        rows += [{"net_id": net, "condition": "in_distribution", "loss": 1e-3}]
        rows += [{"net_id": net, "condition": c, "loss": 10.0 ** v} for c, v in zip(("noisy", "long"), logs)]
    return pd.DataFrame(rows)


def _dsa(points: dict) -> pd.DataFrame:
    """Both directions of |a - b| between 1-D positions; the X-X pair is left out, as it is not needed."""
    return pd.DataFrame([{"net_a": a, "net_b": b, "value": abs(points[a] - points[b])}
                         for a in points for b in points if not (a == b == "alt1")])


def test_ratio_of_points_on_a_line_by_hand():
    # standard networks at 0, 1, 2; X at 5: distances 5, 4, 3 (mean 4), within 1, 2, 1 (mean 4/3): ratio 3
    pos = {"std-g1-s0": 0.0, "std-g1-s1": 1.0, "std-g1-s2": 2.0, "alt1": 5.0}
    to_group, within = dsa_distances(_dsa(pos), STD, ["alt1"])
    np.testing.assert_allclose(to_group["alt1"], [5, 4, 3])
    out = distance_ratio(to_group["alt1"], within, n_boot=200)
    assert out["distance"] == pytest.approx(4.0) and out["within"] == pytest.approx(4 / 3)
    assert out["ratio"] == pytest.approx(3.0) and out["n_standard"] == 3
    # behaviour on the same geometry: profiles on the diagonal, Euclidean distances scale by sqrt(2) and cancel
    evals = _evals({n: (p, p) for n, p in pos.items()})
    to_group, within = behaviour_distances(evals, STD, ["alt1"])
    np.testing.assert_allclose(to_group["alt1"], np.sqrt(2) * np.array([5, 4, 3]))
    assert distance_ratio(to_group["alt1"], within)["ratio"] == pytest.approx(3.0)


def test_identical_standard_networks_plus_one_different():
    """Two identical standard networks and a third one unit away: within = 2/3; X at 3 from the pair and 2
    from the third: distance 8/3, ratio 4."""
    pos = {"std-g1-s0": 0.0, "std-g1-s1": 0.0, "std-g1-s2": 1.0, "alt1": 3.0}
    to_group, within = dsa_distances(_dsa(pos), STD, ["alt1"])
    out = distance_ratio(to_group["alt1"], within)
    assert out["within"] == pytest.approx(2 / 3) and out["ratio"] == pytest.approx(4.0)
    # every standard network identical: no natural degeneracy, the ratio is undefined (NaN), not infinite
    same = distance_ratio([1.0, 1.0, 1.0], np.zeros((3, 3)), n_boot=50)
    assert math.isnan(same["ratio"]) and math.isnan(same["ci_low"])


def test_weight_ratio_of_scaled_and_relabelled_copies_by_hand():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 6))
    weights = {s: c * M for s, c in zip(STD, (1.0, 2.0, 3.0))}
    perm = rng.permutation(6)
    weights["alt1"] = (5.0 * M)[np.ix_(perm, perm)]  # 5 M with its neurons relabelled
    weights["ref"] = M[np.ix_(perm, perm)]  # a relabelled copy of std-g1-s0
    to_group, within = weight_distances(weights, STD, ["alt1", "ref"])
    scale = np.linalg.norm(M) / M.size  # weight_distance(c M, c' M) = |c - c'| ||M|| / N^2
    np.testing.assert_allclose(to_group["alt1"], scale * np.array([4, 3, 2]))
    np.testing.assert_allclose(to_group["ref"], scale * np.array([0, 1, 2]), atol=1e-12)
    assert distance_ratio(to_group["alt1"], within)["ratio"] == pytest.approx(3 / (4 / 3))
    # the relabelled copy sits exactly where std-g1-s0 sits: its ratio is that network's
    assert distance_ratio(to_group["ref"], within)["ratio"] == pytest.approx(1 / (4 / 3))


def test_a_relabelled_copy_of_every_standard_network_has_weight_ratio_zero():
    """A group of relabelled copies of one network has no weight degeneracy beyond relabelling: X, another
    relabelling, is at 0; a different network X' is not."""
    rng = np.random.default_rng(1)
    M = rng.normal(size=(8, 8))
    weights = {}
    for s in STD:
        p = rng.permutation(8)
        weights[s] = M[np.ix_(p, p)] + 1e-3 * rng.normal(size=(8, 8))  # tiny spread: within > 0
    p = rng.permutation(8)
    weights["alt1"] = M[np.ix_(p, p)]
    weights["alt2"] = rng.normal(size=(8, 8))
    table = insd_distance_table(STD, ["alt1", "alt2"], weights=weights, n_boot=200)
    ratio = table.set_index("net_id")["ratio"]
    assert ratio["alt1"] < 1.0 and ratio["alt2"] > 100  # 0 up to the 1e-3 jitter; then in units of it
    to_group, _ = weight_distances({**weights, **{s: M[np.ix_(q, q)] for s, q in
                                                  zip(STD, (rng.permutation(8) for _ in STD))}}, STD, ["alt1"])
    np.testing.assert_allclose(to_group["alt1"], 0.0, atol=1e-12)


def test_bootstrap_interval_covers_the_closed_form_ratio():
    """Standard networks ~ N(0, 1) on a line, X fixed at x: the ratio's population value is
    E|x - s| / E|s - s'| = (x (2 Phi(x) - 1) + 2 phi(x)) / (2 / sqrt(pi)). The 95% interval over 10
    standard networks covers it in most of 200 independent groups (the percentile bootstrap runs a little
    short with 10 networks), and four times as many networks halve its width."""
    x = 2.0
    truth = (x * (2 * norm.cdf(x) - 1) + 2 * norm.pdf(x)) / (2 / np.sqrt(np.pi))
    rng = np.random.default_rng(5)

    def interval(n, rep):
        s = rng.normal(size=n)
        out = distance_ratio(np.abs(x - s), np.abs(s[:, None] - s[None, :]), n_boot=300, seed=rep)
        assert out["ci_low"] <= out["ratio"] <= out["ci_high"]
        return out["ci_low"], out["ci_high"]

    small = np.array([interval(10, rep) for rep in range(200)])
    coverage = np.mean((small[:, 0] <= truth) & (truth <= small[:, 1]))
    assert 0.80 <= coverage <= 0.99, coverage
    large = np.array([interval(40, rep) for rep in range(40)])
    shrink = np.median(np.diff(large)) / np.median(np.diff(small))
    assert 0.35 < shrink < 0.7, shrink


def test_intervals_need_three_standard_networks_and_are_deterministic():
    two = distance_ratio([3.0, 4.0], np.array([[0, 1.0], [1.0, 0]]))
    assert two["ratio"] == pytest.approx(3.5) and math.isnan(two["ci_low"]) and math.isnan(two["ci_high"])
    D = np.abs(np.subtract.outer([0.0, 1, 2, 4], [0.0, 1, 2, 4]))
    assert distance_ratio([5, 4, 3, 1], D, seed=3) == distance_ratio([5, 4, 3, 1], D, seed=3)
    with pytest.raises(ValueError, match="at least 2 standard networks"):
        distance_ratio([1.0], np.zeros((1, 1)))


def test_bad_input_names_what_is_wrong():
    pos = {"std-g1-s0": 0.0, "std-g1-s1": 1.0, "std-g1-s2": 2.0, "alt1": 5.0}
    dsa = _dsa(pos)
    with pytest.raises(ValueError, match="misses some pairs"):
        dsa_distances(dsa[~((dsa["net_a"] == "alt1") | (dsa["net_b"] == "alt1"))], STD, ["alt1"])
    with pytest.raises(ValueError, match="no out-of-distribution condition"):
        behaviour_distances(_evals({n: (0, 0) for n in pos}).query("condition == 'in_distribution'"), STD,
                            ["alt1"])
    with pytest.raises(ValueError, match=r"\['alt1'\] lack a finite loss"):
        behaviour_distances(_evals({n: (0, 0) for n in STD}), STD, ["alt1"])
    with pytest.raises(ValueError, match=r"no recurrent weights for network\(s\) \['alt1'\]"):
        weight_distances({s: np.eye(3) for s in STD}, STD, ["alt1"])
    with pytest.raises(ValueError, match="not among the others"):
        dsa_distances(dsa, STD, ["std-g1-s0"])


# --- a real run ------------------------------------------------------------------------------------------


def test_a_tiny_run_writes_the_table_and_the_panel(tiny_run, tmp_path):
    """The tiny run's copy with three standard networks on integration: two more train, the rest is reused."""
    shutil.copytree(tiny_run, tmp_path, symlinks=True, dirs_exist_ok=True)
    cfg = copy.deepcopy(TINY)
    cfg["tasks"] = {"integration": TINY["tasks"]["integration"]}
    cfg["standard"] = {"g": [1.0], "seeds": [0, 1, 2]}
    cfg["similarity"] = {**cfg["similarity"], "metrics": ["dsa"]}
    write_config(tmp_path, cfg)
    targets = ["results/integration/insd_distance.csv", "results/figures/integration_insd_distance.png"]
    assert set(targets) <= set(planned_outputs(tmp_path))  # part of the default target
    snakemake(tmp_path, *targets)
    table = pd.read_csv(tmp_path / targets[0])
    assert list(table.columns) == COLUMNS
    assert len(table) == 2 * 3 and set(table["net_id"]) == {"ref", "alt1"}
    assert set(table["level"]) == {"behaviour", "dynamics", "weights"} and (table["n_standard"] == 3).all()
    assert (table["within"] > 0).all() and np.allclose(table["ratio"], table["distance"] / table["within"])
    assert table[["ci_low", "ci_high"]].notna().all().all() and (table["ci_low"] <= table["ci_high"]).all()
    # the dynamics row is the DSA table's mean over the standard networks, re-derived here
    dsa = pd.read_csv(tmp_path / "results/integration/similarity/dsa.csv")
    std = ["std-g1-s0", "std-g1-s1", "std-g1-s2"]
    both = dsa.assign(key=[tuple(sorted(p)) for p in zip(dsa["net_a"], dsa["net_b"])]).groupby("key")["value"].mean()
    expected = np.mean([both[tuple(sorted(("alt1", s)))] for s in std])
    row = table[(table["net_id"] == "alt1") & (table["level"] == "dynamics")].iloc[0]
    assert row["distance"] == pytest.approx(expected)
    for ext in ("pdf", "png"):
        assert (tmp_path / f"results/figures/integration_insd_distance.{ext}").stat().st_size > 0

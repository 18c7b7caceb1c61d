"""The stress grid: levels, evaluation, win/loss statistics against known truth, config checks, a real run."""

import copy
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from altrnn import netids
from altrnn.analysis.stress_statistics import (adjust, percentile, rank_p, read_statistics, single_case,
                                               stress_statistics)
from altrnn.config import ConfigError, load
from altrnn.io import SavedModel
from altrnn.model import ModelConfig, forward, init_params, recurrent_noise
from altrnn.stages.stress import STRESS_COLUMNS, stress_table
from altrnn.tasks import make_task, masked_mse
from altrnn.tasks.stress import level_setting

from tiny import TINY, snakemake, write_config

ALPHA = 0.05


def _band(rate, n, k=4.0):
    """k binomial standard deviations of an estimated rate from n draws."""
    return k * np.sqrt(rate * (1 - rate) / n)


# --- statistics: hand values ---------------------------------------------------------------------------------


def test_z_percentile_and_rank_p_by_hand():
    group = [1.0, 2.0, 3.0, 4.0]
    z, p = single_case(5.0, group)
    assert z == pytest.approx(2.5 / np.std(group, ddof=1))
    t = 2.5 / (np.std(group, ddof=1) * np.sqrt(1 + 1 / 4))
    assert p == pytest.approx(2 * (1 - stats.t.cdf(t, 3)))
    assert percentile(5.0, group) == 100 and percentile(2.0, group) == 37.5 and percentile(0.0, group) == 0
    # median of all five is 3: |x - 3| = 2 is reached by 1 (|1 - 3| = 2) and x itself: 2 of 5
    assert rank_p(5.0, group) == pytest.approx(2 / 5)
    assert rank_p(100.0, group) == pytest.approx(1 / 5)  # the floor 1 / (n + 1)
    assert np.isnan(single_case(1.0, [2.0, 2.0, 2.0])[1])  # no spread: no test
    assert np.isnan(single_case(1.0, [2.0])[1])


def test_holm_and_bh_agree_with_their_step_definitions():
    rng = np.random.default_rng(0)
    for _ in range(200):
        m = int(rng.integers(1, 12))
        p = np.where(rng.random(m) < 0.5, rng.random(m) * 0.02, rng.random(m))
        order = np.sort(p)
        for a in (0.01, 0.05, 0.2):
            holm = set()
            for i, q in enumerate(order):  # step down: stop at the first p_(i) above a / (m - i)
                if q > a / (m - i):
                    break
                holm.add(q)
            ks = [k for k in range(1, m + 1) if order[k - 1] <= k * a / m]  # step up: largest such k
            bh = set(order[: max(ks)]) if ks else set()
            assert set(p[adjust(p, "holm") <= a]) == holm
            assert set(p[adjust(p, "bh") <= a]) == bh
    assert np.isnan(adjust([0.01, np.nan, 0.02])[1])
    with pytest.raises(ValueError, match="correction"):
        adjust([0.1], "bonferroni")


# --- statistics: known truth by simulation -------------------------------------------------------------------


def test_single_case_false_positive_rate_is_nominal_and_power_matches_the_noncentral_t():
    """Null: rejections at 0.05 in 5% of groups (any n); shift delta: power = P(|T'| > t_crit), T' noncentral t
    with n - 1 df and ncp delta / sqrt(1 + 1/n), a closed form the test itself never uses."""
    rng = np.random.default_rng(1)
    S, n = 6000, 10
    for delta in (0.0, 2.0, 4.0):
        groups = rng.standard_normal((S, n))
        cases = delta + rng.standard_normal(S)
        rate = np.mean([single_case(x, g)[1] < ALPHA for x, g in zip(cases, groups)])
        crit = stats.t.ppf(1 - ALPHA / 2, n - 1)
        ncp = delta / np.sqrt(1 + 1 / n)
        expected = stats.nct.sf(crit, n - 1, ncp) + stats.nct.cdf(-crit, n - 1, ncp)
        if delta == 0:
            assert expected == pytest.approx(ALPHA)
        assert abs(rate - expected) < _band(expected, S), (delta, rate, expected)
    small = [single_case(x, g)[1] < ALPHA for x, g in zip(rng.standard_normal(S), rng.standard_normal((S, 2)))]
    assert abs(np.mean(small) - ALPHA) < _band(ALPHA, S)  # exact even with 2 standard networks


def test_rank_p_is_valid_with_its_floor():
    rng = np.random.default_rng(2)
    S, n = 6000, 10
    p = np.array([rank_p(x, g) for x, g in zip(rng.standard_normal(S), rng.standard_normal((S, n)))])
    assert p.min() == pytest.approx(1 / (n + 1))
    for k in (1, 2, 5):  # exchangeable values: P(p <= k / (n + 1)) = k / (n + 1)
        assert abs(np.mean(p <= k / (n + 1) + 1e-12) - k / (n + 1)) < _band(k / (n + 1), S)


def test_corrections_control_the_family_wise_and_false_discovery_rates():
    """m independent null tests: Holm rejects anything with probability 1 - (1 - a/m)^m (it rejects iff the
    smallest p <= a/m), BH with probability a (Simes); both close to the nominal 0.05."""
    rng = np.random.default_rng(3)
    S, n, m = 3000, 10, 6
    p = np.array([[single_case(x, g)[1] for x, g in zip(rng.standard_normal(m), rng.standard_normal((m, n)))]
                  for _ in range(S)])
    holm = np.mean([(adjust(row, "holm") < ALPHA).any() for row in p])
    bh = np.mean([(adjust(row, "bh") < ALPHA).any() for row in p])
    expected = 1 - (1 - ALPHA / m) ** m
    assert abs(holm - expected) < _band(expected, S)
    assert abs(bh - ALPHA) < _band(ALPHA, S)
    none = np.mean([(adjust(row, "none") < ALPHA).any() for row in p])
    assert none > 0.2  # uncorrected, a family of 6 tests has false positives far above 5%


def _synthetic_table(rng, shift=None, n_std=10, levels=(1, 2, 3)):
    """A stress table of n_std standard networks, ref and alt1: log-normal losses and normal accuracies from one
    distribution per level; shift[(net, level)] = (log10 loss shift, accuracy shift) in standard deviations."""
    shift = shift or {}
    nets = [netids.standard_id(1.0, s) for s in range(n_std)] + ["ref", "alt1"]
    rows = []
    for axis in ("noise", "T"):
        for level in levels:
            for net in nets:
                dl, da = shift.get((net, level), (0.0, 0.0))
                rows.append({"net_id": net, "axis": axis, "level": level,
                             "loss": 10 ** (-2 + 0.1 * level + 0.2 * (dl + rng.standard_normal())),
                             "accuracy": 0.8 - 0.05 * level + 0.02 * (da + rng.standard_normal())})
    return pd.DataFrame(rows, columns=STRESS_COLUMNS), nets[:n_std]


def test_stress_statistics_on_null_groups_keeps_false_positives_at_nominal():
    """The real layout (2 networks x 2 axes x 3 levels x 2 metrics share one standard group per cell):
    each test alone rejects 5% of the time; after Holm over the unit, some mark appears in at most 5% of units."""
    rng = np.random.default_rng(4)
    S = 250
    raw, families = [], []
    for _ in range(S):
        table, std = _synthetic_table(rng)
        out = stress_statistics(table, std, alpha=ALPHA, correction="holm", n_boot=100)
        raw.append((out["p"] < ALPHA).to_numpy())
        families.append(out["mark"].isin(["win", "loss"]).any())
    raw = np.concatenate(raw)
    assert abs(raw.mean() - ALPHA) < _band(ALPHA, raw.size / 6)  # tests of a unit are dependent: fewer effective
    assert np.mean(families) < ALPHA + _band(ALPHA, S, 3)


def test_stress_statistics_finds_known_wins_and_losses():
    """alt1 is 8 sd better at level 3 (lower loss, higher accuracy) and ref 8 sd worse at level 1; power of each
    such test after Holm over 24 tests is close to 1, and everything else is unmarked in most units."""
    rng = np.random.default_rng(5)
    shift = {("alt1", 3): (-8.0, 8.0), ("ref", 1): (8.0, -8.0)}
    hits, false = 0, 0
    for _ in range(40):
        table, std = _synthetic_table(rng, shift)
        out = stress_statistics(table, std, alpha=ALPHA, correction="holm", n_boot=100)
        win = out[(out["net_id"] == "alt1") & (out["level"] == 3)]
        lose = out[(out["net_id"] == "ref") & (out["level"] == 1)]
        hits += (win["mark"] == "win").all() and (lose["mark"] == "loss").all()
        rest = out.drop(win.index.union(lose.index))
        false += rest["mark"].isin(["win", "loss"]).any()
        assert (win.query("metric == 'loss'")["z"] < 0).all() and (win["percentile"].isin([0.0, 100.0])).all()
    assert hits >= 36 and false <= 6
    assert list(out.columns[-2:]) == ["correction", "alpha"] and (out["n_std"] == 10).all()
    band = out.query("metric == 'loss'")
    assert ((band["std_low"] <= band["std_mean"]) & (band["std_mean"] <= band["std_high"])).all()


def test_statistics_mark_na_without_spread_and_need_two_standard_networks(tmp_path):
    rng = np.random.default_rng(6)
    table, std = _synthetic_table(rng, n_std=3)
    table.loc[table["net_id"].isin(std), "accuracy"] = 1.0
    out = stress_statistics(table, std, n_boot=100)
    assert (out.query("metric == 'accuracy'")["mark"] == "n/a").all()
    assert (out.query("metric == 'loss'")["mark"] != "n/a").all()
    out.to_csv(tmp_path / "s.csv", index=False)
    assert (read_statistics(tmp_path / "s.csv")["mark"] == out["mark"]).all()  # "n/a" survives the round trip
    with pytest.raises(ValueError, match="at least 2 standard networks"):
        stress_statistics(table, std[:1])


# --- levels and evaluation -----------------------------------------------------------------------------------


def test_level_setting_sets_or_scales_each_key():
    params = {"delay_min": 20, "delay_max": 40, "stim_noise": 0.1}
    load_axis = {"key": ["params.delay_min", "params.delay_max"], "levels": [1.5], "scale": True}
    assert level_setting(load_axis, 1.5, params, 0.05) == ({"delay_min": 30, "delay_max": 60}, 0.05)
    assert level_setting(load_axis, 1.33, params, 0.05)[0] == {"delay_min": 27, "delay_max": 53}  # rounded
    both = {"key": ["params.stim_noise", "model.sigma_rec"], "levels": [3], "scale": True}
    changes, sigma = level_setting(both, 3, params, 0.05)
    assert changes == {"stim_noise": pytest.approx(0.3)} and sigma == pytest.approx(0.15)
    assert level_setting({"key": ["model.sigma_rec"], "levels": [0.2]}, 0.2, params, 0.05) == ({}, 0.2)


def _model(seed, n_rec=12):
    cfg = ModelConfig(n_in=3, n_rec=n_rec, n_out=3, sigma_rec=0.05, dtype="float64")
    return SavedModel(init_params(cfg, 1.5, np.random.default_rng(seed)), cfg, {})


def test_stress_table_applies_each_level_with_common_random_numbers():
    task = make_task("flipflop", {"T": 30})
    a, b = _model(0), _model(1)
    axes = {"recurrent_noise": {"key": ["model.sigma_rec"], "levels": [0.0, 0.5], "scale": False},
            "trial_length": {"key": ["params.T"], "levels": [1, 2], "scale": True}}
    table = stress_table({"std-g1-s0": a, "copy": a, "other": b}, task, axes, n_trials=20, seed=3)
    assert list(table.columns) == STRESS_COLUMNS and len(table) == 3 * 4
    by = table.set_index(["net_id", "axis", "level"])
    pd.testing.assert_frame_equal(by.loc["copy"], by.loc["std-g1-s0"])  # same trials, same noise draws
    assert not by.loc["other"].equals(by.loc["copy"])
    # sigma_rec = 0 is the noise-free network: its loss from a plain forward pass on the level's trials
    batch = task.batch(20, np.random.default_rng([3, 0, 0]))
    y = forward(a.params, a.config, batch.inputs).y
    assert by.loc[("copy", "recurrent_noise", 0.0), "loss"] == pytest.approx(masked_mse(y, batch))
    # trial length x2 runs 60-step trials with the trained recurrent noise
    long = make_task("flipflop", {"T": 60})
    batch = long.batch(20, np.random.default_rng([3, 1, 1]))
    noise = recurrent_noise(a.config, (60, 20, 12), np.random.default_rng([3, 1, 1, 1]))
    y = forward(a.params, a.config, batch.inputs, noise).y
    assert by.loc[("copy", "trial_length", 2), "loss"] == pytest.approx(masked_mse(y, batch))
    assert by.loc[("copy", "recurrent_noise", 0.5), "loss"] > by.loc[("copy", "recurrent_noise", 0.0), "loss"]


# --- config --------------------------------------------------------------------------------------------------


def _with_stress(stress, task="flipflop", where="entry"):
    raw = copy.deepcopy(TINY)
    if where == "entry":
        raw["tasks"][task]["stress"] = stress
    else:
        raw["stress"] = stress
    return raw


def test_config_normalises_the_axes_and_merges_them():
    """Global axes reach every entry; an entry adds its own and overrides a global axis key by key."""
    raw = _with_stress({"axes": {"noise": {"key": "params.input_noise", "levels": [0, 0.2]},
                                 "rec": {"levels": [0.1, 0.3]}}})
    raw["stress"] = {"axes": {"rec": {"key": "model.sigma_rec", "levels": [0, 0.4]}}, "correction": "bh"}
    cfg = load(raw)
    s = cfg.units["flipflop"].stress
    assert s.axes == {"noise": {"key": ["params.input_noise"], "levels": [0, 0.2], "scale": False},
                      "rec": {"key": ["model.sigma_rec"], "levels": [0.1, 0.3], "scale": False}}
    assert s.correction == "bh" and s.alpha == 0.05
    assert cfg.units["integration"].stress.axes == {"rec": {"key": ["model.sigma_rec"], "levels": [0, 0.4],
                                                            "scale": False}}
    assert load(copy.deepcopy(TINY)).units["flipflop"].stress.axes == {}  # none by default


@pytest.mark.parametrize("stress, message", [
    ({"axes": {"noise": {"key": "input_noise", "levels": [0.1]}}}, r"stress\.axes\.noise\.key: expected params"),
    ({"axes": {"noise": {"key": "params.noise", "levels": [0.1]}}}, r"'params\.noise' is not a numeric parameter"),
    ({"axes": {"noise": {"key": "params.input_noise", "levels": []}}}, r"noise\.levels: expected a non-empty"),
    ({"axes": {"noise": {"key": "params.input_noise", "levels": [0.1, 0.1]}}}, r"noise\.levels: values must"),
    ({"axes": {"noise": {"key": "params.input_noise", "levels": ["high"]}}}, r"noise\.levels\[0\]: expected"),
    ({"axes": {"noise": {"key": "params.input_noise", "levels": [0.1], "scal": True}}}, r"noise\.scal: unknown"),
    ({"axes": {"T": {"key": "params.T", "levels": [10, 0.5]}}}, r"T\.levels\[1\]: level 0\.5 gives an invalid"),
    ({"axes": {"T": {"key": "params.T", "levels": [1], "scale": "yes"}}}, r"T\.scale: expected true or false"),
    ({"axes": {"2x": {"key": "params.T", "levels": [1]}}}, r"axes\.2x: an axis name"),
    ({"axes": {"n": {"key": "params.n_bits", "levels": [1]}}, "correction": "fdr"}, r"stress\.correction"),
])
def test_config_errors_name_the_key(stress, message):
    with pytest.raises(ConfigError, match=message):
        load(_with_stress(stress))


def test_config_needs_two_standard_networks_and_a_numeric_parameter():
    raw = _with_stress({"axes": {"T": {"key": "params.T", "levels": [1, 2], "scale": True}}})
    raw["tasks"]["flipflop"]["standard"] = {"g": [1.0], "seeds": [0]}
    with pytest.raises(ConfigError, match=r"tasks\.flipflop\.stress\.axes: .* at least 2 standard networks"):
        load(raw)
    raw = _with_stress({"axes": {"c": {"key": "params.coherences", "levels": [1]}}}, task="integration")
    with pytest.raises(ConfigError, match=r"tasks\.integration\.stress\.axes\.c\.key: .* numeric parameters: "):
        load(raw)


# --- a real run ----------------------------------------------------------------------------------------------

GRID = {"axes": {"recurrent_noise": {"key": "model.sigma_rec", "levels": [0.0, 0.2]},
                 "trial_length": {"key": "params.T", "levels": [1, 2], "scale": True}},
        "n_trials": 16, "n_boot": 200}


def test_a_tiny_stress_grid_runs_in_snakemake(tiny_run, tmp_path):
    """The grid added to a copy of the tiny run: the stress jobs run on its networks."""
    shutil.copytree(tiny_run, tmp_path, symlinks=True, dirs_exist_ok=True)
    raw = _with_stress(GRID)
    write_config(tmp_path, raw)
    planned = " ".join(p for p in _planned(tmp_path))
    assert "results/flipflop/stress.csv" in planned and "integration/stress" not in planned
    targets = ["results/figures/flipflop_stress.png", "results/flipflop/stress_statistics.csv"]
    snakemake(tmp_path, *targets)
    table = pd.read_csv(tmp_path / "results/flipflop/stress.csv")
    nets = load(raw).units["flipflop"].net_ids()
    assert list(table.columns) == STRESS_COLUMNS and len(table) == len(nets) * 4
    assert set(table["net_id"]) == set(nets) and table[["loss", "accuracy"]].notna().all().all()
    out = read_statistics(tmp_path / "results/flipflop/stress_statistics.csv")
    assert len(out) == 2 * 4 * 2 and set(out["net_id"]) == {"ref", "alt1"}  # non-standard x levels x metrics
    assert set(out["mark"]) <= {"win", "loss", "none", "n/a"} and (out["correction"] == "holm").all()
    assert (tmp_path / "results/figures/flipflop_stress.pdf").stat().st_size > 0
    again = snakemake(tmp_path, *targets)
    assert "Nothing to be done" in again.stdout + again.stderr


def _planned(workdir):
    from tiny import planned_outputs

    return planned_outputs(workdir)

"""A real Snakemake run of a tiny degeneracy study: one factor over two tasks, its trend figure and table."""

import copy

import pandas as pd
import pytest
import yaml

from altrnn import config
from tiny import TINY, snakemake, write_config


def degeneracy_config():
    cfg = copy.deepcopy(TINY)
    cfg["tasks"] = {}
    cfg["networks_per_g"] = 2  # the fewest that give a degeneracy and an interval: keeps the run short
    cfg["standard"] = {"g": [1.0], "seeds": [0]}
    cfg["insd"] = {**cfg["insd"], "n_alternatives": 0}
    cfg["similarity"] = {**cfg["similarity"], "metrics": ["dsa"]}
    cfg["studies"] = {
        "width_flipflop": {"task": "flipflop", "factor": "width", "params": {"T": 20},
                           "axes": {"model.n_rec": [4, 8]}},
        "width_dd": {"task": "delayed_discrimination", "factor": "width",
                     "params": {"T_fix": 2, "T_stim": 3, "delay_min": 2, "delay_max": 4, "T_resp": 3, "grace": 1},
                     "axes": {"model.n_rec": [4, 8]}},
    }
    return cfg


@pytest.fixture(scope="module")
def degeneracy_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("degeneracy_study")
    write_config(workdir, degeneracy_config())
    snakemake(workdir, "studies")  # the study tables and the factor figure, and what they read
    return workdir


def test_networks_per_g_sets_the_seeds_of_every_task_entry_and_study_condition():
    cfg = config.load(degeneracy_config())
    for label, s in cfg.units.items():
        assert s.standard.seeds == (0, 1), label
    assert {s.factor for s in cfg.studies.values()} == {"width"}
    entries = config.load({**degeneracy_config(), "tasks": {"flipflop": {"standard": {"seeds": [7]}}}})
    assert entries.units["flipflop"].standard.seeds == (0, 1)


@pytest.mark.parametrize("change,message", [
    ({"networks_per_g": 0}, "networks_per_g: expected an integer >= 1"),
    ({"networks_per_g": "4"}, "networks_per_g: expected an integer >= 1"),
    ({"studies": {"s": {"task": "flipflop", "factor": "two words", "axes": {"model.n_rec": [4]}}}},
     "studies.s.factor: a factor name"),
])
def test_bad_degeneracy_keys_name_the_key(change, message):
    cfg = {**degeneracy_config(), **change}
    with pytest.raises(config.ConfigError, match=message):
        config.load(cfg)


def test_the_factor_figure_has_a_panel_per_task_and_intervals(degeneracy_run):
    table = pd.read_csv(degeneracy_run / "results/studies/factor_width.csv")
    written = yaml.safe_load((degeneracy_run / "config.yaml").read_text())
    assert list(table["study"].unique()) == list(written["studies"])  # config order
    assert set(table["axis"]) == {"model.n_rec"}
    assert set(table["measure"]) == {"degeneracy", "feature_learning"}
    assert set(table.loc[table["measure"] == "feature_learning", "panel"]) == {
        "feature learning: weight_change", "feature learning: kernel_alignment"}
    for study, rows in table.groupby("study"):
        assert sorted(rows["x"].unique()) == [4, 8], study
        assert (rows["n"] == 2).all(), study
    finite = table.dropna(subset=["ci_low", "ci_high"])
    assert len(finite) > 0
    assert (finite["ci_low"] <= finite["mean"] + 1e-12).all() and (finite["mean"] <= finite["ci_high"] + 1e-12).all()
    for ext in ("pdf", "png"):
        assert (degeneracy_run / f"results/studies/factor_width.{ext}").stat().st_size > 0


def test_the_study_tables_hold_the_degeneracy_of_each_condition(degeneracy_run):
    deg = pd.read_csv(degeneracy_run / "results/studies/width_dd/degeneracy.csv")
    assert set(deg["study_condition"]) == {"n_rec-4", "n_rec-8"}
    assert set(deg["level"]) >= {"behaviour", "dynamics", "weights"}
    assert (deg["n_networks"] == 2).all()

"""Real Snakemake runs of a tiny factor study: tables, trend figures, exact caching, bad specs."""

import copy
import shutil

import pandas as pd
import pytest
import yaml

from tiny import TINY, planned_outputs, snakemake, write_config

STUDY = "results/studies/width"
TABLES = ("conditions", "eval", "training", "similarity", "degeneracy", "trends")
MEASURES = ("accuracy", "loss", "iterations", "final_task_loss", "feature_learning", "linear_predictability",
            "similarity", "degeneracy")


def study_config():
    cfg = copy.deepcopy(TINY)
    cfg["tasks"] = {}
    cfg["studies"] = {"width": {
        "task": "flipflop", "params": {"T": 20},
        "standard": {"g": [1.0], "seeds": [0, 1]}, "insd": {"n_alternatives": 1},
        "similarity": {"metrics": ["cka", "dsa"]},
        "axes": {"model.n_rec": [4, 8]},
    }}
    return cfg


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study")
    write_config(workdir, study_config())
    snakemake(workdir)
    return workdir


def copy_of(run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(run, workdir, symlinks=True)
    return workdir


def test_study_tables_have_one_row_per_condition_and_network(study_run):
    d = study_run / STUDY
    conditions = pd.read_csv(d / "conditions.csv")
    assert list(conditions.columns) == ["study_condition", "model.n_rec"]
    assert conditions.values.tolist() == [["n_rec-4", 4], ["n_rec-8", 8]]
    nets = {"std-g1-s0", "std-g1-s1", "ref", "alt1"}
    training = pd.read_csv(d / "training.csv")
    assert list(training.columns[:4]) == ["study_condition", "model.n_rec", "net_id", "family"]
    assert len(training) == 8 and not training.duplicated(["study_condition", "net_id"]).any()
    assert set(training["net_id"]) == nets and (training["iterations"] > 0).all()
    ev = pd.read_csv(d / "eval.csv")
    per_net = pd.read_csv(study_run / "results/studies/width/n_rec-8/nets/alt1/eval.csv")
    assert len(ev) == 8 * len(per_net) and not ev.duplicated(["study_condition", "net_id", "condition"]).any()
    mine = ev[(ev["study_condition"] == "n_rec-8") & (ev["net_id"] == "alt1")]
    assert mine["loss"].tolist() == per_net["loss"].tolist()
    sim = pd.read_csv(d / "similarity.csv")
    assert set(sim["metric"]) == {"linear_predictability", "cka", "dsa"}
    assert (sim["net_a"] != sim["net_b"]).all()
    lp = sim[sim["metric"] == "linear_predictability"]
    assert len(lp) == 2 * 2 * 4 * 3  # conditions x spaces x ordered pairs of distinct networks
    deg = pd.read_csv(d / "degeneracy.csv")
    assert set(deg["study_condition"]) == {"n_rec-4", "n_rec-8"} and "ci_low" in deg.columns


def test_trends_carry_bootstrap_intervals_per_family(study_run):
    trends = pd.read_csv(study_run / STUDY / "trends.csv")
    acc = trends[(trends["measure"] == "accuracy") & (trends["panel"] == "in_distribution")]
    assert sorted(acc["x"].unique()) == [4, 8]
    assert set(acc["family"]) == {"g=1", "ref", "alt1"}
    std = acc[acc["family"] == "g=1"]
    assert (std["n"] == 2).all() and (std["ci_low"] <= std["mean"]).all() and (std["mean"] <= std["ci_high"]).all()
    ev = pd.read_csv(study_run / STUDY / "eval.csv")
    for row in std.itertuples():
        values = ev[(ev["model.n_rec"] == row.x) & (ev["family"] == "g=1") & (ev["condition"] == "in_distribution")]
        assert row.mean == pytest.approx(values["accuracy"].mean())
    lp = trends[trends["measure"] == "linear_predictability"]
    assert {"alt1\u2192ref", "std\u2192std", "ref\u2192alt1"} <= set(lp["family"])
    assert set(lp["panel"]) == {"full", "nullspace"}
    assert set(trends.loc[trends["measure"] == "similarity", "panel"]) == {"cka", "dsa"}
    for measure in MEASURES:
        for ext in ("pdf", "png"):
            assert (study_run / STUDY / f"trend_{measure}.{ext}").stat().st_size > 1000, measure


def test_study_outputs_are_deterministic(study_run, tmp_path):
    workdir = copy_of(study_run, tmp_path)
    d = workdir / STUDY
    before = {f.name: f.read_bytes() for f in d.iterdir() if f.is_file()}
    snakemake(workdir, "studies", "--forcerun", "study")
    assert {f.name: f.read_bytes() for f in d.iterdir() if f.is_file()} == before


def test_nothing_to_do_after_the_run_and_after_reordering_the_config(study_run, tmp_path):
    assert planned_outputs(study_run) == []
    workdir = copy_of(study_run, tmp_path)
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    cfg["model"] = dict(reversed(list(cfg["model"].items())))
    cfg["studies"]["width"] = dict(reversed(list(cfg["studies"]["width"].items())))
    cfg["studies"]["width"]["params"] = {"T": 20, "n_bits": 3}  # the default, now written out
    write_config(workdir, cfg)
    assert planned_outputs(workdir) == []


def _study_outputs(outputs):
    return {o for o in outputs if o.startswith(f"{STUDY}/") and o.count("/") == 3}


def test_changing_one_axis_value_plans_only_that_condition(study_run, tmp_path):
    workdir = copy_of(study_run, tmp_path)
    cfg = study_config()
    cfg["studies"]["width"]["axes"]["model.n_rec"] = [4, 6]
    write_config(workdir, cfg)
    outputs = planned_outputs(workdir)
    study_files = _study_outputs(outputs)
    assert f"{STUDY}/trends.csv" in study_files
    assert all(o.startswith(f"{STUDY}/n_rec-6/") for o in set(outputs) - study_files), outputs
    assert f"{STUDY}/n_rec-6/nets/alt1/model.npz" in outputs

    cfg["studies"]["width"]["axes"]["model.n_rec"] = [4, 8, 12]
    write_config(workdir, cfg)
    outputs = planned_outputs(workdir)
    assert all(o.startswith(f"{STUDY}/n_rec-12/") for o in set(outputs) - _study_outputs(outputs)), outputs
    assert sum(o.endswith("model.npz") for o in outputs) == 4


def test_a_dsa_option_reruns_only_what_uses_dsa(study_run, tmp_path):
    workdir = copy_of(study_run, tmp_path)
    cfg = study_config()
    cfg["similarity"]["options"]["dsa"]["rank"] = 5
    write_config(workdir, cfg)
    outputs = set(planned_outputs(workdir)) - _study_outputs(planned_outputs(workdir))
    expected = {f"{STUDY}/n_rec-{n}/{f}" for n in (4, 8)
                for f in ("similarity/dsa.csv", "similarity/dsa_mds.csv", "degeneracy.csv", "insd_distance.csv")}
    assert outputs == expected


@pytest.mark.parametrize("axes,message", [
    ({"model.n_recc": [4]}, "studies.width.axes.model.n_recc: unknown key"),
    ({"model.n_rec": []}, "studies.width.axes.model.n_rec: an axis needs a non-empty list"),
    ({"model.n_rec": [4, 0]}, "studies.width.axes.model.n_rec: value 0 is rejected"),
])
def test_bad_study_specs_stop_before_any_job(tmp_path, axes, message):
    cfg = study_config()
    cfg["studies"]["width"]["axes"] = axes
    write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_condition_figures_draw_every_panel_per_condition(tmp_path):
    cfg = study_config()
    cfg["studies"]["width"]["condition_figures"] = True
    write_config(tmp_path, cfg)
    outputs = planned_outputs(tmp_path)
    for condition in ("n_rec-4", "n_rec-8"):
        for panel in ("training", "predictability", "ood", "fixed_points", "manifolds", "dsa_mds"):
            assert f"results/figures/studies/width/{condition}_{panel}.pdf" in outputs

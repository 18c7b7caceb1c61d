"""INSD's trade-off between task loss and decoupling in a study: the table by hand, and a tiny real study."""

import copy

import numpy as np
import pandas as pd
import pytest

from altrnn.analysis.statistics import bootstrap_mean
from altrnn.stages.study import TRADEOFF_COLUMNS, tradeoff_table
from tiny import TINY, snakemake, write_config


def _tables(n_alternatives: dict) -> dict:
    """Study tables of conditions name -> number of alternatives; alt{k}'s task loss is k / 10 and its
    null-space predictability to earlier network e is 0.1 * (index of e + 1) + 0.01 k (full space: 0.9)."""
    training, similarity = [], []
    for c, n in n_alternatives.items():
        nets = ["std-g1-s0", "ref", *[f"alt{k}" for k in range(1, n + 1)]]
        training += [{"study_condition": c, "insd.lambda": 1.0, "net_id": net, "final_task_loss":
                      int(net[3:]) / 10 if net.startswith("alt") else 0.05} for net in nets]
        for a in nets:
            for i, b in enumerate(nets[1:]):
                for space in ("full", "nullspace"):
                    k = int(a[3:]) if a.startswith("alt") else 0
                    similarity.append({"study_condition": c, "metric": "linear_predictability", "space": space,
                                       "net_a": a, "net_b": b,
                                       "value": 0.1 * (i + 1) + 0.01 * k if space == "nullspace" else 0.9})
    return {"training": pd.DataFrame(training), "similarity": pd.DataFrame(similarity),
            "conditions": pd.DataFrame([{"study_condition": c, "insd.lambda": 1.0} for c in n_alternatives])}


def test_tradeoff_table_by_hand():
    table = tradeoff_table(_tables({"a": 3, "b": 1}), n_boot=500)
    assert list(table.columns) == ["study_condition", "insd.lambda", *TRADEOFF_COLUMNS]
    by = table.set_index(["study_condition", "net_id"])
    # alt3 of a is decoupled from ref, alt1, alt2 (earlier indices 0, 1, 2): mean of 0.13, 0.23, 0.33
    assert by.loc[("a", "alt3"), "predictability"] == pytest.approx(0.23) and by.loc[("a", "alt3"), "n"] == 3
    assert by.loc[("a", "alt1"), "predictability"] == pytest.approx(0.11) and by.loc[("a", "alt1"), "n"] == 1
    assert by.loc[("a", "alt2"), "final_task_loss"] == pytest.approx(0.2)
    assert ("a", "ref") not in by.index and ("a", "std-g1-s0") not in by.index
    # the condition's row: means over its three alternatives with the bootstrap of those three values
    row = by.loc[("a", "alternatives")]
    assert row["final_task_loss"] == pytest.approx(0.2) and row["n"] == 3
    assert row["predictability"] == pytest.approx(np.mean([0.11, 0.17, 0.23]))
    _, low, high = bootstrap_mean([0.1, 0.2, 0.3], n_boot=500)
    assert (row["loss_ci_low"], row["loss_ci_high"]) == pytest.approx((low, high)) and low < 0.2 < high
    # one alternative: no interval
    assert np.isnan(by.loc[("b", "alternatives"), "predictability_ci_low"])
    assert by.loc[("b", "alternatives"), "predictability"] == pytest.approx(0.11)


def test_tradeoff_table_without_alternatives_is_empty_and_a_missing_pair_is_named():
    tables = _tables({"a": 0})
    assert tradeoff_table(tables).empty
    tables = _tables({"a": 2})
    sim = tables["similarity"]
    tables["similarity"] = sim[~((sim["net_a"] == "alt2") & (sim["net_b"] == "alt1"))]
    with pytest.raises(ValueError, match=r"condition 'a': no null-space linear predictability from alt2 to \['alt1'\]"):
        tradeoff_table(tables)


def test_tradeoff_pools_replicate_chains_with_intervals_over_chains():
    tables = _tables({"a": 2, "b": 2, "c": 2})
    # chains a and b repeat lambda 1 (seeds 100, 101); c is lambda 2. Chain b's losses are shifted by 0.1.
    tables["conditions"] = pd.DataFrame({"study_condition": ["a", "b", "c"], "insd.lambda": [1.0, 1.0, 2.0],
                                         "insd.seed": [100, 101, 100]})
    tr = tables["training"]
    tr.loc[tr["study_condition"] == "b", "final_task_loss"] += 0.1
    table = tradeoff_table(tables, n_boot=500, replicates="insd.seed")
    assert list(table.columns) == ["study_condition", "insd.lambda", *TRADEOFF_COLUMNS]
    by = table.set_index(["study_condition", "net_id"])
    assert list(dict.fromkeys(table["study_condition"])) == ["lambda-1", "lambda-2"]
    alt1 = by.loc[("lambda-1", "alt1")]
    assert alt1["final_task_loss"] == pytest.approx(0.15) and alt1["n_chains"] == 2 and alt1["n"] == 1
    _, low, high = bootstrap_mean([0.1, 0.2], n_boot=500)
    assert (alt1["loss_ci_low"], alt1["loss_ci_high"]) == pytest.approx((low, high))
    # the pool's row: the chains' means over their alternatives (0.15 and 0.25), intervals over the 2 chains
    row = by.loc[("lambda-1", "alternatives")]
    assert row["final_task_loss"] == pytest.approx(0.2) and row["n_chains"] == 2 and row["n"] == 2
    _, low, high = bootstrap_mean([0.15, 0.25], n_boot=500)
    assert (row["loss_ci_low"], row["loss_ci_high"]) == pytest.approx((low, high))
    assert row["predictability"] == pytest.approx(np.mean([0.11, 0.17]))
    # one chain: no interval
    assert by.loc[("lambda-2", "alternatives"), "n_chains"] == 1
    assert np.isnan(by.loc[("lambda-2", "alternatives"), "loss_ci_low"])
    # without pooling the same tables give one row group per chain
    assert set(tradeoff_table(tables, n_boot=50)["study_condition"]) == {"a", "b", "c"}


def test_a_tiny_insd_study_writes_the_tradeoff(tmp_path):
    cfg = copy.deepcopy(TINY)
    cfg["tasks"] = {}
    cfg["studies"] = {"sens": {
        "task": "integration", "params": TINY["tasks"]["integration"]["params"],
        "standard": {"g": [1.0], "seeds": [0]}, "similarity": {"metrics": []},
        "insd": {"n_alternatives": 1},
        "axes": {"insd.lambda": [0.5, 8.0], "insd.seed": [100, 101]}, "replicates": "insd.seed",
    }}
    write_config(tmp_path, cfg)
    snakemake(tmp_path, "studies")
    out = tmp_path / "results/studies/sens"
    table = pd.read_csv(out / "tradeoff.csv")
    # the seed axis is pooled: one row group per lambda, over the two chains (seeds 100, 101)
    assert list(table.columns) == ["study_condition", "insd.lambda", *TRADEOFF_COLUMNS]
    assert list(table["study_condition"]) == ["lambda-0.5"] * 2 + ["lambda-8"] * 2
    assert list(table["net_id"]) == ["alt1", "alternatives"] * 2 and (table["n_chains"] == 2).all()
    # the numbers come from the study's own tables: alt1's mean over the chains' alt1
    training = pd.read_csv(out / "training.csv").set_index(["study_condition", "net_id"])
    sim = pd.read_csv(out / "similarity.csv")
    null = sim[(sim["metric"] == "linear_predictability") & (sim["space"] == "nullspace")
               & (sim["net_a"] == "alt1") & (sim["net_b"] == "ref")].set_index("study_condition")["value"]
    for r in table[table["net_id"] == "alt1"].itertuples():
        chains = [f"{r.study_condition}_seed-{s}" for s in (100, 101)]
        losses = [training.loc[(c, "alt1"), "final_task_loss"] for c in chains]
        assert r.final_task_loss == pytest.approx(np.mean(losses))
        assert r.predictability == pytest.approx(np.mean([null[c] for c in chains]))
        assert r.loss_ci_low <= r.final_task_loss <= r.loss_ci_high
    assert losses[0] != losses[1]  # the seed changes the chain
    for ext in ("pdf", "png"):
        assert (out / f"tradeoff.{ext}").stat().st_size > 0

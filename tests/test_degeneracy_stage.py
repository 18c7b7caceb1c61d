"""The degeneracy stage on saved networks: two trial sets, the same-network DSA null, every row of the table."""

import numpy as np
import pandas as pd
import pytest

from altrnn import netids
from altrnn.analysis.degeneracy import dsa_null, weight_distance
from altrnn.io import load_model, save_model, write_csv
from altrnn.model import ModelConfig, Params, init_params
from altrnn.stages import degeneracy, similarity
from altrnn.tasks import make_task

TASK, PARAMS = "flipflop", {"n_bits": 2, "T": 30}
SETTINGS = {"n_trials": 8, "seed": 3, "dsa": {"n_delays": 3, "rank": 6}}


def _relabelled(p: Params, perm) -> Params:
    """The same network with its recurrent units renumbered."""
    return Params(W_in=p.W_in[perm], W=p.W[np.ix_(perm, perm)], b=p.b[perm], W_out=p.W_out[:, perm],
                  b_out=p.b_out)


@pytest.fixture(scope="module")
def unit(tmp_path_factory):
    """Three saved networks (the third a relabelled copy of the first), eval tables and the DSA table."""
    root = tmp_path_factory.mktemp("unit")
    task = make_task(TASK, PARAMS)
    cfg = ModelConfig(n_in=task.n_in, n_rec=10, n_out=task.n_out, dtype="float64")
    first = init_params(cfg, 1.5, np.random.default_rng(0))
    params = {"std-g1.5-s0": first, "std-g0.5-s0": init_params(cfg, 0.5, np.random.default_rng(1)),
              "std-g1.5-s1": _relabelled(first, np.random.default_rng(2).permutation(10))}
    models, evals = [], []
    for i, (name, p) in enumerate(params.items()):
        models.append(root / netids.net_file(TASK, name, "model.npz"))
        save_model(models[-1], p, cfg, {"task": TASK, "net_id": name})
        evals.append(root / netids.net_file(TASK, name, "eval.csv"))
        write_csv(pd.DataFrame({"condition": ["in_distribution", "temporal_x2"], "loss": [0.1, 0.2 * (i + 1)],
                                "accuracy": [1.0, 1.0]}), evals[-1])
    loaded = {name: load_model(m) for name, m in zip(params, models)}
    dsa = similarity.similarity_table(loaded, task, "dsa", SETTINGS["n_trials"], SETTINGS["seed"], SETTINGS["dsa"])
    write_csv(dsa, root / "dsa.csv")
    out = root / "degeneracy.csv"
    degeneracy.degeneracy_job(TASK, PARAMS, SETTINGS, evals, models, root / "dsa.csv", out)
    return {"models": loaded, "task": task, "dsa": dsa, "table": pd.read_csv(out).set_index("measure")}


def test_the_job_writes_every_published_measure(unit):
    table = unit["table"]
    for measure in ("sigma_ood", "mean_dsa_distance", "dsa_null", "dsa_ratio", "mean_weight_distance",
                    "mean_permutation_distance", "mean_svcca", "ood_log10_loss_std"):
        assert np.isfinite(table.loc[measure, "value"]), measure
    assert (table["n_networks"] == 3).all()
    assert table.loc["sigma_ood", "value"] == pytest.approx(np.std([0.2, 0.4, 0.6], ddof=1))
    first, other, copy = (m.params.W for m in unit["models"].values())
    assert weight_distance(first, copy) == 0.0
    # pairs (first, other), (first, copy) = 0, (other, copy) = (other, first)
    assert table.loc["mean_weight_distance", "value"] == pytest.approx(2 / 3 * weight_distance(first, other))


def test_the_null_compares_two_trial_sets_of_one_network(unit):
    set_1, set_2 = degeneracy.trial_sets(unit["models"], unit["task"], SETTINGS["n_trials"], SETTINGS["seed"])
    shared = similarity.shared_rates(unit["models"], unit["task"], SETTINGS["n_trials"], SETTINGS["seed"])
    name = "std-g1.5-s0"
    np.testing.assert_array_equal(set_1[name], shared[name])  # set 1: the similarity stage's trials
    assert not np.allclose(set_1[name], set_2[name])  # set 2: other trials
    nulls = degeneracy.same_network_null(set_1, set_2, SETTINGS["dsa"])
    assert nulls[name] == pytest.approx(dsa_null(set_1[name], set_2[name], **SETTINGS["dsa"]))
    table = unit["table"]
    assert table.loc["dsa_null", "value"] == pytest.approx(np.mean(list(nulls.values())))
    assert table.loc["dsa_ratio", "value"] == pytest.approx(
        table.loc["mean_dsa_distance", "value"] / table.loc["dsa_null", "value"])
    # a relabelled copy on the same trials is 0 away (to optimiser precision); the same network on
    # other trials is not: the null measures how much the trials alone move DSA
    dsa = unit["dsa"].set_index(["net_a", "net_b"])["value"]
    assert dsa["std-g1.5-s0", "std-g1.5-s1"] < 1e-3 < min(nulls.values())


def test_a_relabelled_copy_has_the_same_representation(unit):
    from altrnn.analysis.svcca import svcca

    rates = similarity.shared_rates(unit["models"], unit["task"], SETTINGS["n_trials"], SETTINGS["seed"])
    assert svcca(rates["std-g1.5-s0"], rates["std-g1.5-s1"]) == pytest.approx(1.0, abs=1e-8)
    assert unit["table"].loc["mean_svcca", "value"] < 1.0


def test_bad_dsa_options_name_the_network(unit):
    set_1, set_2 = degeneracy.trial_sets(unit["models"], unit["task"], 4, 0)
    with pytest.raises(ValueError, match="network 'std-g1.5-s0'.*rank"):
        degeneracy.same_network_null(set_1, set_2, {"n_delays": 3, "rank": 500})

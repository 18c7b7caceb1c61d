"""Stage hmm: config section hmm_emulation, snapshots and checkpoints of generative training, a real run."""

import copy
import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest
from tiny import REPO, SNAKEMAKE, snakemake, write_config

from altrnn import config
from altrnn.io import load_model, read_npz
from altrnn.model import ModelConfig
from altrnn.stages.hmm import EVAL_COLUMNS, fit_job, fit_summary
from altrnn.tasks.hmm_presets import preset
from altrnn.train import generative
from altrnn.train.generative import GenerativeConfig, train_generative

TWO_STATES = {"transition": [[0.9, 0.1], [0.2, 0.8]], "emission": [[1.0, 0.0], [0.0, 1.0]]}


def load_hmms(section):
    return config.load({"hmm_emulation": section}).hmms


def test_section_resolves_presets_matrices_and_per_hmm_overrides():
    hmms = load_hmms({"hmms": {"chain": "linear3", "mine": TWO_STATES, "loose": {"preset": "full3", "stay": 0.5}},
                      "n_rec": 16, "seeds": [0, 3], "generative": {"max_iters": 7},
                      "per_hmm": {"mine": {"n_rec": 8, "generative": {"n_noise": 2}}}})
    assert list(hmms) == ["chain", "mine", "loose"]
    assert hmms["chain"].net_ids() == ["gen-s0", "gen-s3"]
    np.testing.assert_allclose(hmms["chain"].hmm["transition"], preset("linear3").transition)
    assert hmms["mine"].hmm == {"name": "mine", **TWO_STATES}
    assert hmms["loose"].hmm["transition"][0][0] == 0.5
    assert (hmms["chain"].settings.n_rec, hmms["mine"].settings.n_rec) == (16, 8)
    # per-HMM generative keys merge into the shared ones; the stored dict is every field, accepted back
    assert hmms["mine"].generative["n_noise"] == 2 and hmms["mine"].generative["max_iters"] == 7
    assert GenerativeConfig.from_dict(hmms["chain"].generative) == GenerativeConfig(max_iters=7)
    # only hmm_emulation: no task entry needed
    assert config.load({"hmm_emulation": {"hmms": {"a": "linear2"}}}).units == {}


@pytest.mark.parametrize("section,message", [
    ({"hmms": {"a": "linear9"}}, "hmm_emulation.hmms.a: unknown hmm preset 'linear9'"),
    ({"hmms": {"a": {"transition": [[0.9, 0.2], [0.5, 0.5]], "emission": [[1], [1]]}}},
     r"hmm_emulation.hmms.a: 'transition' row 0 sums to 1.1, not 1"),
    ({"hmms": {"a": {"transition": [[0.5, 0.5], [0.5, 0.5]], "emission": [[1], [1], [1]]}}},
     "hmm_emulation.hmms.a: 'emission' must have one row per state: 'transition' has 2 states, 'emission' has 3"),
    ({"hmms": {"a": {"transition": [[1.0]]}}}, r"hmm_emulation.hmms.a: .*missing \['emission'\]"),
    ({"hmms": {"a": "linear2"}, "generative": {"lr": -1}}, "hmm_emulation .HMM a.: generative.lr must be > 0"),
    ({"hmms": {"a": "linear2"}, "generative": {"temperature": 1}}, r"generative: unknown keys \['temperature'\]"),
    ({"hmms": {"a": "linear2"}, "per_hmm": {"b": {"n_rec": 4}}}, "hmm_emulation.per_hmm.b: not an HMM"),
    ({"hmms": {"a": "linear2"}, "per_hmm": {"a": {"n_rec": 0}}}, r"hmm_emulation.per_hmm.a.n_rec: must be >= 1"),
    ({"hmms": {"a": "linear2"}, "activation": "alrnn"}, "hmm_emulation.activation: 'alrnn' is not one of"),
    ({"hmms": {"a": "linear2"}, "per_hmm": {"a": {"tolerance": 0}}}, r"hmm_emulation.per_hmm.a.tolerance: must be > 0"),
    ({"hmms": {"2x": "linear2"}}, "hmm_emulation.hmms.2x: an HMM name"),
    ({"hmms": {"a": "linear2"}, "n_noise": 2}, "hmm_emulation.n_noise: unknown key"),
    ({"hmms": {"a": "linear2"}, "snapshot_every": 20, "per_hmm": {"a": {"generative": {"select_every": 30}}}},
     r"hmm_emulation .HMM a.: generative.select_every \(30\) must be a multiple of snapshot_every \(20\)"),
    ({"hmms": {"a": "linear2"}, "eval_steps": 16}, r"hmm_emulation.eval_lags \(HMM a\): lags must be below "
                                                   r"eval_steps \(16\), got \[5, 10, 16\]"),
    ({"hmms": {"a": "linear2"}, "eval_lags": [0]}, r"hmm_emulation.eval_lags.*must be >= 1"),
])
def test_section_errors_name_the_key(section, message):
    with pytest.raises(config.ConfigError, match=message):
        load_hmms(section)


SMALL = dict(n_steps=6, burn_in=3, batch_size=16, hmm_batch_size=16, log_every=2, tau_decay_iters=5)


def small_run(max_iters, **kwargs):
    hmm = preset("cyclic4")
    cfg = ModelConfig(n_in=1, n_rec=8, n_out=4, activation="relu", dtype="float64")
    return train_generative(hmm, cfg, GenerativeConfig(max_iters=max_iters, **SMALL), 0.9, 4, **kwargs)


def test_snapshots_are_the_weights_at_those_iterations():
    """Iterations 0, every 3rd and the last; the snapshot at 3 is what a 3-iteration run ends with."""
    run = small_run(7, snapshot_every=3)
    snaps = run.snapshots
    np.testing.assert_array_equal(snaps["iteration"], [0, 3, 6, 7])
    names = ["W_in", "W", "b", "W_out", "b_out"]
    for name, first, last in zip(names, run.init.arrays(), run.params.arrays()):
        assert snaps[name].shape == (4, *first.shape)
        np.testing.assert_array_equal(snaps[name][0], first)
        np.testing.assert_array_equal(snaps[name][-1], last)
    for name, at3 in zip(names, small_run(3).params.arrays()):
        np.testing.assert_array_equal(snaps[name][1], at3)
    assert not np.array_equal(snaps["W"][1], snaps["W"][2])
    assert small_run(2).snapshots is None


class Interrupt(Exception):
    pass


def test_interrupted_run_resumes_bitwise_identical(tmp_path, monkeypatch):
    whole = small_run(9, snapshot_every=2)
    checkpoint = tmp_path / "checkpoint.npz"
    clip, calls = generative.clip_by_global_norm, []

    def failing(grads, max_norm):  # the 8th iteration fails: the last checkpoint is at 6
        calls.append(1)
        if len(calls) == 8:
            raise Interrupt
        return clip(grads, max_norm)

    monkeypatch.setattr(generative, "clip_by_global_norm", failing)
    with pytest.raises(Interrupt):
        small_run(9, snapshot_every=2, checkpoint=checkpoint, checkpoint_every=2)
    assert int(read_npz(checkpoint)["iteration"]) == 6
    monkeypatch.setattr(generative, "clip_by_global_norm", clip)
    resumed = small_run(9, snapshot_every=2, checkpoint=checkpoint, checkpoint_every=2)
    assert not checkpoint.exists()
    for a, b in zip(whole.params.arrays(), resumed.params.arrays()):
        np.testing.assert_array_equal(a, b)
    for key in whole.snapshots:
        np.testing.assert_array_equal(whole.snapshots[key], resumed.snapshots[key])
    cols = ["iteration", "loss", "tau", "grad_norm"]
    pd.testing.assert_frame_equal(whole.log[cols], resumed.log[cols])


def test_checkpoint_of_other_settings_is_ignored(tmp_path, monkeypatch):
    checkpoint = tmp_path / "checkpoint.npz"
    clip, calls = generative.clip_by_global_norm, []

    def failing(grads, max_norm):
        calls.append(1)
        if len(calls) == 5:
            raise Interrupt
        return clip(grads, max_norm)

    monkeypatch.setattr(generative, "clip_by_global_norm", failing)
    with pytest.raises(Interrupt):
        small_run(6, checkpoint=checkpoint, checkpoint_every=2)
    monkeypatch.setattr(generative, "clip_by_global_norm", clip)
    other = small_run(6, snapshot_every=3, checkpoint=checkpoint, checkpoint_every=2)  # another identity
    for a, b in zip(small_run(6).params.arrays(), other.params.arrays()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="multiple of generative.log_every"):
        small_run(6, checkpoint=checkpoint, checkpoint_every=3)


def eval_table(tvs, upper, floor=0.01, pairs=0.01):
    """An eval.csv table with TVs (occupancy, transitions, dwell), their upper bounds, a floor and a pairs TV."""
    row = {"condition": "noise", "diverged": 0.0}
    for key, tv, hi in zip(("occupancy", "transition", "dwell", "pairs"), [*tvs, pairs], [*upper, pairs * 2]):
        row.update({f"{key}_tv": tv, f"{key}_tv_lo": tv / 2, f"{key}_tv_hi": hi, f"floor_{key}_tv": floor})
    return pd.DataFrame([row], columns=EVAL_COLUMNS)


def test_fit_summary_counts_networks_and_gives_the_exact_interval():
    """Reached on the largest TV, beyond the interval on the largest upper bound; the rate's interval against
    the Clopper-Pearson closed forms: all of n reached: [0.025^(1/n), 1]; none: [0, 1 - 0.025^(1/n)]; 2 of 3:
    upper 0.975^(1/3), lower the root of the Beta(2, 2) CDF 3x^2 - 2x^3 = 0.025."""
    mixed = {"s0": eval_table([0.01, 0.02, 0.03], [0.02, 0.03, 0.04], pairs=0.12),
             "s1": eval_table([0.01, 0.049, 0.02], [0.02, 0.055, 0.03], floor=0.02),
             "s2": eval_table([0.06, 0.02, 0.01], [0.07, 0.03, 0.02], pairs=0.03)}
    good = {f"s{i}": eval_table([0.01, 0.01, 0.01], [0.02, 0.02, 0.02]) for i in range(3)}
    bad = {f"s{i}": eval_table([0.2, 0.01, 0.01], [0.3, 0.02, 0.02]) for i in range(4)}
    table = fit_summary({"good": good, "mixed": mixed, "bad": bad}, {"mixed": 0.05, "good": 0.05, "bad": 0.1})
    assert list(table["hmm"]) == ["mixed", "good", "bad"]
    row = table.set_index("hmm").loc["mixed"]
    assert (row["networks"], row["reached"], row["reached_with_interval"], row["missed"]) == (3, 2, 1, "s2")
    assert (row["largest_tv_median"], row["largest_tv_min"], row["largest_tv_max"]) == (0.049, 0.03, 0.06)
    assert row["floor_largest_tv"] == 0.02 and row["reach_rate"] == pytest.approx(2 / 3)
    # pairs beside the criterion: s0 reaches it but misses on the pairs, s2 fits the pairs but misses it
    assert (row["pairs_reached"], row["pairs_tv_median"], row["pairs_tv_max"]) == (1, 0.03, 0.12)
    lower = [r.real for r in np.roots([-2, 3, 0, -0.025]) if abs(r.imag) < 1e-12 and 0 < r.real < 1]
    assert row["reach_rate_lo"] == pytest.approx(lower[0]) and row["reach_rate_hi"] == pytest.approx(0.975 ** (1 / 3))
    good_row, bad_row = table.set_index("hmm").loc["good"], table.set_index("hmm").loc["bad"]
    assert (good_row["reach_rate_lo"], good_row["reach_rate_hi"]) == (pytest.approx(0.025 ** (1 / 3)), 1.0)
    assert (bad_row["reached"], bad_row["reach_rate_lo"]) == (0, 0.0)
    assert bad_row["reach_rate_hi"] == pytest.approx(1 - 0.025 ** (1 / 4))
    assert bad_row["missed"] == "s0 s1 s2 s3" and good_row["missed"] == ""


def test_fit_job_names_unmatched_hmms(tmp_path):
    path = tmp_path / "results/hmm/a/nets/gen-s0/eval.csv"
    path.parent.mkdir(parents=True)
    eval_table([0.01] * 3, [0.02] * 3).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"eval.csv files \['a'\] do not match the configured HMMs \['a', 'b'\]"):
        fit_job({"a": 0.05, "b": 0.05}, [path], tmp_path / "fit.csv")
    assert not (tmp_path / "fit.csv").exists()


TINY_HMM = {"hmm_emulation": {
    "hmms": {"pair": "linear2"}, "n_rec": 8, "seeds": [1], "snapshot_every": 4, "eval_trials": 30,
    "eval_steps": 40, "generative": {"max_iters": 10, "log_every": 5, "batch_size": 32, "hmm_batch_size": 32,
                                     "n_steps": 8, "burn_in": 4}}}


def test_tiny_hmm_workflow(tmp_path):
    """A real Snakemake run: model.npz metadata, train log, snapshots, eval.csv and the figure."""
    write_config(tmp_path, TINY_HMM)
    net = tmp_path / "results/hmm/pair/nets/gen-s1"
    targets = [f"results/hmm/pair/nets/gen-s1/{f}" for f in ("model.npz", "snapshots.npz", "eval.csv")]
    targets.append("results/hmm/fit.csv")
    proc = snakemake(tmp_path, *targets, "results/figures/hmm_emulation_pair.png")  # this stage's files only
    assert "InputFunctionException" not in proc.stdout + proc.stderr  # no task rule tried results/hmm/...
    saved = load_model(net / "model.npz")
    meta = saved.metadata
    assert meta["hmm"]["name"] == "pair"
    np.testing.assert_allclose(meta["hmm"]["transition"], preset("linear2").transition)
    np.testing.assert_allclose(meta["hmm"]["emission"], preset("linear2").emission)
    gen = GenerativeConfig.from_dict(meta["generative"])
    assert (gen.max_iters, gen.n_steps, gen.epsilon) == (10, 8, GenerativeConfig.epsilon)
    assert (saved.config.n_in, saved.config.n_rec, saved.config.n_out) == (1, 8, 2)
    log = pd.read_csv(net / "train_log.csv")
    assert list(log["iteration"]) == [5, 10] and np.all(log["loss"] > 0)
    snaps = read_npz(net / "snapshots.npz")
    np.testing.assert_array_equal(snaps["iteration"], [0, 4, 8, 10])
    np.testing.assert_array_equal(snaps["W"][-1], saved.params.W)
    np.testing.assert_array_equal(snaps["W"][0], saved.init.W)
    table = pd.read_csv(net / "eval.csv")
    assert list(table.columns) == ["condition", "occupancy_tv", "transition_tv", "dwell_tv", "pairs_tv",
                                   "occupancy_tv_lo", "occupancy_tv_hi", "transition_tv_lo", "transition_tv_hi",
                                   "dwell_tv_lo", "dwell_tv_hi", "pairs_tv_lo", "pairs_tv_hi", "floor_occupancy_tv",
                                   "floor_transition_tv", "floor_dwell_tv", "floor_pairs_tv", "diverged"]
    assert table.shape == (1, 18) and ((table.iloc[0, 1:] >= 0) & (table.iloc[0, 1:] <= 1)).all()
    for key in ("occupancy_tv", "transition_tv", "dwell_tv", "pairs_tv"):
        assert table[f"{key}_lo"].iloc[0] < table[f"{key}_hi"].iloc[0]
    # eval.csv agrees with the statistics it was computed from: occupancy and pairs TVs recomputed by hand
    stats = read_npz(net / "statistics.npz")
    tv = 0.5 * np.abs(stats["network_occupancy"] - stats["analytic_occupancy"]).sum()
    assert table["occupancy_tv"].iloc[0] == pytest.approx(tv)
    np.testing.assert_allclose(stats["analytic_occupancy"], [0.5, 0.5])
    np.testing.assert_array_equal(stats["lags"], [5, 10, 16])  # the default eval_lags
    pair_tv = 0.5 * np.abs(stats["network_pairs"] - stats["analytic_pairs"]).sum(axis=(1, 2))
    assert stats["network_pairs"].shape == (3, 2, 2) and table["pairs_tv"].iloc[0] == pytest.approx(pair_tv.max())
    for ext in ("pdf", "png"):
        assert (tmp_path / f"results/figures/hmm_emulation_pair.{ext}").stat().st_size > 10_000
    fit = pd.read_csv(tmp_path / "results/hmm/fit.csv", keep_default_na=False)
    largest = max(table[f"{k}_tv"].iloc[0] for k in ("occupancy", "transition", "dwell"))
    assert (fit["hmm"].tolist(), fit["networks"].tolist(), fit["tolerance"].tolist()) == (["pair"], [1], [0.05])
    assert fit["largest_tv_max"].iloc[0] == pytest.approx(largest)
    reached = largest <= 0.05
    assert fit["reached"].iloc[0] == int(reached) and fit["missed"].iloc[0] == ("" if reached else "gen-s1")
    assert fit["pairs_reached"].iloc[0] == int(reached and table["pairs_tv"].iloc[0] <= 0.05)
    assert json.loads(json.dumps(meta["generative"])) == meta["generative"]


def test_slurm_profile_groups_each_network_with_its_evaluation_and_mechanism(tmp_path):
    """A dry run with profiles/slurm (it submits nothing): 3 networks, each training -> evaluation -> mechanism
    tools one component of group `hmm`, 2 per group job; the HMM's figures in one `figure` job, fit.csv in
    `summary`."""
    cfg = copy.deepcopy(TINY_HMM)
    cfg["hmm_emulation"]["seeds"] = [0, 1, 2]
    write_config(tmp_path, cfg)
    proc = subprocess.run([*SNAKEMAKE, "-n", "-d", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"),
                           "--workflow-profile", "none", "--profile", str(REPO / "profiles" / "slurm")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    groups = re.findall(r"\] Group job (\w+) \(", out)
    assert sorted(groups) == ["figure", "hmm", "hmm", "summary"], groups
    for rule in ("hmm_train", "hmm_evaluate", "hmm_mechanism", "figure_hmm", "hmm_fit"):
        assert not re.search(rf"^rule {rule}:", out, flags=re.M), rule  # never a job of its own

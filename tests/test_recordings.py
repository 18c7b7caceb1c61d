"""Ranking hypotheses against recordings (analysis.recordings, stages.recordings, the recordings rule).

Synthetic recordings are made from a held-out network: its noise-free rates on the recorded trials' inputs,
projected onto a random number of units, plus noise. Two families of quickly built networks differ in
mechanism: leaky networks (weak random recurrence) and oscillators (a rotation in a random plane), each
family's members small perturbations of one base network with shuffled units.
"""

import shutil

import numpy as np
import pytest
import yaml
from tiny import snakemake, write_config

from altrnn import netids
from altrnn.analysis import recordings as rec
from altrnn.analysis import similarity
from altrnn.config import RECORDING_METRICS, ConfigError, load
from altrnn.errors import ResultFileError
from altrnn.io import save_model
from altrnn.model import ModelConfig, Params, forward
from altrnn.stages.recordings import network_rates, recordings_job

N, N_IN, T, C, REPS = 20, 2, 40, 8, 6
FAST = dict(n_boot=30, n_splits=3, n_folds=4)


def family(kind, n_members, seed):
    """{net_id: (params, config)}: perturbed, unit-shuffled copies of one base network of `kind`."""
    rng = np.random.default_rng(seed)
    W = 0.5 * rng.normal(size=(N, N)) / np.sqrt(N)
    if kind == "oscillator":
        q, _ = np.linalg.qr(rng.normal(size=(N, 2)))
        W += q @ np.array([[1.2, 1.5], [-1.5, 1.2]]) @ q.T
    W_in = rng.normal(size=(N, N_IN))
    g = {"leaky": 0.5, "oscillator": 1}[kind]  # ids only name the two families (netids.family_of)
    nets = {}
    for s in range(n_members):
        perm = rng.permutation(N)
        Ws = (W + 0.05 * rng.normal(size=(N, N)) / np.sqrt(N))[np.ix_(perm, perm)]
        params = Params(W_in=W_in[perm].astype(np.float32), W=Ws.astype(np.float32), b=np.zeros(N, np.float32),
                        W_out=rng.normal(size=(1, N)).astype(np.float32), b_out=np.zeros(1, np.float32))
        nets[netids.standard_id(g, s)] = (params, ModelConfig(n_in=N_IN, n_rec=N, n_out=1))
    return nets


def trial_inputs(seed=0, reps=REPS):
    """(T, C * reps, N_IN) pulses of random direction, each condition repeated, and the condition labels."""
    u = np.zeros((T, C, N_IN))
    u[5:15] = np.random.default_rng(seed).normal(size=(C, N_IN))
    return np.repeat(u, reps, axis=1), np.repeat(np.arange(C), reps)


@pytest.fixture(scope="module")
def networks():
    inputs, condition = trial_inputs()
    nets = {**family("leaky", 4, 1), **family("oscillator", 4, 2)}
    rates = {k: forward(p, c, inputs).r[1:].astype(np.float64) for k, (p, c) in nets.items()}
    return rates, inputs, condition


def synthetic(rates, inputs, condition, noise, seed, n_units=None, projection_seed=None):
    """A recording of `rates` (T, K, N): a random projection to n_units units plus Gaussian noise; the signal too."""
    rng = np.random.default_rng(seed)
    n_units = n_units or int(rng.integers(5, 15))
    P = np.random.default_rng(projection_seed if projection_seed is not None else seed + 1000).normal(
        size=(rates.shape[2], n_units)) / np.sqrt(rates.shape[2])
    activity = rates @ P + noise * rng.normal(size=rates.shape[:2] + (n_units,))
    return rec.check_recording({"activity": activity, "inputs": inputs, "condition": condition}, N_IN,
                               "synthetic.npz"), rates @ P


MAIN = [("predictability", "net_to_rec"), ("predictability", "rec_to_net"), ("cka", "symmetric"),
        ("procrustes", "symmetric")]


@pytest.mark.parametrize("held_out", ["std-g0.5-s3", "std-g1-s3"])
def test_the_held_out_networks_family_ranks_first(networks, held_out):
    rates, inputs, condition = networks
    others = {k: v for k, v in rates.items() if k != held_out}
    recording, _ = synthetic(rates[held_out], inputs, condition, noise=0.2, seed=3)
    nets, fams = rec.rank_hypotheses(others, recording, ["predictability", "cka", "procrustes"], **FAST)
    best = fams[fams["rank"] == 1].set_index(["metric", "direction"])["family"]
    assert {m: best[m] for m in MAIN} == {m: netids.family_of(held_out) for m in MAIN}
    assert set(nets["net_id"]) == set(others) and (fams["n_networks"] == 4 - (fams["family"] == netids.family_of(
        held_out))).all()
    # a family's value is the mean of its networks'
    cka = nets[nets["metric"] == "cka"].groupby("family")["value"].mean()
    assert fams[fams["metric"] == "cka"].set_index("family")["value"].to_dict() == pytest.approx(cka.to_dict())


def test_scores_are_the_projects_metrics_on_condition_averages(networks):
    rates, inputs, condition = networks
    recording, _ = synthetic(rates["std-g1-s0"], inputs, condition, noise=0.5, seed=4)
    X = rates["std-g0.5-s0"].reshape(T, C, REPS, N).mean(axis=2)  # trials of a condition are adjacent here
    Y = recording.activity.reshape(T, C, REPS, -1).mean(axis=2)
    nets, _ = rec.rank_hypotheses({"std-g0.5-s0": rates["std-g0.5-s0"]}, recording, ["cka", "procrustes"],
                                  n_boot=2, n_splits=1)
    value = nets.set_index("metric")["value"]
    assert value["cka"] == pytest.approx(similarity.linear_cka(X.reshape(-1, N), Y.reshape(-1, Y.shape[2])))
    assert value["procrustes"] == pytest.approx(similarity.procrustes_angle(X.reshape(-1, N),
                                                                            Y.reshape(-1, Y.shape[2])))
    # cross-validated predictability by hand: two folds of conditions, pooled sums of squares
    folds = np.arange(C) % 2
    res = tot = 0.0
    for f in (0, 1):
        tr, te = folds != f, folds == f
        xtr, xte = X[:, tr].reshape(-1, N), X[:, te].reshape(-1, N)
        ytr, yte = Y[:, tr].reshape(-1, Y.shape[2]), Y[:, te].reshape(-1, Y.shape[2])
        Xc = xtr - xtr.mean(0)
        A = Xc.T @ Xc + 1e-3 * np.trace(Xc.T @ Xc) / N * np.eye(N)
        pred = (xte - xtr.mean(0)) @ np.linalg.solve(A, Xc.T @ (ytr - ytr.mean(0))) + ytr.mean(0)
        res += np.sum((yte - pred) ** 2)
        tot += np.sum((yte - ytr.mean(0)) ** 2)
    assert rec.cv_predictability(X, Y, folds, 1e-3) == pytest.approx(1 - res / tot, rel=1e-6)


def test_dsa_takes_the_similarity_options_and_is_the_projects_dsa(networks):
    from altrnn.analysis import dsa

    rates, inputs, condition = networks
    options = {"dsa": {"n_delays": 3, "rank": 4, "n_restarts": 1}}
    recording, _ = synthetic(rates["std-g1-s0"], inputs, condition, 0.0, seed=9)
    nets, _ = rec.rank_hypotheses({"std-g0.5-s0": rates["std-g0.5-s0"]}, recording, ["dsa"], options=options,
                                  n_boot=2, n_splits=1)
    row = nets.iloc[0]
    X = rates["std-g0.5-s0"].reshape(T, C, REPS, N).mean(axis=2)
    Y = recording.activity.reshape(T, C, REPS, -1).mean(axis=2)
    fits = [dsa.fit_dmd(Z, n_delays=3, rank=4) for Z in (X, Y)]
    assert row["value"] == pytest.approx(dsa.dsa_distance(*fits, n_restarts=1), abs=1e-6)
    assert row["ceiling"] == pytest.approx(0, abs=1e-6) and row["better"] == "lower"


def test_the_noise_ceiling_is_maximal_without_noise_and_falls_with_noise(networks):
    rates, inputs, condition = networks
    ceilings = []
    for noise in (0.0, 0.3, 1.0):
        recording, signal = synthetic(rates["std-g1-s0"], inputs, condition, noise, seed=5, n_units=10)
        _, fams = rec.rank_hypotheses({"std-g1-s1": rates["std-g1-s1"]}, recording,
                                      ["predictability", "cka", "procrustes"], n_boot=1, n_splits=20)
        ceilings.append(fams.set_index(["metric", "direction"])["ceiling"])
        # the explainable variance fraction against its truth: the averaged signal's share of the variance
        S = signal.reshape(T, C, REPS, -1).mean(axis=2).reshape(-1, 10)
        Y = recording.activity.reshape(T, C, REPS, -1).mean(axis=2).reshape(-1, 10)
        truth = np.sum((S - S.mean(0)) ** 2) / np.sum((Y - Y.mean(0)) ** 2)
        assert ceilings[-1]["predictability", "net_to_rec"] == pytest.approx(truth, abs=0.05)
    clean, mid, loud = ceilings
    assert clean["cka", "symmetric"] == pytest.approx(1) and clean["procrustes", "symmetric"] == pytest.approx(
        0, abs=1e-6)
    assert clean["predictability", "net_to_rec"] == pytest.approx(1)
    assert clean["predictability", "rec_to_net"] > 0.99
    for m in MAIN:
        if m[0] == "procrustes":
            assert clean[m] < mid[m] < loud[m]
        else:
            assert clean[m] > mid[m] > loud[m]


def test_without_repeats_there_is_no_ceiling_and_trials_are_resampled(networks):
    rates, inputs, condition = networks
    one = np.arange(0, C * REPS, REPS)  # one trial per condition
    recording, _ = synthetic(rates["std-g1-s0"][:, one], inputs[:, one], None, 0.3, seed=6)
    assert recording.groups and not recording.has_repeats
    nets, _ = rec.rank_hypotheses({"std-g1-s1": rates["std-g1-s1"][:, one]}, recording, ["cka"], n_boot=50)
    row = nets.iloc[0]
    assert np.isnan(row["ceiling"]) and row["ci_low"] < row["value"] < row["ci_high"]


def test_a_silent_network_scores_nan_and_ranks_last(networks, caplog):
    rates, inputs, condition = networks
    recording, _ = synthetic(rates["std-g1-s0"], inputs, condition, 0.3, seed=8)
    silent = {"std-g1-s1": rates["std-g1-s1"], "std-g0.5-s0": np.zeros_like(rates["std-g1-s1"])}
    nets, _ = rec.rank_hypotheses(silent, recording, ["cka"], n_boot=5, n_splits=1)
    row = nets.set_index("net_id").loc["std-g0.5-s0"]
    assert np.isnan(row["value"]) and row["rank"] == 2
    assert sum("network std-g0.5-s0: cka" in r.message for r in caplog.records) == 1


def test_without_labels_trials_with_equal_inputs_are_one_condition(networks):
    rates, inputs, condition = networks
    recording, _ = synthetic(rates["std-g1-s0"], inputs, None, 0.3, seed=7)
    assert sorted(map(tuple, recording.groups)) == sorted(tuple(np.flatnonzero(condition == c)) for c in range(C))


def test_bootstrap_intervals_match_the_spread_of_repeated_recordings(networks):
    """Coverage sanity: the interval from one recording is as wide as the spread of the score over independent
    recordings of the same network (95%: about 3.9 standard deviations), and covers their mean about as often
    as it claims; without noise it has no width."""
    rates, inputs, condition = networks
    signal, other = rates["std-g1-s0"], {"std-g0.5-s0": rates["std-g0.5-s0"]}
    rows = []
    for seed in range(20):
        recording, _ = synthetic(signal, inputs, condition, 0.5, seed=100 + seed, n_units=8, projection_seed=0)
        rows.append(rec.rank_hypotheses(other, recording, ["cka"], n_boot=60, n_splits=1, seed=seed)[0].iloc[0])
    values = np.array([r["value"] for r in rows])
    widths = np.array([r["ci_high"] - r["ci_low"] for r in rows])
    assert 0.5 < widths.mean() / (3.92 * values.std(ddof=1)) < 2.0
    covered = np.mean([(r["ci_low"] <= values.mean() <= r["ci_high"]) for r in rows])
    assert covered >= 0.75
    clean, _ = synthetic(signal, inputs, condition, 0.0, seed=1)
    row = rec.rank_hypotheses(other, clean, ["cka"], n_boot=20, n_splits=1)[0].iloc[0]
    assert row["ci_high"] - row["ci_low"] == pytest.approx(0, abs=1e-12)


# --- bad input ----------------------------------------------------------------------------------------


def good_arrays(K=12, U=5):
    rng = np.random.default_rng(0)
    return {"activity": rng.normal(size=(T, K, U)), "inputs": rng.normal(size=(T, K, N_IN)),
            "condition": np.arange(K) % 3}


@pytest.mark.parametrize("change, words", [
    (lambda a: a.pop("inputs"), ["rec.npz", "missing array(s) ['inputs']"]),
    (lambda a: a.update(actvity=a.pop("activity")), ["rec.npz", "'activity'", "unexpected array(s) ['actvity']"]),
    (lambda a: a.update(inputs=a["inputs"][:, :10]), ["rec.npz", "'activity' (40, 12, 5)", "'inputs' (40, 10, 2)",
                                                     "trials (12 vs 10)"]),
    (lambda a: a.update(inputs=a["inputs"][:30]), ["rec.npz", "(40, 12, 5)", "(30, 12, 2)", "same T (40 vs 30)"]),
    (lambda a: a.update(activity=a["activity"][:, :, :0]), ["rec.npz", "'activity'", "no units", "(40, 12, 0)"]),
    (lambda a: a["activity"].__setitem__((3, 4, 1), np.nan), ["rec.npz", "'activity'", "(40, 12, 5)", "NaN",
                                                              "(3, 4, 1)"]),
    (lambda a: a.update(inputs=a["inputs"][..., :1]), ["rec.npz", "'inputs'", "(40, 12, 1)", "n_in = 2"]),
    (lambda a: a.update(activity=a["activity"][0]), ["rec.npz", "'activity'", "(T, n_trials, n_units)",
                                                     "(12, 5)"]),
    (lambda a: a.update(condition=a["condition"][:5]), ["rec.npz", "'condition'", "(12,)", "(5,)"]),
    (lambda a: a.update(condition=a["condition"] * 0.5), ["rec.npz", "'condition'", "integer", "float64"]),
    (lambda a: a.update(condition=np.zeros(12, int)), ["rec.npz", "'condition'", "single condition"]),
    (lambda a: a.update(activity=np.ones((40, 12, 5))), ["rec.npz", "'activity'", "(40, 12, 5)", "constant"]),
])
def test_each_bad_recording_is_named_by_file_array_and_shape(change, words):
    arrays = good_arrays()
    change(arrays)
    with pytest.raises(ValueError) as err:
        rec.check_recording(arrays, N_IN, "rec.npz")
    for w in words:
        assert w in str(err.value)


def test_a_bad_recording_file_fails_the_job_and_writes_nothing(tmp_path, networks):
    rates, inputs, condition = networks
    params, cfg = family("leaky", 1, 1)["std-g0.5-s0"]
    model = tmp_path / "nets" / "std-g0.5-s0" / "model.npz"
    save_model(model, params, cfg, {})
    out = [tmp_path / "ranking.csv", tmp_path / "families.csv"]
    settings = {"metrics": ["cka"], "n_boot": 2, "n_splits": 1, "n_folds": 2, "rho": 1e-3, "level": 0.95, "seed": 0}
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, **good_arrays())
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(ResultFileError, match="truncated.npz"):
        recordings_job("flipflop", {"n_bits": 2}, settings, {}, truncated, [model], *out)
    bad = tmp_path / "bad.npz"
    arrays = good_arrays()
    arrays["activity"][0, 0, 0] = np.inf
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match=r"bad.npz: array 'activity' \(shape \(40, 12, 5\)\)"):
        recordings_job("flipflop", {"n_bits": 2}, settings, {}, bad, [model], *out)
    assert not any(p.exists() for p in out) and list(tmp_path.glob(".*.tmp*")) == []
    # and a good one writes both tables, the network's rates being the model's on the recorded inputs
    good = tmp_path / "good.npz"
    np.savez(good, **good_arrays())
    recordings_job("flipflop", {"n_bits": 2}, settings, {}, good, [model], *out)
    assert rec.read_ranking(out[0])["net_id"].tolist() == ["std-g0.5-s0"]
    assert network_rates({"n": type("M", (), {"params": params, "config": cfg})}, inputs)["n"] == pytest.approx(
        rates["std-g0.5-s0"])


def test_the_config_section_is_checked_and_matches_the_analysis():
    assert RECORDING_METRICS == rec.METRICS and set(rec.BETTER) == set(rec.METRICS)
    for m in rec.METRICS[1:]:
        assert rec.BETTER[m] == ("higher" if similarity.METRICS[m].kind == "similarity" else "lower")
    base = {"tasks": {"flipflop": {"recordings": {"path": "rec.npz", "metrics": ["cka"]}}}}
    assert load(base).units["flipflop"].recordings.metrics == ("cka",)
    assert load({"tasks": {"flipflop": {}}}).units["flipflop"].recordings.path is None
    for bad, word in (({"path": "rec.csv"}, "not an .npz"), ({"metrics": ["svcca"]}, r"metrics\[0\]"),
                      ({"n_folds": 1}, "n_folds"), ({"pth": "rec.npz"}, "pth")):
        with pytest.raises(ConfigError, match=word):
            load({"tasks": {"flipflop": {"recordings": bad}}})


# --- workflow ------------------------------------------------------------------------------------------


def test_a_tiny_run_ranks_its_networks_against_a_recording(tiny_run, tmp_path):
    """On the tiny run's networks: a recording of ref (plus noise) on flip-flop trials; ref ranks first by CKA;
    a changed recording reruns the ranking."""
    from altrnn.io import load_model
    from altrnn.tasks import make_task

    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    task = make_task("flipflop", cfg["tasks"]["flipflop"]["params"])
    batch = task.batch(6, np.random.default_rng(0))
    inputs = np.repeat(batch.inputs, 4, axis=1)
    ref = load_model(workdir / netids.net_file("flipflop", "ref", "model.npz"))
    signal = network_rates({"ref": ref}, inputs)["ref"]
    rng = np.random.default_rng(1)
    activity = signal @ rng.normal(size=(signal.shape[2], 7)) + 0.05 * rng.normal(size=signal.shape[:2] + (7,))
    np.savez(workdir / "rec.npz", activity=activity, inputs=inputs, condition=np.repeat(np.arange(6), 4))
    cfg["tasks"]["flipflop"]["recordings"] = {"path": "rec.npz", "metrics": ["predictability", "cka", "procrustes"],
                                              "n_boot": 20, "n_splits": 2, "n_folds": 3}
    write_config(workdir, cfg)
    targets = ["results/flipflop/recordings/ranking.csv", netids.figure_file("flipflop", "recordings", "png")]
    proc = snakemake(workdir, *targets)
    assert "rule train" not in proc.stdout + proc.stderr  # only the ranking and its figure ran
    nets = rec.read_ranking(workdir / "results/flipflop/recordings/ranking.csv")
    fams = rec.read_ranking(workdir / "results/flipflop/recordings/families.csv")
    assert list(nets.columns) == rec.NETWORK_COLUMNS and list(fams.columns) == rec.FAMILY_COLUMNS
    assert set(nets["net_id"]) == set(tiny_run_nets(cfg))
    cka = nets[nets["metric"] == "cka"].set_index("net_id")
    assert cka.loc["ref", "rank"] == 1 and cka.loc["ref", "value"] > 0.7  # a random, non-orthogonal projection
    assert (workdir / netids.figure_file("flipflop", "recordings", "pdf")).stat().st_size > 1000
    np.savez(workdir / "rec.npz", activity=activity[::-1].copy(), inputs=inputs, condition=np.repeat(np.arange(6), 4))
    assert "recordings" in snakemake(workdir, "-n", *targets).stdout


def tiny_run_nets(cfg):
    s = load(cfg).units["flipflop"]
    return s.net_ids()


def test_every_kind_of_network_is_a_hypothesis_and_is_drawn(networks, tmp_path):
    """Standard, ref, alt-k and imported networks each form their family (netids.family_of); the panel draws them."""
    from altrnn.plots import save_figure
    from altrnn.plots.recordings import recordings_ranking

    rates, inputs, condition = networks
    recording, _ = synthetic(rates["std-g1-s0"], inputs, condition, 0.3, seed=10)
    ids = {"std-g1-s1": "std-g1-s1", "ref": "std-g1-s2", "alt1": "std-g0.5-s0", "imp-mine": "std-g0.5-s1"}
    nets, fams = rec.rank_hypotheses({k: rates[v] for k, v in ids.items()}, recording, ["cka", "predictability"],
                                     n_boot=5, n_splits=1)
    assert fams["family"].unique().tolist() == ["g=1", "ref", "alt1", "imp-mine"]
    assert nets.set_index(["net_id", "metric", "direction"]).loc[("imp-mine", "cka", "symmetric"), "family"] == \
        "imp-mine"
    save_figure(recordings_ranking(fams, nets, "synthetic"), tmp_path / "r.pdf", tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000

"""Tasks without code: trials from an .npz file (task `arrays`) and from neurogym environments (task `neurogym`)."""

import hashlib
import importlib.util
import sys

import numpy as np
import pytest
import yaml

from altrnn.config import ConfigError, load
from altrnn.tasks import make_task, masked_mse
from task_checks import rng, same
from tiny import TINY

T, B, N_IN, N_OUT = 6, 5, 2, 3


def trials(seed=0, one_hot=True):
    """A small file's arrays: one-hot (or continuous) targets, a (T, B) mask and two per-trial variables."""
    g = np.random.default_rng(seed)
    inputs = g.normal(size=(T, B, N_IN))
    if one_hot:
        targets = np.eye(N_OUT)[g.integers(0, N_OUT, size=(T, B))]
    else:
        targets = g.normal(size=(T, B, N_OUT))
    mask = np.ones((T, B))
    mask[:2] = 0  # fixation: not scored
    phase = g.normal(size=(T, B))
    phase[0] = np.nan  # undefined at the first step
    return {"inputs": inputs, "targets": targets, "mask": mask, "var_coh": g.normal(size=B), "var_phase": phase}


def write(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


# --- arrays: batches -------------------------------------------------------------------------------------


@pytest.mark.parametrize("draw", ["permutation", "replacement"])
def test_batches_are_the_files_trials(tmp_path, draw):
    a = trials()
    task = make_task("arrays", {"path": write(tmp_path / "d.npz", **a), "draw": draw})
    assert (task.n_in, task.n_out) == (N_IN, N_OUT)
    for n in (3, B, 2 * B + 1):
        batch = task.batch(n, rng(1))
        k = batch.meta["trial"]
        assert k.shape == (n,) and np.all((0 <= k) & (k < B))
        for j, trial in enumerate(k):  # column j is trial k[j] of the file, unchanged
            np.testing.assert_array_equal(batch.inputs[:, j], a["inputs"][:, trial])
            np.testing.assert_array_equal(batch.targets[:, j], a["targets"][:, trial])
            np.testing.assert_array_equal(batch.mask[:, j], np.repeat(a["mask"][:, trial, None], N_OUT, axis=1))
            assert batch.meta["coh"][j] == a["var_coh"][trial]
        if draw == "permutation":  # whole passes over the file, then part of one
            counts = np.bincount(k, minlength=B)
            assert counts.max() - counts.min() <= 1 and counts.sum() == n
    assert same(task.batch(4, rng(1)), task.batch(4, rng(1)))
    assert not same(task.batch(4, rng(1)), task.batch(4, rng(2)))


def test_replacement_draws_repeat_trials_and_permutation_does_not(tmp_path):
    path = write(tmp_path / "d.npz", **trials())
    perm = make_task("arrays", {"path": path}).batch(B, rng(0)).meta["trial"]
    assert sorted(perm) == list(range(B))
    repl = [make_task("arrays", {"path": path, "draw": "replacement"}).batch(B, rng(s)).meta["trial"]
            for s in range(20)]
    assert any(len(set(k)) < B for k in repl)  # 20 draws of 5 among 5 without a repeat: p = (5!/5^5)^20


def test_mask_is_optional_and_may_be_per_output(tmp_path):
    a = trials()
    del a["mask"]
    task = make_task("arrays", {"path": write(tmp_path / "d.npz", **a)})
    assert np.all(task.batch(B, rng()).mask == 1.0)
    per_output = np.zeros((T, B, N_OUT))
    per_output[3:, :, 1] = 1.0
    task = make_task("arrays", {"path": write(tmp_path / "e.npz", **a, weights=per_output), "mask": "weights"})
    batch = task.batch(B, rng())
    np.testing.assert_array_equal(batch.mask, per_output[:, batch.meta["trial"]])
    renamed = {"u": a["inputs"], "y": a["targets"]}
    task = make_task("arrays", {"path": write(tmp_path / "f.npz", **renamed), "inputs": "u", "targets": "y"})
    assert (task.n_in, task.n_out) == (N_IN, N_OUT)


def test_task_variables_and_analysis_inputs(tmp_path):
    a = trials()
    task = make_task("arrays", {"path": write(tmp_path / "d.npz", **a)})
    batch = task.batch(4, rng())
    k = batch.meta["trial"]
    v = task.task_variables(batch)
    assert sorted(v) == ["coh", "phase"]
    np.testing.assert_array_equal(v["coh"], np.tile(a["var_coh"][k], (T, 1)))
    np.testing.assert_array_equal(v["phase"], a["var_phase"][:, k])  # NaN where undefined, kept
    inputs = task.analysis_inputs()
    np.testing.assert_array_equal(inputs["zero"], np.zeros(N_IN))
    np.testing.assert_allclose(inputs["mean"], [a["inputs"][..., i].sum() / (T * B) for i in range(N_IN)])
    # Without var_ arrays the targets are decoded, NaN where not scored.
    task = make_task("arrays", {"path": write(tmp_path / "e.npz", inputs=a["inputs"], targets=a["targets"],
                                                mask=a["mask"])})
    batch = task.batch(4, rng())
    v = task.task_variables(batch)
    assert sorted(v) == ["target1", "target2", "target3"]
    assert np.isnan(v["target2"][:2]).all()
    np.testing.assert_array_equal(v["target2"][2:], a["targets"][2:, batch.meta["trial"], 1])


def test_accuracy_argmax_for_one_hot_targets_and_tolerance_otherwise(tmp_path):
    task = make_task("arrays", {"path": write(tmp_path / "d.npz", **trials())})
    assert task.accuracy_mode() == "argmax"
    batch = task.batch(B, rng())
    assert task.accuracy(batch.targets, batch) == 1.0 and masked_mse(batch.targets, batch) == 0.0
    wrong = np.roll(batch.targets, 1, axis=2)  # every step's largest output on another channel
    assert task.accuracy(wrong, batch) == 0.0
    half = batch.targets.copy()
    half[:, :2] = wrong[:, :2]  # two of five trials wrong at every scored step
    assert task.accuracy(half, batch) == pytest.approx(3 / 5)
    assert task.accuracy(0.2 * batch.targets + 0.4, batch) == 1.0  # argmax: only the largest output counts

    task = make_task("arrays", {"path": write(tmp_path / "e.npz", **trials(one_hot=False)), "tolerance": 0.5})
    assert task.accuracy_mode() == "tolerance"
    batch = task.batch(B, rng())
    errors = np.zeros_like(batch.targets)
    errors[2:4] = 0.7  # two of the four scored steps out of tolerance
    assert task.accuracy(batch.targets + errors, batch) == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="shape"):
        task.accuracy(batch.targets[:-1], batch)


def test_temporal_x2_holds_every_step_twice(tmp_path):
    a = trials()
    task = make_task("arrays", {"path": write(tmp_path / "d.npz", **a)})
    slow = task.ood_variants()["temporal_x2"]
    assert list(task.ood_variants()) == ["temporal_x2"] and slow.params["stretch"] == 2
    batch = slow.batch(3, rng())
    assert batch.T == 2 * T
    for j, trial in enumerate(batch.meta["trial"]):
        for t in range(2 * T):  # network step t shows file step t // 2
            np.testing.assert_array_equal(batch.inputs[t, j], a["inputs"][t // 2, trial])
            np.testing.assert_array_equal(batch.targets[t, j], a["targets"][t // 2, trial])
            assert batch.mask[t, j, 0] == a["mask"][t // 2, trial]
    phase = slow.task_variables(batch)["phase"]
    np.testing.assert_array_equal(phase[1::2], a["var_phase"][:, batch.meta["trial"]])
    assert slow.ood_variants()["temporal_x2"].batch(1, rng()).T == 4 * T


def test_ood_files_are_conditions(tmp_path):
    main = write(tmp_path / "d.npz", **trials(0))
    long = trials(1)
    long = {k: np.concatenate([v, v, v]) if v.ndim > 1 else v for k, v in long.items()}
    task = make_task("arrays", {"path": main, "ood": {"temporal_x2": write(tmp_path / "long.npz", **long),
                                                      "same": main}})
    ood = task.ood_variants()
    assert list(ood) == ["temporal_x2", "same"] and ood["temporal_x2"].batch(3, rng()).T == 3 * T  # the file's
    assert ood["same"].batch(3, rng()).T == T
    wide = {**trials(2), "inputs": np.zeros((T, B, N_IN + 1))}
    with pytest.raises(ValueError, match=r"wide\.npz.*'temporal_x2'.*n_in"):
        make_task("arrays", {"path": main, "ood": {"temporal_x2": write(tmp_path / "wide.npz", **wide)}})


# --- arrays: checksum and validation ---------------------------------------------------------------------


def test_checksum_is_the_files_sha256_and_a_changed_file_changes_the_params(tmp_path):
    path = write(tmp_path / "d.npz", **trials(0))
    before = make_task("arrays", {"path": path}).params["checksum"]
    assert before == hashlib.sha256((tmp_path / "d.npz").read_bytes()).hexdigest()
    assert make_task("arrays", {"path": path, "checksum": before}).params["checksum"] == before
    write(tmp_path / "d.npz", **trials(1))
    after = make_task("arrays", {"path": path}).params["checksum"]
    assert after != before
    with pytest.raises(ValueError, match=f"d.npz.*{after}.*{before}"):
        make_task("arrays", {"path": path, "checksum": before})


def _bad_files():
    a = trials()
    obj = np.empty(B, dtype=object)
    return {  # name -> (arrays, params, what the error must say besides the file)
        "no inputs": ({"targets": a["targets"]}, {}, ["no array 'inputs' for the inputs", "arrays in the file: ['targets']"]),
        "inputs not 3-D": ({**a, "inputs": a["inputs"][:, :, 0]}, {}, ["'inputs'", "(6, 5)", "(T, B, n_in)"]),
        "targets of other trials": ({**a, "targets": a["targets"][:, :4]}, {}, ["'targets'", "(6, 4, 3)", "(6, 5"]),
        "mask shape": ({**a, "mask": np.ones((T, B, 2))}, {}, ["'mask'", "(6, 5, 2)", "(6, 5, 3) or (6, 5)"]),
        "named mask missing": ({**a}, {"mask": "weights"}, ["no array 'weights' for the mask"]),
        "NaN input": ({**a, "inputs": np.where(np.arange(T)[:, None, None] == 3, np.nan, a["inputs"])}, {},
                      ["'inputs'", "0 infinite, 10 NaN", "(3, 0, 0)"]),
        "infinite target": ({**a, "targets": np.where(np.arange(N_OUT) == 2, np.inf, a["targets"])}, {},
                            ["'targets'", "30 infinite, 0 NaN", "(0, 0, 2)"]),
        "infinite variable": ({**a, "var_coh": np.full(B, np.inf)}, {}, ["'var_coh'", "5 infinite"]),
        "text dtype": ({**a, "var_label": np.array(["a"] * B)}, {}, ["'var_label'", "dtype <U1"]),
        "complex dtype": ({**a, "inputs": a["inputs"] + 1j}, {}, ["'inputs'", "complex128"]),
        "object array": ({**a, "var_obj": obj}, {}, ["'var_obj'", "dtype object"]),
        "stray array": ({**a, "maks": a["mask"]}, {}, ["unexpected array 'maks'"]),
        "variable shape": ({**a, "var_coh": np.ones(B + 1)}, {}, ["'var_coh'", "(6,)", "(5,) or (6, 5)"]),
        "variable all NaN": ({**a, "var_coh": np.full(B, np.nan)}, {}, ["'var_coh'", "non-NaN"]),
        "negative mask": ({**a, "mask": -a["mask"]}, {}, ["'mask'", ">= 0"]),
        "empty mask": ({**a, "mask": 0 * a["mask"]}, {}, ["'mask'", "sum 0"]),
    }


@pytest.mark.parametrize("case", sorted(_bad_files()))
def test_bad_files_are_named_with_the_array_and_shape(tmp_path, case):
    arrays, params, words = _bad_files()[case]
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError) as err:
        make_task("arrays", {"path": str(path), **params})
    message = str(err.value)
    assert message.startswith(f"arrays: {path}: ")
    for w in words:
        assert w in message, (w, message)


def test_missing_or_unreadable_file_and_bad_params(tmp_path):
    with pytest.raises(ValueError, match=r"nowhere\.npz: file not found"):
        make_task("arrays", {"path": str(tmp_path / "nowhere.npz")})
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match=r"text\.npz: not a readable \.npz"):
        make_task("arrays", {"path": str(tmp_path / "text.npz")})
    with pytest.raises(ValueError, match="'path' must be"):
        make_task("arrays", {})
    path = write(tmp_path / "d.npz", **trials())
    for params, words in [({"draw": "bootstrap"}, "'draw' must be one of"), ({"tolerance": 0}, "'tolerance'"),
                          ({"ood": ["x.npz"]}, "'ood' must map"), ({"accuracy": "r2"}, "'accuracy' must be")]:
        with pytest.raises(ValueError, match=words):
            make_task("arrays", {"path": path, **params})


def test_config_entries_load_and_a_bad_file_names_the_entry(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths are relative to the working directory
    write(tmp_path / "d.npz", **trials())
    cfg = {**TINY, "tasks": {"mine": {"task": "arrays", "params": {"path": "d.npz"}}}}
    unit = load(cfg).units["mine"]
    assert unit.task == "arrays" and unit.params["path"] == "d.npz"
    assert unit.params["checksum"] == hashlib.sha256((tmp_path / "d.npz").read_bytes()).hexdigest()
    np.savez(tmp_path / "d.npz", **{**trials(), "targets": np.zeros((T, B + 1, 1))})
    with pytest.raises(ConfigError, match=r"tasks\.mine\.params: arrays: d\.npz: array 'targets' has shape"):
        load(cfg)


# --- neurogym ---------------------------------------------------------------------------------------------

needs_neurogym = pytest.mark.skipif(importlib.util.find_spec("neurogym") is None,
                                    reason="neurogym not installed (pip install 'altrnn[neurogym]')")
PDM = "PerceptualDecisionMaking-v0"


@needs_neurogym
@pytest.mark.filterwarnings("ignore:.*render_modes")  # gymnasium's note on neurogym's env metadata
@pytest.mark.parametrize("mask", ["trial", "decision"])
def test_neurogym_batch_is_the_envs_trials(mask):
    """Against neurogym itself: the same seed gives the same trials, mapped as documented."""
    from altrnn.tasks.neurogym_tasks import import_neurogym

    timing = {"stimulus": [500, 1000, 2000]}  # trials of different lengths
    task = make_task("neurogym", {"name": PDM, "kwargs": {"dt": 50, "timing": timing}, "mask": mask})
    batch = task.batch(6, rng(3))
    assert len(set(batch.meta["length"])) > 1
    env = import_neurogym().make(PDM, dt=50, timing=timing).unwrapped
    env.seed(int(rng(3).integers(2**32)))
    assert (task.n_in, task.n_out) == (env.observation_space.shape[0], env.action_space.n)
    for b in range(6):
        record = env.new_trial()
        n = len(env.gt)
        assert batch.meta["length"][b] == n and batch.meta["coh"][b] == record["coh"]
        np.testing.assert_array_equal(batch.inputs[:n, b], env.ob)
        np.testing.assert_array_equal(batch.targets[:n, b].argmax(axis=1), env.gt)
        assert np.all(batch.targets[:n, b].sum(axis=1) == 1) and np.all(batch.targets[n:, b] == 0)
        assert np.all(batch.inputs[n:, b] == 0) and np.all(batch.mask[n:, b] == 0)
        start, end = env.start_ind["decision"], env.end_ind["decision"]
        scored = np.flatnonzero(batch.mask[:, b, 0])
        assert list(scored) == list(range(start, end) if mask == "decision" else range(n))
        assert np.all(batch.mask[:, b] == batch.mask[:, b, :1])
        np.testing.assert_array_equal(task.task_variables(batch)["coh"][:n, b], record["coh"])
    assert batch.T == batch.meta["length"].max()
    assert same(task.batch(6, rng(3)), batch) and not same(task.batch(6, rng(4)), batch)


@needs_neurogym
def test_neurogym_accuracy_ood_and_analysis_inputs():
    task = make_task("neurogym", {"name": PDM, "kwargs": {"timing": {"stimulus": [500, 1000, 2000]}},
                                  "ood": {"temporal_x2": {"timing": {"stimulus": 4000}}}})
    batch = task.batch(8, rng())
    b = int(np.argmin(batch.meta["length"]))
    n = batch.meta["length"][b]
    assert n < batch.T
    assert task.accuracy(batch.targets, batch) == 1.0
    assert task.accuracy(np.roll(batch.targets, 1, axis=2), batch) == 0.0  # every answer on another action
    wrong = batch.targets.copy()
    wrong[:, :2] = np.roll(wrong[:, :2], 1, axis=2)
    assert task.accuracy(wrong, batch) == pytest.approx(6 / 8)
    long = task.ood_variants()["temporal_x2"]
    assert long.params["kwargs"] == {"timing": {"stimulus": 4000}} and long.batch(2, rng()).T > 4000 / 100
    slow = make_task("neurogym", {"name": PDM}).ood_variants()["temporal_x2"]  # built in: half the dt
    assert slow.params["kwargs"] == {"dt": 50} and slow.batch(2, rng()).T == 2 * make_task(
        "neurogym", {"name": PDM}).batch(2, rng()).T  # PDM's default trials all last 2200 ms
    assert sorted(task.task_variables(batch)) == ["coh", "ground_truth"]
    from altrnn.tasks import Batch  # an env whose trial record has no numbers: the action at each step
    bare = Batch(batch.inputs, batch.targets, batch.mask,
                 {k: batch.meta[k] for k in ("length", "decision_start", "decision_end")})
    action = task.task_variables(bare)["action"]
    np.testing.assert_array_equal(action[:n, b], batch.targets[:n, b].argmax(axis=1))
    assert np.isnan(action[n:, b]).all()
    inputs = task.analysis_inputs()
    np.testing.assert_array_equal(inputs["fixation"], [1.0, 0.0, 0.0])  # fixation cue on, no stimulus
    assert list(inputs) == ["zero", "fixation"]  # the decision period's mean input is zero too


@needs_neurogym
def test_neurogym_errors_name_the_env_and_the_problem(monkeypatch):
    with pytest.raises(ValueError, match="'name' must be a neurogym environment id"):
        make_task("neurogym", {})
    with pytest.raises(ValueError, match="cannot make neurogym environment 'NoSuchTask-v0'"):
        make_task("neurogym", {"name": "NoSuchTask-v0"})
    with pytest.raises(ValueError, match=r"with kwargs \{'nonsense': 1\}"):
        make_task("neurogym", {"name": PDM, "kwargs": {"nonsense": 1}})
    with pytest.raises(ValueError, match=r"no period 'response'; its periods: \['fixation', 'stimulus'"):
        make_task("neurogym", {"name": PDM, "decision_period": "response"})
    with pytest.raises(ValueError, match="'mask' must be one of"):
        make_task("neurogym", {"name": PDM, "mask": "all"})
    with pytest.raises(ValueError, match="ood condition 'slow'"):
        make_task("neurogym", {"name": PDM, "ood": {"slow": {"nonsense": 2}}})
    monkeypatch.delitem(sys.modules, "neurogym")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ValueError, match=r"pip install 'altrnn\[neurogym\]'"):
        make_task("neurogym", {"name": PDM})


@needs_neurogym
@pytest.mark.parametrize("name", ["PerceptualDecisionMaking-v0", "GoNogo-v0", "DelayMatchSample-v0"])
def test_neurogym_tasks_train_end_to_end(name):
    from altrnn.model import ModelConfig
    from altrnn.train import TrainConfig, train

    task = make_task("neurogym", {"name": name})
    cfg = ModelConfig(n_in=task.n_in, n_rec=16, n_out=task.n_out, dtype="float64")
    log = train(task, cfg, TrainConfig(batch_size=16, lr=0.01, max_iters=40, log_every=10), g=1.0, seed=0).log
    assert log["task_loss"].iloc[-1] < 0.5 * log["task_loss"].iloc[0], log


@needs_neurogym
def test_config_entries_of_both_kinds_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "d.npz", **trials())
    cfg = {**TINY, "tasks": {"mine": {"task": "arrays", "params": {"path": "d.npz", "draw": "replacement"}},
                             "pdm": {"task": "neurogym", "params": {"name": PDM, "kwargs": {"dt": 50}}}}}
    units = load(yaml.safe_load(yaml.safe_dump(cfg))).units
    assert units["mine"].params["draw"] == "replacement"
    assert units["pdm"].params == {"decision_period": "decision", "kwargs": {"dt": 50}, "mask": "trial",
                                   "name": PDM, "ood": {}}
    cfg["tasks"]["pdm"]["params"]["name"] = "NoSuchTask-v0"
    with pytest.raises(ConfigError, match=r"tasks\.pdm\.params: neurogym: cannot make"):
        load(cfg)


# --- the workflow -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_tiny_run_trains_and_evaluates_an_arrays_task_and_a_changed_file_reruns_it(tiny_run, tmp_path):
    """One network on a file's trials through real Snakemake (a task added to a copy of the tiny run, whose
    compiled kernels it reuses); a changed file then replans its jobs (the checksum is in their params). A
    broken file stops the config: test_config_entries_load_and_a_bad_file..."""
    import shutil

    from tiny import snakemake, write_config

    shutil.copytree(tiny_run, tmp_path, symlinks=True, dirs_exist_ok=True)
    g = np.random.default_rng(0)
    cue = np.sign(g.normal(size=(1, 32, 1)))
    inputs = np.concatenate([np.repeat(cue, 4, axis=0), np.zeros((8, 32, 1))])  # a cue, then silence
    write(tmp_path / "cue.npz", inputs=inputs, targets=np.repeat(cue, 12, axis=0), var_cue=cue[0, :, 0])
    cue_entry = {"task": "arrays", "params": {"path": "cue.npz"}, "standard": {"g": [1.0], "seeds": [0]}}
    write_config(tmp_path, {**TINY, "tasks": {**TINY["tasks"], "cue": cue_entry}})
    target = "results/cue/nets/std-g1-s0/eval.csv"
    snakemake(tmp_path, target)
    table = (tmp_path / target).read_text()
    assert table.startswith("condition,loss,accuracy") and "in_distribution" in table
    assert "Nothing to be done" in snakemake(tmp_path, target, "-n").stdout  # the control

    write(tmp_path / "cue.npz", inputs=inputs, targets=-np.repeat(cue, 12, axis=0))
    rerun = snakemake(tmp_path, target, "-n").stdout
    assert "results/cue/nets/std-g1-s0/model.npz" in rerun and target in rerun  # new checksum: new params

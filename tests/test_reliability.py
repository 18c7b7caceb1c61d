"""The config a user passes is the one that runs, reruns follow meaning, damaged inputs are named."""

import copy
import re
import os
import shutil
import stat
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from altrnn import netids
from altrnn.config import ConfigError, load, main as config_main
from altrnn.io import ResultFileError, load_model, read_table, write_csv
from altrnn.sources import stage_sources, task_sources

from tiny import REPO, TINY, planned_outputs, snakemake, write_config


# --- 1, 2, 9: the config that runs, key order, deleted files -----------------------------------------------

def test_a_configfile_replaces_the_default_config(tmp_path):
    """In a checkout that has config/config.yaml, --configfile runs that file alone."""
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    write_config(tmp_path, TINY)
    outputs = planned_outputs(tmp_path)
    units = {netids.unit_of(o) for o in outputs if "/nets/" in o}
    assert units == {"flipflop", "integration"}
    train = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["tasks"]["flipflop"]["train"]
    cfg = load(TINY)
    assert cfg.units["flipflop"].train.max_iters == TINY["train"]["max_iters"] != train["max_iters"]


def test_reordered_keys_and_written_out_defaults_plan_nothing(tiny_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    cfg["model"] = dict(reversed(list(cfg["model"].items())))
    cfg["tasks"]["flipflop"]["params"] = {"n_bits": 3, "T": 20, "p_pulse": 0.05}
    cfg["train"] = dict(sorted(cfg["train"].items(), reverse=True))
    write_config(workdir, cfg)
    assert planned_outputs(workdir) == []


def test_a_deleted_model_is_rebuilt(tiny_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    (workdir / netids.net_file("flipflop", "ref", "model.npz")).unlink()
    assert netids.net_file("flipflop", "ref", "model.npz") in planned_outputs(workdir)


def test_an_identical_retraining_changes_nothing_downstream(tiny_run, tmp_path):
    """The wall-clock time lives in train_time.csv, so figures read nothing that differs between two runs."""
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    model = netids.net_file("flipflop", "ref", "model.npz")
    before = (workdir / model).read_bytes()
    for name in ("model.npz", "train_log.csv", "train_time.csv"):
        (workdir / netids.net_file("flipflop", "ref", name)).unlink()
    snakemake(workdir, model)
    assert load_model(workdir / model).params.W.tobytes() == load_model(tiny_run / model).params.W.tobytes()
    assert (workdir / model).read_bytes() == before
    assert planned_outputs(workdir) == []


# --- 3: reruns on code changes follow the imports ----------------------------------------------------------

def test_stage_sources_are_the_import_closure():
    names = lambda files: {os.path.relpath(f, REPO / "src") for f in files}  # noqa: E731
    dynamics = names(stage_sources("dynamics"))
    assert "altrnn/analysis/fixed_points.py" in dynamics and "altrnn/analysis/dsa.py" not in dynamics
    shared = ("altrnn/tasks/__init__.py", "altrnn/tasks/base.py", "altrnn/tasks/stress.py")  # no task's own module
    assert not any(n.startswith("altrnn/tasks/") and n not in shared for n in names(stage_sources("train")))
    flipflop = names(task_sources("flipflop"))
    assert "altrnn/tasks/flipflop.py" in flipflop and "altrnn/tasks/hmm.py" not in flipflop
    assert "altrnn/plots/trends.py" in names(stage_sources("study"))
    assert "altrnn/analysis/dsa.py" not in names(stage_sources("train"))


@pytest.fixture(scope="module")
def repo_copy_run(tmp_path_factory):
    """A copy of the workflow and package, run on a small config with the copy's package imported."""
    root = tmp_path_factory.mktemp("repo")
    repo = root / "repo"
    repo.mkdir()
    for part in ("Snakefile", "workflow", "profiles", "envs", "src"):
        (shutil.copytree if (REPO / part).is_dir() else shutil.copy)(REPO / part, repo / part)
    cfg = copy.deepcopy(TINY)
    cfg["standard"] = {"g": [1.0], "seeds": [0]}
    cfg["insd"]["n_alternatives"] = 0
    cfg["similarity"]["metrics"] = ["dsa"]
    work = root / "work"
    work.mkdir()
    write_config(work, cfg)
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    targets = [netids.similarity_file(t, f) for t in cfg["tasks"] for f in ("dsa.csv", "linear_predictability.csv")]
    targets += [netids.net_file(t, n, f) for t in cfg["tasks"] for n in ("std-g1-s0", "ref")
                for f in ("eval.csv", "fixed_points.csv")]

    def run(*args):
        cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(work), "--configfile",
               str(work / "config.yaml"), "--cores", "2", *args, *targets]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    run()
    return repo, run


def _planned(out):
    return sorted(f for line in re.findall(r"^\s+output: (.+)$", out, flags=re.M) for f in line.split(", "))


def _append_comment(path):
    path.write_text(path.read_text() + "\n# a comment\n")


def test_code_changes_rerun_only_the_jobs_that_import_them(repo_copy_run):
    repo, run = repo_copy_run
    assert "not this checkout" not in run("-n")  # the copy's package is the one imported
    pkg = repo / "src" / "altrnn"
    _append_comment(pkg / "tasks" / "hmm.py")  # a task not in the config
    assert _planned(run("-n")) == []
    _append_comment(pkg / "analysis" / "dsa.py")
    planned = _planned(run("-n"))
    # analysis.similarity imports dsa, so linear predictability reruns too; nothing of a network does
    allowed = ("similarity/dsa.csv", "similarity/dsa_mds.csv", "similarity/linear_predictability.csv",
               "kernels/dsa.txt")
    assert planned and all(p.endswith(allowed) for p in planned), planned
    assert "results/kernels/dsa.txt" in planned
    run()
    _append_comment(pkg / "tasks" / "integration.py")
    planned = _planned(run("-n"))
    assert planned and all(p.startswith("results/integration/") for p in planned), planned
    assert "results/integration/nets/ref/model.npz" in planned


def test_a_job_warns_when_it_would_import_another_altrnn(repo_copy_run, tmp_path):
    repo, _ = repo_copy_run
    write_config(tmp_path, TINY)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "-d", str(tmp_path),
                           "--configfile", str(tmp_path / "config.yaml"), "-n"],
                          capture_output=True, text=True, timeout=300)  # no PYTHONPATH: the installed altrnn
    assert proc.returncode == 0 and "not this checkout's" in proc.stdout + proc.stderr


# --- 4: every key checked before any job -----------------------------------------------------------------------

@pytest.mark.parametrize("edit,message", [
    (lambda c: c["tasks"]["flipflop"].update(params={"n_bitz": 2}), "tasks.flipflop.params: "),
    (lambda c: c["similarity"]["options"]["dsa"].update(rnak=3), "similarity.options.dsa.rnak: unknown option"),
    (lambda c: c.update(dynamics={"inputs": {"zero": [0.0]}}), "dynamics.inputs.zero: 1 value(s), but task"),
    (lambda c: c["standard"].update(g=[1.0, 1]), "standard.g: values must be distinct"),
])
def test_bad_values_stop_the_run_before_any_job(tmp_path, edit, message):
    cfg = copy.deepcopy(TINY)
    edit(cfg)
    write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and message in out, out[-2000:]
    assert out.count("\n") < 40  # one message, not a schema dump
    assert not (tmp_path / "results").exists()


def test_tiny_and_long_init_scales_are_exact_network_ids(tmp_path):
    cfg = copy.deepcopy(TINY)
    cfg["standard"]["g"] = [1e-5, 1.23456789]
    write_config(tmp_path, cfg)
    outputs = planned_outputs(tmp_path)
    assert "results/flipflop/nets/std-g1e-05-s0/model.npz" in outputs
    assert "results/flipflop/nets/std-g1.23456789-s0/model.npz" in outputs


def test_metric_options_in_the_config_are_the_metrics_own():
    from altrnn.analysis.similarity import METRICS
    from altrnn.config import METRIC_OPTIONS

    assert {m: set(METRICS[m].prepare_options + METRICS[m].compare_options) for m in METRICS} == \
        {m: set(o) for m, o in METRIC_OPTIONS.items()}


def test_yaml_syntax_errors_name_line_and_column(tmp_path, capsys):
    bad = tmp_path / "config.yaml"
    bad.write_text("tasks:\n  flipflop:\n    params: {T: 20\nmodel: {n_rec: 8}\n")
    assert config_main(["--check", str(bad)]) == 1
    assert f"{bad}:4:6: not valid YAML" in capsys.readouterr().err
    assert config_main(["--check", str(REPO / "config" / "config.yaml")]) == 0
    proc = snakemake(tmp_path, "-n", "--verbose", check=False)  # as the README says, for Snakemake's own loader
    assert proc.returncode != 0 and 'line 4, column 6' in proc.stdout + proc.stderr


# --- 5: damaged result files -------------------------------------------------------------------------------------

def test_damaged_tables_are_named(tmp_path):
    good = pd.DataFrame({"condition": ["in_distribution", "long"], "loss": [0.1, 0.2], "accuracy": [0.9, 0.8]})
    path = tmp_path / "eval.csv"
    write_csv(good, path)
    assert read_table(path).equals(good)
    cases = {
        "renamed": (good.rename(columns={"loss": "los"}).to_csv(index=False), "missing column(s) ['loss']"),
        "truncated": (good.to_csv(index=False)[:-8], "missing values in column(s)"),
        "header only": ("condition,loss,accuracy\n", "no rows"),
        "empty": ("", "empty file"),
    }
    for name, (text, message) in cases.items():
        path.write_text(text)
        with pytest.raises(ResultFileError, match=re.escape(message)):
            read_table(path)
    with pytest.raises(ResultFileError, match="file not found"):
        read_table(tmp_path / "nets" / "dsa.csv")


def test_tables_with_their_own_columns_choose_emptiness_and_holes(tmp_path):
    path = tmp_path / "stage.csv"
    path.write_text("a,b,mark\n1,,n/a\n")
    table = read_table(path, ["a", "b"])  # explicit columns: holes allowed unless asked
    assert np.isnan(table["b"].iloc[0]) and pd.isna(table["mark"].iloc[0])
    with pytest.raises(ResultFileError, match=re.escape("missing values in column(s) ['b']")):
        read_table(path, ["a", "b"], complete=True)
    with pytest.raises(ResultFileError, match=re.escape("missing column(s) ['c']")):
        read_table(path, ["a", "c"])
    assert read_table(path, ["mark"], keep_default_na=False, na_values=[""])["mark"].iloc[0] == "n/a"
    path.write_text("a,b\n")
    with pytest.raises(ResultFileError, match="no rows"):
        read_table(path, ["a"])
    assert read_table(path, ["a"], allow_empty=True).empty


def test_a_truncated_eval_table_fails_its_figure_naming_the_file(tiny_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    ev = workdir / netids.net_file("flipflop", "ref", "eval.csv")
    ev.write_text(ev.read_text().replace("loss", "lost", 1))
    target = netids.figure_file("flipflop", "ood", "pdf")
    proc = snakemake(workdir, target, "--forcerun", "figure_ood", check=False)
    assert proc.returncode != 0
    assert "ResultFileError: results/flipflop/nets/ref/eval.csv: missing column(s) ['loss']" in \
        proc.stdout + proc.stderr
    assert not (workdir / target).exists()


def test_nan_weights_are_rejected_at_load(tiny_run, tmp_path):
    src = tiny_run / netids.net_file("flipflop", "ref", "model.npz")
    data = dict(np.load(src))
    data["W"] = data["W"].copy()
    data["W"][0, 0] = np.nan
    bad = tmp_path / "model.npz"
    np.savez(bad, **data)
    with pytest.raises(ResultFileError, match=r"model.npz: non-finite \(NaN or infinite\) weights in \['W'\]"):
        load_model(bad)


def test_a_runaway_loss_is_a_divergence(tmp_path):
    from altrnn.errors import TrainingDiverged
    from altrnn.model import ModelConfig
    from altrnn.tasks import make_task
    from altrnn.train import TrainConfig, train

    task = make_task("flipflop", {"T": 20})
    cfg = ModelConfig(n_in=3, n_rec=16, n_out=3)  # tanh: bounded rates, so the loss stays finite
    with pytest.raises(TrainingDiverged, match="the task loss grew from"):
        train(task, cfg, TrainConfig(batch_size=8, lr=1000.0, max_iters=60, log_every=10), g=1.0, seed=0,
              checkpoint=tmp_path / "checkpoint.npz")
    assert not (tmp_path / "checkpoint.npz").exists()


# --- 6, 7: file modes, failures in the log ------------------------------------------------------------------------

@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_result_files_follow_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        write_csv(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "t.csv").stat().st_mode) == mode


def test_tiny_run_results_are_readable_by_others(tiny_run):
    mode = stat.S_IMODE((tiny_run / netids.net_file("flipflop", "ref", "model.npz")).stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


FAILING_JOB = """
import sys
from altrnn.stages import runtime
runtime.configure(1, sys.argv[1], numerics=False)
def main():
    {}
runtime.run(main)
"""


@pytest.mark.parametrize("body,line", [
    ("{}['missing']", "KeyError: 'missing' (traceback in "),
    ("raise OSError(28, 'No space left on device')", "OSError: [Errno 28] No space left on device"),
    ("raise ValueError('bad value')", "ValueError: bad value"),
])
def test_every_failure_reaches_the_jobs_log_with_one_line_on_stderr(tmp_path, body, line):
    log = tmp_path / "job.log"
    proc = subprocess.run([sys.executable, "-c", FAILING_JOB.format(body), str(log)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(line.split(" (")[0]) and proc.stderr.count("\n") == 1, proc.stderr
    text = log.read_text()
    assert line.split(" (")[0] in text or "unexpected failure" in text
    if "traceback" in line:
        assert "Traceback" in text and str(log) in proc.stderr


# --- 8, 10: versions, console, loss definition -----------------------------------------------------------------------

def test_the_version_marks_uncommitted_changes():
    from altrnn.io import source_version

    version = source_version()
    status = subprocess.run(["git", "status", "--porcelain", "--", "src/altrnn"], cwd=REPO, capture_output=True,
                            text=True)
    if status.returncode != 0:
        pytest.skip("not a git checkout")
    assert "+g" in version and version.endswith(".dirty") == bool(status.stdout.strip())


def test_jobs_list_one_code_stamp_not_every_module(tmp_path):
    write_config(tmp_path, TINY)
    out = snakemake(tmp_path, "-n").stdout
    job_inputs = [line for line in out.splitlines() if line.strip().startswith("input:")]
    assert job_inputs and not any("src/altrnn" in line for line in job_inputs)
    assert "results/code/train.txt" in out and "results/code/task_flipflop.txt" in out
    stamp = (tmp_path / "results" / "code" / "dynamics.txt").read_text().splitlines()
    assert stamp[0].startswith("sha256 ") and "altrnn/analysis/fixed_points.py" in stamp
    import importlib.util
    assert importlib.util.find_spec("pygments") is not None  # snakemake --report needs it


def test_every_code_stamp_exists_before_the_dag_whatever_the_target(tmp_path):
    """A stamp first written while the DAG was built could be missed by Snakemake's listing of results/code/:
    explicit targets of a second task of another kind failed with MissingInputException in 2 of 3 runs."""
    cfg = copy.deepcopy(TINY)
    cfg["tasks"]["flipflop"]["model"] = {"activation": "relu"}
    write_config(tmp_path, cfg)
    snakemake(tmp_path, "-n", "results/flipflop/nets/std-g1-s0/model.npz")  # nothing of integration or DSA
    stamps = {p.name for p in (tmp_path / "results" / "code").iterdir()}
    assert {"task_flipflop.txt", "task_integration.txt", "compile_dsa.txt", "compile_fixed_points.txt",
            "train.txt", "similarity.txt"} <= stamps, stamps


def test_reported_task_loss_is_the_loss_the_gradient_descends():
    """With a mask that is not 0/1, the task loss is sum(mask (y - t)^2) / sum(mask) and the gradient is its own."""
    from altrnn.model import ModelConfig, Params, init_params
    from altrnn.tasks import Batch, masked_mse
    from altrnn.train import loss_and_grad

    rng = np.random.default_rng(0)
    cfg = ModelConfig(n_in=2, n_rec=5, n_out=2, dtype="float64", sigma_rec=0.0)
    params = init_params(cfg, 1.0, rng)
    T, B = 6, 3
    inputs, targets = rng.standard_normal((T, B, 2)), rng.standard_normal((T, B, 2))
    mask = rng.uniform(0.0, 2.0, size=(T, B, 2))
    terms, grads, traj = loss_and_grad(params, cfg, inputs, targets, mask)
    assert terms.task == pytest.approx(masked_mse(traj.y, Batch(inputs, targets, mask, {})), rel=1e-12)
    for k in range(2):  # the output bias: a finite difference of the same loss
        step = np.zeros(2)
        step[k] = 1e-6
        up, down = (Params(*(a.copy() for a in params.arrays())) for _ in range(2))
        up.b_out += step
        down.b_out -= step
        fd = (loss_and_grad(up, cfg, inputs, targets, mask)[0].task
              - loss_and_grad(down, cfg, inputs, targets, mask)[0].task) / 2e-6
        assert grads.b_out[k] == pytest.approx(fd, rel=1e-6)


def test_config_errors_are_one_line_from_the_loader():
    with pytest.raises(ConfigError) as err:
        load({**TINY, "modle": {}})
    assert "\n" not in str(err.value)

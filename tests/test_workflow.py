"""Real Snakemake runs of a tiny config: outputs, nothing to redo, targeted reruns, config errors."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from altrnn import netids
from altrnn.io import load_model

from tiny import NETS, REPO, SNAKEMAKE, TINY, planned_outputs, snakemake, write_config  # noqa: F401


def test_tiny_workflow_produces_every_result(tiny_run):
    for task in TINY["tasks"]:
        for net in NETS:
            d = tiny_run / netids.net_dir(task, net)
            saved = load_model(d / "model.npz")
            assert saved.metadata["task"] == task and saved.metadata["net_id"] == net
            log = pd.read_csv(d / "train_log.csv")
            assert list(log.columns[:5]) == ["iteration", "loss", "task_loss", "penalty", "grad_norm"]
            assert "seconds" not in log.columns  # wall-clock time is in train_time.csv: reruns follow content
            assert list(pd.read_csv(d / "train_time.csv").columns) == ["iterations", "seconds"]
            ev = pd.read_csv(d / "eval.csv")
            assert list(ev.columns) == ["condition", "loss", "accuracy"]
            assert ev["condition"].iloc[0] == "in_distribution" and len(ev) > 1
            assert not (d / "checkpoint.npz").exists()
        alt_log = pd.read_csv(tiny_run / "results" / task / "nets" / "alt1" / "train_log.csv")
        assert "penalty_ref" in alt_log.columns and (alt_log["penalty"] > 0).all()
        lp = pd.read_csv(tiny_run / netids.similarity_file(task, "linear_predictability.csv"))
        assert list(lp.columns) == ["net_a", "net_b", "space", "value"]
        assert len(lp) == 2 * len(NETS) ** 2 and lp["value"].notna().all()
        assert set(lp["space"]) == {"full", "nullspace"}
        assert (tiny_run / "logs" / task / "train_ref.log").read_text().count("iteration") > 0


def test_tiny_workflow_produces_every_analysis_and_figure(tiny_run):
    from altrnn.stages.dynamics import POINT_COLUMNS
    from altrnn.io import read_npz

    for task in TINY["tasks"]:
        for net in NETS:
            d = tiny_run / netids.net_dir(task, net)
            fp = pd.read_csv(d / "fixed_points.csv")
            assert list(fp.columns) == POINT_COLUMNS
            arrays = read_npz(d / "fixed_points.npz")
            assert arrays["x"].shape == (len(fp), TINY["model"]["n_rec"])
        sim = tiny_run / "results" / task / "similarity"
        for metric in ("cka", "rsa", "procrustes", "dsa"):
            table = pd.read_csv(sim / f"{metric}.csv")
            assert list(table.columns) == ["net_a", "net_b", "value"] and len(table) == len(NETS) ** 2
            assert table["value"].notna().all()
            mds = pd.read_csv(sim / f"{metric}_mds.csv")
            assert sorted(mds["net_id"]) == sorted(NETS) and {"dim1", "dim2"} <= set(mds.columns)
        cka = pd.read_csv(sim / "cka.csv")
        assert (cka.loc[cka["net_a"] == cka["net_b"], "value"] > 1 - 1e-9).all()
        deg = pd.read_csv(tiny_run / netids.degeneracy_file(task))
        assert set(deg["level"]) == {"behaviour", "dynamics", "weights", "representations"}
        assert deg["value"].notna().all()
        assert {"sigma_ood", "dsa_null", "dsa_ratio", "mean_weight_distance", "mean_svcca"} <= set(deg["measure"])
        for panel in ("training", "predictability", "ood", "fixed_points", "manifolds", "dsa_mds"):
            for ext in ("pdf", "png"):
                assert (tiny_run / netids.figure_file(task, panel, ext)).stat().st_size > 1000


def test_figures_are_reproducible_and_only_changed_ones_rebuild(tiny_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    figures = workdir / "results" / "figures"
    before = {f.name: f.read_bytes() for f in figures.iterdir()}
    redrawn = [str(netids.figure_file("flipflop", panel, "png")) for panel in ("ood", "fixed_points")]
    snakemake(workdir, *redrawn, "--forcerun", "figure_ood", "figure_fixed_points")
    assert {f.name: f.read_bytes() for f in figures.iterdir()} == before
    ev = workdir / "results" / "flipflop" / "nets" / "ref" / "eval.csv"
    ev.write_text(ev.read_text().replace("in_distribution,", "in_distribution,1", 1))
    out = snakemake(workdir, "-n", "figures").stdout
    planned = sorted(f for line in re.findall(r"^\s+output: (.+)$", out, flags=re.M) for f in line.split(", "))
    # the eval tables feed the ood panel and the behaviour level of insd_distance (and its panel), nothing else
    assert planned == ["results/figures/flipflop_insd_distance.pdf", "results/figures/flipflop_insd_distance.png",
                       "results/figures/flipflop_ood.pdf", "results/figures/flipflop_ood.png",
                       "results/flipflop/insd_distance.csv"]


def test_a_corrupted_model_fails_its_jobs_naming_the_file(tiny_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    model = workdir / "results" / "flipflop" / "nets" / "std-g1-s0" / "model.npz"
    model.write_bytes(model.read_bytes()[:500])
    proc = snakemake(workdir, "results/flipflop/nets/std-g1-s0/eval.csv", "--forcerun", "evaluate", check=False)
    assert proc.returncode != 0
    assert "ResultFileError: results/flipflop/nets/std-g1-s0/model.npz" in proc.stdout + proc.stderr
    assert not (workdir / "results" / "flipflop" / "nets" / "std-g1-s0" / "eval.csv").exists()


def test_paper_config_is_valid_and_plans_every_task(tmp_path):
    from altrnn.tasks import GENERATORS

    (tmp_path / "config.yaml").write_text((REPO / "config" / "paper.yaml").read_text())
    outputs = planned_outputs(tmp_path)
    for task in GENERATORS:
        assert f"results/{task}/nets/alt3/fixed_points.csv" in outputs, task
        assert f"results/figures/{task}_dsa_mds.png" in outputs, task
    assert "results/figures/degeneracy.png" in outputs


def test_second_run_has_nothing_to_do(tiny_run):
    assert planned_outputs(tiny_run) == []
    assert "Nothing to be done" in snakemake(tiny_run, "-n").stdout


def test_changing_one_task_reruns_only_its_jobs(tiny_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    cfg["tasks"]["flipflop"]["params"]["T"] = 24
    write_config(workdir, cfg)
    outputs = planned_outputs(workdir)
    assert outputs, "a changed task parameter must rerun that task's jobs"
    own = ("results/flipflop/", "results/figures/flipflop_", "results/figures/degeneracy.")
    assert all(o.startswith(own) for o in outputs), outputs
    trained = {o for o in outputs if o.endswith("model.npz")}
    assert trained == {f"results/flipflop/nets/{n}/model.npz" for n in NETS}


@pytest.mark.parametrize("path,value,key", [
    (("model", "n_rec"), -3, "n_rec"),
    (("train", "lerning_rate"), 0.1, "lerning_rate"),
    (("insd", "rho_mode"), "sometimes", "rho_mode"),
])
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, path, value, key):
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg[path[0]][path[1]] = value
    write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0
    message = proc.stdout + proc.stderr
    assert key in message and "Error" in message
    assert not (tmp_path / "results").exists()


def test_task_entries_name_their_generator(tmp_path):
    """An entry with its own name runs the generator its `task:` key names; an unknown one is a clear error."""
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["tasks"]["flipflop_relu"] = {"task": "flipflop", "model": {"activation": "relu"}}
    write_config(tmp_path, cfg)
    assert "results/flipflop_relu/nets/alt1/model.npz" in planned_outputs(tmp_path)
    cfg["tasks"]["flopflip"] = {"params": {"T": 20}}
    write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "-n", check=False)
    assert proc.returncode != 0 and "tasks.flopflip: unknown task 'flopflip'" in proc.stdout + proc.stderr


def test_workflow_passes_lint_and_format_check():
    lint = subprocess.run([*SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "Lints for" not in lint.stdout + lint.stderr, lint.stdout + lint.stderr
    fmt = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0, fmt.stderr


def test_sigkill_during_training_then_rerun_resumes_to_the_same_weights(tmp_path):
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["tasks"] = {"flipflop": {"params": {"T": 60}}}
    cfg["model"]["n_rec"] = 32
    cfg["train"].update(max_iters=2000, checkpoint_every=200)
    cfg["standard"] = {"g": [1.0], "seeds": [0]}
    cfg["insd"]["n_alternatives"] = 0
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    for d in (killed, straight):
        d.mkdir()
        write_config(d, cfg)
    models = [f"results/flipflop/nets/{net}/model.npz" for net in ("std-g1-s0", "ref")]  # training only
    cmd = [*SNAKEMAKE, "-d", str(killed), "--configfile", str(killed / "config.yaml"), "--cores", "1", *models]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    nets = killed / "results" / "flipflop" / "nets"
    deadline = time.time() + 300
    while not list(nets.glob("*/checkpoint.npz")) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, "the workflow finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(nets.glob("*/checkpoint.npz")), "the kill must leave a half-trained network behind"

    snakemake(killed, "--unlock")
    snakemake(killed, *models)
    snakemake(straight, *models)
    logs = "".join(p.read_text() for p in (killed / "logs" / "flipflop").glob("train_*.log"))
    assert "resuming from checkpoint" in logs
    for net in ("std-g1-s0", "ref"):
        a = load_model(killed / "results/flipflop/nets" / net / "model.npz").params
        b = load_model(straight / "results/flipflop/nets" / net / "model.npz").params
        assert all(x.tobytes() == y.tobytes() for x, y in zip(a.arrays(), b.arrays())), net


def test_diverging_task_fails_clearly_while_the_others_finish(tmp_path):
    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["tasks"]["flipflop"]["model"] = {"activation": "relu"}
    cfg["tasks"]["flipflop"]["train"] = {"lr": 50.0, "grad_clip": 0.0, "max_iters": 200}
    cfg["standard"]["g"] = [3.0]
    cfg["insd"]["n_alternatives"] = 0
    write_config(tmp_path, cfg)
    proc = snakemake(tmp_path, "--keep-going", "results/flipflop/nets/std-g3-s0/model.npz",
                     "results/integration/similarity/linear_predictability.csv", check=False)
    assert proc.returncode != 0
    assert "TrainingDiverged: training diverged at iteration" in proc.stdout + proc.stderr
    assert not list((tmp_path / "results" / "flipflop").rglob("*.npz"))  # no model, no checkpoint
    assert (tmp_path / "results" / "integration" / "similarity" / "linear_predictability.csv").exists()


def test_a_cache_compiled_by_processes_at_once_serves_the_warm_up_rule_and_the_jobs_after_it(tmp_path):
    """Processes compiling the same kernels at once (one per core) into an empty cache all succeed and leave it
    valid; with that cache, compile_kernels (which every training job waits for) and then 3 training jobs on 4
    cores, two threads each (the parallel kernels, where numba has two threads), load every kernel and compile
    none. One cold compilation serves both checks: each costs seconds."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    code = ("from altrnn.stages.kernels import compile_kernels; from altrnn.model.kernels import cache_summary; "
            "compile_kernels([('tanh', 'float32')], parallel=True); print(cache_summary())")
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
    assert any(re.search(r"[1-9]\d* compiled", out) for out, _ in outputs), outputs  # the cache was empty

    cfg = yaml.safe_load(yaml.safe_dump(TINY))
    cfg["tasks"] = {"flipflop": cfg["tasks"]["flipflop"]}
    cfg["standard"] = {"g": [1.0], "seeds": [0, 1]}
    cfg["insd"]["n_alternatives"] = 0
    cfg["threads"]["train"] = 2
    cfg["train"]["batch_size"] = 32  # two blocks of 16 trials
    write_config(tmp_path, cfg)
    models = [f"results/flipflop/nets/{net}/model.npz" for net in ("std-g1-s0", "std-g1-s1", "ref")]
    cmd = [*SNAKEMAKE, "-d", str(tmp_path), "--configfile", str(tmp_path / "config.yaml"), "--cores", "4", *models]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    logs = sorted((tmp_path / "logs" / "flipflop").glob("train_*.log"))
    assert len(logs) == 3
    for log in [tmp_path / "logs" / "compile_kernels_tanh_float32.log", *logs]:
        assert re.search(r"numba kernels: [1-9]\d* loaded from cache, 0 compiled", log.read_text()), log.name
    # on an empty cache the warm-up is what keeps the jobs from compiling: each training job waits for it
    jobs = re.findall(r"^(?:local)?rule (\w+):\n    input: (.+)$", proc.stdout + proc.stderr, flags=re.M)
    trainings = [inputs for rule, inputs in jobs if rule.startswith("train")]
    assert len(trainings) == 3 and all("results/kernels/train_tanh_float32.txt" in i for i in trainings), jobs

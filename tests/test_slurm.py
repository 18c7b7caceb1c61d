"""The SLURM profile on a real single-node SLURM cluster: every job goes through sbatch.

tests/slurm/start.sh installs and starts the cluster (root only); without root and
without a running cluster the tests are skipped with the script's message.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tiny import TINY, write_config

REPO = Path(__file__).resolve().parents[1]
START = REPO / "tests" / "slurm" / "start.sh"
EXIT_NEEDS_ROOT = 77  # start.sh: not root and no running cluster
NETS = ["std-g1-s0", "ref", "alt1"]
# The whole tiny workflow with one task and one standard network (each SLURM job
# starts Snakemake twice, so fewer jobs keep the test short): every rule but
# degeneracy (which needs two standard networks) goes through sbatch.
CONFIG = yaml.safe_load(yaml.safe_dump(TINY))
CONFIG["tasks"] = {"flipflop": TINY["tasks"]["flipflop"]}
CONFIG["standard"]["g"] = [1.0]
TARGETS = ["all"]
# Poll SLURM soon after submitting (the profile waits longer, for real clusters);
# keep the SLURM logs of successful jobs as evidence of where they ran.
TEST_OPTIONS = ["--slurm-init-seconds-before-status-checks", "1", "--slurm-keep-successful-logs"]


def snakemake_slurm(workdir, *args):
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--workflow-profile", "none",
           "--profile", str(REPO / "profiles" / "slurm"),
           *TEST_OPTIONS, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"snakemake --profile profiles/slurm {' '.join(args)} failed:\n{out[-6000:]}"
    return out


@pytest.fixture(scope="module")
def cluster():
    proc = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=900)
    if proc.returncode == EXIT_NEEDS_ROOT and os.geteuid() != 0:
        pytest.skip(proc.stderr.strip())
    assert proc.returncode == 0, f"tests/slurm/start.sh failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm")
    write_config(workdir, CONFIG)
    plan = snakemake_slurm(workdir, "-n", *TARGETS)
    planned = [f for line in re.findall(r"^\s+output: (.+)$", plan, flags=re.M) for f in line.split(", ")]
    out = snakemake_slurm(workdir, *TARGETS)
    return workdir, planned, out


def test_every_output_is_built(slurm_run):
    workdir, planned, _ = slurm_run
    for net in NETS:
        for name in ("model.npz", "train_log.csv", "eval.csv"):
            assert f"results/flipflop/nets/{net}/{name}" in planned
    assert "results/figures/flipflop_manifolds.png" in planned
    missing = [f for f in planned if not (workdir / f).is_file() or (workdir / f).stat().st_size == 0]
    assert not missing, missing


def test_every_job_ran_as_a_completed_slurm_job(slurm_run):
    workdir, _, out = slurm_run
    submitted = dict(re.findall(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", out))
    rules_run = re.findall(r"^rule (\w+):$", out, flags=re.M)  # jobs not run locally
    assert rules_run and len(submitted) == len(rules_run), (rules_run, submitted)
    for job_id, log in submitted.items():
        log = Path(log)
        assert log.is_file() and log.is_relative_to(workdir / ".snakemake" / "slurm_logs"), log
        assert "--executor slurm-jobstep" in log.read_text(), log  # the job ran inside SLURM
    # SLURM's own record of the jobs (no accounting database: squeue keeps finished jobs for MinJobAge).
    states = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i %T", "--jobs", ",".join(submitted)],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    assert dict(line.split() for line in states.splitlines()) == dict.fromkeys(submitted, "COMPLETED")


def slurm_minutes(limit):
    """SLURM's time limit ([D-][H:]M:S) in minutes."""
    days, _, clock = limit.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    h, m, sec = [0] * (3 - len(parts)) + parts
    return (int(days or 0) * 24 + h) * 60 + m + sec / 60


def test_slurm_jobs_got_the_profiles_resources(slurm_run):
    _, _, out = slurm_run
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    job_ids = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    table = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%k|%m|%l|%C", "--jobs", ",".join(job_ids)],
                           capture_output=True, text=True, timeout=60, check=True).stdout
    seen = set()
    for line in table.splitlines():
        comment, mem, limit, cpus = line.split("|")
        rule = re.match(r"rule_(.+?)(_wildcards_.*)?$", comment).group(1)
        wanted = profile["set-resources"][rule]
        threads = CONFIG["threads"]["train"] if rule.startswith("train") else 1
        assert (mem, slurm_minutes(limit), int(cpus)) == (f"{wanted['mem_mb']}M", wanted["runtime"], threads), \
            (rule, line)
        seen.add(rule)
    assert seen == set(profile["set-resources"]) - {"degeneracy", "figure_degeneracy", "study"}


def test_second_run_plans_nothing(slurm_run):
    workdir, _, _ = slurm_run
    out = snakemake_slurm(workdir, "-n", *TARGETS)
    assert "Nothing to be done" in out
    assert not re.findall(r"^\s+output: (.+)$", out, flags=re.M)

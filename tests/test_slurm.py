"""The SLURM profile on a real single-node SLURM cluster: every job goes through sbatch.

tests/slurm/start.sh installs and starts the cluster (root only); without root and
without a running cluster the tests are skipped with the script's message.
One Snakemake run covers one task's networks of every kind (standard, INSD ref and
alternative) with their analyses and figures, and a tiny study (2 conditions x 3
networks); short jobs go to SLURM in the profile's job groups. The run is counted
in sbatch submissions, each job's request is checked against the profile, and each
group job is checked to run its jobs one at a time (the premise of `cores: 1`).
"""

import copy
import math

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
# The tiny workflow with one task and one standard network, and a study of two conditions of two standard
# networks (and each condition's ref), without alternatives and with DSA only. Each SLURM job starts Snakemake
# at least twice and costs seconds, so one run with few jobs keeps the test short.
CONFIG = copy.deepcopy(TINY)
CONFIG["tasks"] = {"flipflop": TINY["tasks"]["flipflop"]}
CONFIG["standard"]["g"] = [1.0]
CONFIG["studies"] = {"width_flipflop": {"task": "flipflop", "factor": "width", "params": {"T": 20},
                                        "axes": {"model.n_rec": [4, 8]}, "standard": {"seeds": [0, 1]},
                                        "insd": {"n_alternatives": 0}, "similarity": {"metrics": ["dsa"]}}}
STUDY_NETWORKS = 2 * (2 + 1)
TARGETS = ["results/flipflop/similarity/linear_predictability.csv", "results/figures/flipflop_manifolds.png",
           "results/figures/flipflop_ood.png", "results/studies/width_flipflop/trends.csv",
           "results/studies/factor_width.png"]
# Connected components of each group: one per network (training -> evaluation, and dynamics for the task's
# networks; the task's ref with its alternative is one); per study condition linear_predictability and
# similarity_metric -> degeneracy, and the task's linear_predictability; the task's two figures; the study with
# its factor.
COMPONENTS = {"network": 2 + STUDY_NETWORKS, "unit": 2 * 2 + 1, "figure": 2, "summary": 1}
UNGROUPED = 3  # compile_kernels, compile_analysis_kernels x 2
# Poll SLURM soon after submitting (the profile waits longer, for real clusters);
# keep the SLURM logs of successful jobs as evidence of where they ran.
TEST_OPTIONS = ["--slurm-init-seconds-before-status-checks", "1", "--slurm-keep-successful-logs"]
PROFILE = yaml.safe_load((REPO / "profiles" / "slurm" / "config.v8+.yaml").read_text())


def node_cpus():
    """CPUs of the test node: a job may ask for no more."""
    out = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%c"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return min(int(c) for c in out.split())


def snakemake_slurm(workdir, *args):
    cores = min(PROFILE["cores"], node_cpus())
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--workflow-profile", "none",
           "--profile", str(REPO / "profiles" / "slurm"), "--cores", str(cores),
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
    """The run's log, and before it a dry run with smaller groups (the profile's sizes are the knob)."""
    workdir = tmp_path_factory.mktemp("slurm")
    write_config(workdir, CONFIG)
    tuned = snakemake_slurm(workdir, "-n", *TARGETS, "--group-components", "network=3", "unit=1")
    out = snakemake_slurm(workdir, *TARGETS)
    return workdir, tuned, out


def outputs(log):
    return [f for line in re.findall(r"^\s+output: (.+)$", log, flags=re.M) for f in line.split(", ")]


def test_every_output_is_built(slurm_run):
    workdir, _, out = slurm_run
    planned = outputs(out)
    for net in NETS:
        for name in ("model.npz", "train_log.csv", "eval.csv"):
            assert f"results/flipflop/nets/{net}/{name}" in planned
    assert "results/studies/width_flipflop/n_rec-8/nets/std-g1-s1/eval.csv" in planned
    assert set(TARGETS) <= set(planned)
    missing = [f for f in planned if not (workdir / f).is_file() or (workdir / f).stat().st_size == 0]
    assert not missing, missing


def submissions(out):
    """SLURM job id -> (log, rules of its jobs) of every sbatch submission in a Snakemake log.

    A single job prints `rule X:` with its `jobid: n` and is submitted as `Job n`; a group
    job prints `Group job G` and its jobs indented, and its log sits in a directory
    group_{G}_{its rules, sorted and joined by _}. Group jobs printed together may be
    submitted in any order, so each submission takes the first printed group of that name.
    """
    single, groups, jobs = {}, [], {}
    rule = None
    for line in out.splitlines():
        if m := re.match(r"^rule (\w+):$", line):
            rule = m.group(1)
        elif rule and (m := re.match(r"^\s+jobid: (\d+)$", line)):
            single[m.group(1)], rule = rule, None
        elif m := re.search(r"\] Group job (\w+) \(", line):
            groups.append((m.group(1), []))
        elif groups and (m := re.match(r"^    rule (\w+):$", line)):
            groups[-1][1].append(m.group(1))
        elif m := re.search(r"^Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)", line):
            job, slurm_id, log = m.groups()
            if "/group_" not in log:
                jobs[slurm_id] = (Path(log), [single[job]])
                continue
            folder = Path(log).parent.name
            k = next(i for i, (g, rules) in enumerate(groups) if folder == f"group_{g}_{'_'.join(sorted(set(rules)))}")
            jobs[slurm_id] = (Path(log), groups.pop(k)[1])
    return jobs


def squeue(job_ids, fmt):
    return subprocess.run(["squeue", "--noheader", "--states=all", f"--format={fmt}", "--jobs", ",".join(job_ids)],
                          capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()


def test_every_job_ran_as_a_completed_slurm_job(slurm_run):
    workdir, _, out = slurm_run
    submitted = submissions(out)
    rules_run = re.findall(r"^rule (\w+):$", out, flags=re.M)  # single jobs not run locally
    groups_run = re.findall(r"\] Group job (\w+) \(", out)
    assert rules_run and groups_run and len(submitted) == len(rules_run) + len(groups_run), (rules_run, submitted)
    for log, _ in submitted.values():
        assert log.is_file() and log.is_relative_to(workdir / ".snakemake" / "slurm_logs"), log
        assert "--executor slurm-jobstep" in log.read_text(), log  # the job ran inside SLURM
    # SLURM's own record (no accounting database: squeue keeps finished jobs for MinJobAge): every job of
    # this run (one job name per Snakemake run), all completed.
    (name,) = set(squeue(submitted, "%j"))
    states = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i %T", f"--name={name}"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    assert dict(line.split() for line in states) == dict.fromkeys(submitted, "COMPLETED")


def group_jobs(out, group):
    return len(re.findall(rf"\] Group job {group} \(", out))


def test_groups_bundle_the_jobs_into_few_sbatch_jobs(slurm_run):
    _, tuned, out = slurm_run
    sizes = PROFILE["group-components"]
    expected = UNGROUPED + sum(math.ceil(n / sizes[g]) for g, n in COMPONENTS.items())
    ungrouped = sum(n for rule, n in job_stats(out).items() if rule != "all")  # one sbatch job each without groups
    assert len(submissions(out)) == expected < ungrouped, (len(submissions(out)), expected, ungrouped)
    for g, n in COMPONENTS.items():
        assert group_jobs(out, g) == math.ceil(n / sizes[g]), g
    # Smaller group-components, more (shorter) group jobs.
    assert group_jobs(tuned, "network") == math.ceil(COMPONENTS["network"] / 3)
    assert group_jobs(tuned, "unit") == COMPONENTS["unit"]


def test_group_jobs_run_their_jobs_one_at_a_time(slurm_run):
    """The premise of the profile's `cores: 1`: the group's Snakemake (started with --jobs 1 by the plugin)
    starts a job only after the previous one finished, even where two could run side by side. If this fails,
    a plugin update runs group jobs in parallel, and `cores` (with the README's arithmetic) can be raised."""
    _, _, out = slurm_run
    assert PROFILE["cores"] == 1
    checked = 0
    for log, rules in submissions(out).values():
        if "/group_" not in str(log):
            continue
        # The group's Snakemake prints `rule X:` when it starts a job; `Finished jobid` follows (twice: the
        # job's own Snakemake and the group's). Two starts in a row would be two jobs at once.
        events = "".join("S" if e.startswith("rule") else "F"
                         for e in re.findall(r"^(rule \w+:|Finished jobid: )", log.read_text(), flags=re.M))
        assert events.count("S") == len(rules) and "SS" not in events and events.endswith("F"), (log, events)
        checked += len(rules) > 1
    assert checked >= 2  # the network group jobs hold several independent trainings


def slurm_minutes(limit):
    """SLURM's time limit ([D-][H:]M:S) in minutes."""
    days, _, clock = limit.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    h, m, sec = [0] * (3 - len(parts)) + parts
    return (int(days or 0) * 24 + h) * 60 + m + sec / 60


def wanted(rule):
    """(runtime, mem_mb) the profile asks for one job of `rule`."""
    res = {**PROFILE["default-resources"], **PROFILE["set-resources"].get(rule, {})}
    return res["runtime"], res["mem_mb"]


def requests(job_ids):
    """SLURM job id -> (runtime in minutes, mem_mb, cpus) SLURM granted."""
    out = {}
    for line in squeue(job_ids, "%i|%m|%l|%C"):
        job_id, mem, limit, cpus = line.split("|")
        out[job_id] = (slurm_minutes(limit), int(mem.removesuffix("M")), int(cpus))
    return out



def test_jobs_ask_for_the_profiles_resources(slurm_run):
    """A single job asks for its rule's runtime, mem_mb and threads; a group job (one CPU, its jobs in series)
    for the summed runtime and the largest mem_mb of its jobs."""
    _, _, out = slurm_run
    submitted = submissions(out)
    granted = requests(submitted)
    seen = set()
    for job_id, (log, rules) in submitted.items():
        if "/group_" not in str(log):
            (rule,) = rules
            threads = CONFIG["threads"]["train"] if rule.startswith("train") else 1
            assert granted[job_id] == (*wanted(rule), threads), (rule, granted[job_id])
        else:
            each = [wanted(rule) for rule in rules]
            summed = (sum(r for r, _ in each), max(m for _, m in each), PROFILE["cores"])
            assert granted[job_id] == summed, (rules, granted[job_id])
        seen.update(rules)
    assert seen == set(job_stats(out)) - {"all"}  # every job but the local target rule went through SLURM


def job_stats(out):
    """Rule -> number of jobs, from the table Snakemake prints before running."""
    table = out.split("Job stats:")[1].split("total")[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M)}


def test_second_run_plans_nothing(slurm_run):
    workdir, _, _ = slurm_run
    out = snakemake_slurm(workdir, "-n", *TARGETS)
    assert "Nothing to be done" in out
    assert not outputs(out)

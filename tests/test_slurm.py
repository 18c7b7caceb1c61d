"""The SLURM profile on a real single-node SLURM cluster: every job goes through sbatch.

tests/slurm/start.sh installs and starts the cluster (root only); without root and
without a running cluster the tests are skipped with the script's message.
Short jobs go to SLURM in the profile's job groups: a tiny study (2 conditions x 3
networks) is counted in sbatch submissions, and each group job's request is checked
against the layered sum of its jobs' resources.
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
# The tiny workflow with one task and one standard network, and two figures
# (each SLURM job starts Snakemake twice and costs seconds, so fewer jobs keep the
# test short): training of every kind, evaluation, dynamics, similarity and a
# figure group go through sbatch.
CONFIG = yaml.safe_load(yaml.safe_dump(TINY))
CONFIG["tasks"] = {"flipflop": TINY["tasks"]["flipflop"]}
CONFIG["standard"]["g"] = [1.0]
TARGETS = ["results/flipflop/similarity/linear_predictability.csv", "results/figures/flipflop_manifolds.png",
           "results/figures/flipflop_ood.png"]
# Poll SLURM soon after submitting (the profile waits longer, for real clusters);
# keep the SLURM logs of successful jobs as evidence of where they ran.
TEST_OPTIONS = ["--slurm-init-seconds-before-status-checks", "1", "--slurm-keep-successful-logs"]
PROFILE = yaml.safe_load((REPO / "profiles" / "slurm" / "config.v8+.yaml").read_text())


def node_cpus():
    """CPUs of the test node: a group job may ask for no more (the profile's `cores`, set to the node)."""
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
    # SLURM's own record of the jobs (no accounting database: squeue keeps finished jobs for MinJobAge).
    states = squeue(submitted, "%i %T")
    assert dict(line.split() for line in states) == dict.fromkeys(submitted, "COMPLETED")


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


def test_slurm_jobs_got_the_profiles_resources(slurm_run):
    _, _, out = slurm_run
    submitted = submissions(out)
    granted = requests(submitted)
    seen = set()
    for job_id, (log, rules) in submitted.items():
        runtime, mem, cpus = granted[job_id]
        if "/group_" not in str(log):
            (rule,) = rules
            threads = CONFIG["threads"]["train"] if rule.startswith("train") else 1
            assert (runtime, mem, cpus) == (*wanted(rule), threads), (rule, granted[job_id])
        else:  # a group job: its jobs side by side add mem and cores, in series add runtime
            each = [wanted(rule) for rule in rules]
            assert max(r for r, _ in each) <= runtime <= sum(r for r, _ in each), (rules, granted[job_id])
            assert max(m for _, m in each) <= mem <= sum(m for _, m in each), (rules, granted[job_id])
            assert 1 <= cpus <= node_cpus(), (rules, granted[job_id])
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
    assert not re.findall(r"^\s+output: (.+)$", out, flags=re.M)


# --- job groups: a tiny study counted in sbatch submissions ---------------------------
# Two conditions of two standard networks (and each condition's ref): 6 networks.
STUDY = copy.deepcopy(TINY)
STUDY.update(tasks={}, networks_per_g=2, standard={"g": [1.0], "seeds": [0]},
             insd={**TINY["insd"], "n_alternatives": 0}, similarity={**TINY["similarity"], "metrics": ["dsa"]},
             studies={"width_flipflop": {"task": "flipflop", "factor": "width", "params": {"T": 20},
                                         "axes": {"model.n_rec": [4, 8]}}})
N_NETWORKS = 2 * (2 + 1)
# Connected components of each group: one per network (train -> evaluate, dynamics); per
# condition linear_predictability, decoding, and similarity_metric -> degeneracy, insd_distance;
# the study with its factor.
COMPONENTS = {"network": N_NETWORKS, "unit": 2 * 3, "summary": 1}
UNGROUPED = 3  # compile_kernels, compile_analysis_kernels x 2
# Each group's jobs by DAG level within the group (a level's jobs can run side by side).
LEVELS = {
    "network": [["train_standard"] * 4 + ["train_ref"] * 2, ["evaluate"] * 6 + ["dynamics"] * 6],
    "unit": [["linear_predictability", "similarity_metric", "decoding"] * 2, ["degeneracy", "insd_distance"] * 2],
    "summary": [["study"], ["factor"]],
}


def group_jobs(out, group):
    return len(re.findall(rf"\] Group job {group} \(", out))


def layered(levels, cores):
    """A group job's (runtime, mem_mb, cpus) for one-thread jobs, as Snakemake sums them: each
    level's jobs fill layers of `cores` jobs side by side (longest first), whose mem adds up;
    layers run in series, so their runtimes add up."""
    runtime, mem, cpus = 0, 0, 0
    for level in levels:
        jobs = sorted((wanted(rule) for rule in level), reverse=True)
        for i in range(0, len(jobs), cores):
            layer = jobs[i:i + cores]
            runtime += max(r for r, _ in layer)
            mem, cpus = max(mem, sum(m for _, m in layer)), max(cpus, len(layer))
    return runtime, mem, cpus


@pytest.fixture(scope="module")
def study_run(cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm_study")
    write_config(workdir, STUDY)
    plan = snakemake_slurm(workdir, "-n")
    tuned = snakemake_slurm(workdir, "-n", "--group-components", "network=3", "unit=1")
    out = snakemake_slurm(workdir)
    return workdir, plan, tuned, out


def test_study_submits_one_sbatch_job_per_group_job(study_run):
    _, plan, tuned, out = study_run
    sizes = PROFILE["group-components"]
    expected = UNGROUPED + sum(math.ceil(n / sizes[g]) for g, n in COMPONENTS.items())
    ungrouped = sum(n for rule, n in job_stats(plan).items() if rule != "all")  # one sbatch job each without groups
    submitted = submissions(out)
    assert len(submitted) == expected < ungrouped, (len(submitted), expected, ungrouped)
    for g, n in COMPONENTS.items():
        assert group_jobs(plan, g) == group_jobs(out, g) == math.ceil(n / sizes[g]), g
    # The profile's sizes are the knob: smaller group-components, more (shorter) group jobs.
    assert group_jobs(tuned, "network") == math.ceil(N_NETWORKS / 3)
    assert group_jobs(tuned, "unit") == COMPONENTS["unit"]
    # SLURM's own count: every job of this run (one job name per Snakemake run), all completed.
    (name,) = set(squeue(submitted, "%j"))
    states = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i %T", f"--name={name}"],
                            capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    assert dict(line.split() for line in states) == dict.fromkeys(submitted, "COMPLETED")


def test_study_outputs_exist(study_run):
    workdir, plan, _, _ = study_run
    planned = [f for line in re.findall(r"^\s+output: (.+)$", plan, flags=re.M) for f in line.split(", ")]
    assert "results/studies/width_flipflop/n_rec-8/nets/std-g1-s1/fixed_points.csv" in planned
    assert "results/studies/factor_width.png" in planned
    missing = [f for f in planned if not (workdir / f).is_file() or (workdir / f).stat().st_size == 0]
    assert not missing, missing


def test_group_jobs_ask_for_the_summed_resources(study_run):
    _, _, _, out = study_run
    submitted = submissions(out)
    granted = requests(submitted)
    cores = min(PROFILE["cores"], node_cpus())
    checked = set()
    for job_id, (log, rules) in submitted.items():
        group = next((g for g in LEVELS if f"/group_{g}_" in str(log)), None)
        if group is None:
            continue
        assert sorted(rules) == sorted(r for level in LEVELS[group] for r in level), group
        assert granted[job_id] == layered(LEVELS[group], cores), (group, granted[job_id])
        checked.add(group)
    assert checked == set(LEVELS)
    # Runtime adds up in series: the network group asks for more than one network's chain.
    runtime, _, _ = granted[next(j for j, (log, _) in submitted.items() if "/group_network_" in str(log))]
    assert runtime > wanted("train_standard")[0] + wanted("dynamics")[0]

"""The tiny workflow config and helpers to run real Snakemake on it (shared by the workflow tests)."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

from altrnn import netids

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]

TINY = {
    "tasks": {"flipflop": {"params": {"T": 20}}, "integration": {"params": {"T_stim": 10}}},
    "model": {"n_rec": 8, "activation": "tanh", "alpha": 0.2, "sigma_rec": 0.05, "dtype": "float32"},
    "train": {"batch_size": 16, "lr": 0.003, "max_iters": 20, "log_every": 5, "checkpoint_every": 10},
    "standard": {"g": [1.0, 1.5], "seeds": [0]},
    "insd": {"n_alternatives": 1, "lambda": 1.0, "rho": 0.001, "rho_mode": "relative", "g": 1.0, "seed": 100},
    "evaluate": {"n_trials": 16, "seed": 1},
    "similarity": {"n_trials": 8, "seed": 2, "test_fraction": 0.5, "rho": 0.001,
                   "options": {"dsa": {"n_delays": 4, "rank": 6}}},
    "dynamics": {"n_trials": 8, "n_initial": 32},
    "decoding": {"n_trials": 16, "stride": 3},
    "gaming": {"paddings": [0, 2], "n_draws": 2},
    "threads": {"train": 1},
}
NETS = [netids.standard_id(g, s) for g in TINY["standard"]["g"] for s in TINY["standard"]["seeds"]] + \
    netids.insd_ids(TINY["insd"]["n_alternatives"])
assert NETS == ["std-g1-s0", "std-g1.5-s0", "ref", "alt1"]


def snakemake(workdir, *args, check=True):
    cmd = [*SNAKEMAKE, "-d", str(workdir), "--configfile", str(workdir / "config.yaml"), "--cores", "2", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def write_config(workdir, cfg):
    (workdir / "config.yaml").write_text(yaml.safe_dump(cfg))


def planned_outputs(workdir):
    """Output files of the jobs a dry run would execute."""
    out = snakemake(workdir, "-n").stdout
    return [f for line in re.findall(r"^\s+output: (.+)$", out, flags=re.M) for f in line.split(", ")]

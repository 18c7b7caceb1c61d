"""Where a workflow run's time goes, per rule, from Snakemake's `benchmark:` files.

Every rule writes logs/benchmarks/<rule>/<...>.tsv (one job per file: wall seconds `s`, and `cpu_time`,
user + system seconds of the job's processes, which Snakemake samples while the job runs, so it is
missing or short for jobs of a second or two). This prints, per rule: jobs, median and total wall
seconds, total CPU seconds where recorded, the share of all jobs' wall time, and how much of it is the
fixed cost every job pays (interpreter, imports, numba cache loading, Snakemake's script wrapper):
jobs x `--overhead` seconds. The run's span is estimated from the files' modification times.

    python benchmarks/workflow_times.py RUN_DIR [--overhead 1.2] [--cores 2] [--csv FILE]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

BENCHMARKS = Path("logs") / "benchmarks"


def read_jobs(run_dir: Path) -> list[dict]:
    """One dict per job: rule, file, wall and CPU seconds (None when not recorded), end time (mtime)."""
    jobs = []
    for path in sorted((run_dir / BENCHMARKS).rglob("*.tsv")):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        if not rows:
            continue
        row = rows[-1]  # `benchmark: repeat(...)` writes one row per repeat; the last one is the job's own
        cpu = row.get("cpu_time", "NA")
        jobs.append({"rule": path.relative_to(run_dir / BENCHMARKS).parts[0], "file": path,
                     "wall": float(row["s"]), "cpu": None if cpu in ("NA", "", None) else float(cpu),
                     "end": path.stat().st_mtime})
    return jobs


def summarise(jobs: list[dict], overhead: float) -> list[dict]:
    """Per-rule rows, largest total wall time first."""
    total = sum(j["wall"] for j in jobs) or 1.0
    rows = []
    for rule in {j["rule"] for j in jobs}:
        walls = [j["wall"] for j in jobs if j["rule"] == rule]
        cpus = [j["cpu"] for j in jobs if j["rule"] == rule and j["cpu"] is not None]
        rows.append({"rule": rule, "jobs": len(walls), "median_s": statistics.median(walls),
                     "total_s": sum(walls), "cpu_s": sum(cpus) if cpus else None, "cpu_jobs": len(cpus),
                     "share": sum(walls) / total,
                     "overhead_share": min(1.0, len(walls) * overhead / sum(walls)) if sum(walls) else 0.0})
    return sorted(rows, key=lambda r: -r["total_s"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, help="the workflow's working directory (with logs/benchmarks)")
    ap.add_argument("--overhead", type=float, default=1.2,
                    help="fixed seconds per job (1.0-1.5 CPU s measured: benchmarks/README.md)")
    ap.add_argument("--cores", type=int, default=2, help="cores of the run, for the projected saving")
    ap.add_argument("--csv", type=Path, help="also write the per-rule table here")
    args = ap.parse_args(argv)

    jobs = read_jobs(args.run_dir)
    if not jobs:
        sys.exit(f"no benchmark files under {args.run_dir / BENCHMARKS}")
    rows = summarise(jobs, args.overhead)
    print("| rule | jobs | median s | total s | CPU s | share | overhead share |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        cpu = "-" if r["cpu_s"] is None else f"{r['cpu_s']:.1f}" + ("" if r["cpu_jobs"] == r["jobs"] else "*")
        print(f"| {r['rule']} | {r['jobs']} | {r['median_s']:.2f} | {r['total_s']:.1f} | {cpu} | "
              f"{r['share']:.1%} | {r['overhead_share']:.0%} |")
    total = sum(j["wall"] for j in jobs)
    cpus = [j["cpu"] for j in jobs if j["cpu"] is not None]
    first = min(jobs, key=lambda j: j["end"] - j["wall"])
    span = max(j["end"] for j in jobs) - (first["end"] - first["wall"])
    fixed = len(jobs) * args.overhead
    print(f"\n{len(jobs)} jobs, {total:.1f} s of job wall time ({total / args.cores:.1f} s on {args.cores} cores), "
          f"{sum(cpus):.1f} s CPU recorded for {len(cpus)} jobs (* = some jobs not sampled)")
    print(f"span, first job start to last job end: {span:.1f} s")
    print(f"fixed cost at {args.overhead:.2f} s per job: {fixed:.1f} s of job time ({fixed / total:.0%}), "
          f"{fixed / args.cores:.1f} s of the span on {args.cores} cores; each 1 s saved per job saves about "
          f"{len(jobs) / args.cores:.0f} s of the span")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()

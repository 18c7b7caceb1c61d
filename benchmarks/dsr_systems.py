"""Reconstruction of Lorenz-63 and Rössler by AL-RNNs with few ReLU units (experiment, not a test).

For each system: training and held-out trajectories simulated here (dsr.systems), standardised; for each
number of ReLU units P and seed an AL-RNN (M units) fitted by sparse teacher forcing
(dsr.training.fit_trajectories), then run freely from the held-out trajectory's first observation and
scored as the workflow's dsr stage scores it (stages.dsr.evaluate): D_stsp, D_H, regions visited and the
topological entropy of the symbolic graph. Printed per fit and as medians over seeds, with the minimal P
reported by Brenner et al. (2024) beside them (Rössler 1, Lorenz-63 2).

    python benchmarks/dsr_systems.py --seeds 0 1 --csv dsr_systems.csv
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from altrnn.dsr.systems import simulate  # noqa: E402
from altrnn.dsr.training import TeacherForcingConfig, fit_trajectories  # noqa: E402
from altrnn.stages.dsr import PUBLISHED_MIN_P, evaluate, model_config  # noqa: E402

SYSTEMS = {"lorenz63": {"dt": 0.02, "P": [0, 1, 2, 4]}, "rossler": {"dt": 0.1, "P": [0, 1, 2]}}


def data(name: str, dt: float, n_train: int, n_test: int) -> dict:
    train = simulate(name, n_train, dt=dt, seed=0, rtol=1e-9, atol=1e-9)
    test = simulate(name, n_test, dt=dt, seed=1000, rtol=1e-9, atol=1e-9)
    mu, sd = train.mean(0), train.std(0)
    return {"train": ((train - mu) / sd)[:, None], "test": ((test - mu) / sd)[:, None]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n-latent", type=int, default=20)
    parser.add_argument("--iters", type=int, default=4000)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-test", type=int, default=8000)
    parser.add_argument("--csv", default=None)
    args = parser.parse_args(argv)
    threadpool_limits(1)
    tf = TeacherForcingConfig(sequence_length=40, forcing_interval=10, batch_size=32, lr=1e-2, lr_final=1e-4,
                              max_iters=args.iters, log_every=args.iters)
    rows = []
    for name, spec in SYSTEMS.items():
        d = data(name, spec["dt"], args.n_train, args.n_test)
        for P in spec["P"]:
            for seed in args.seeds:
                settings = {"n_latent": args.n_latent, "n_relu": P, "dtype": "float64"}
                cfg = model_config(3, 0, settings)
                t0 = time.perf_counter()
                res = fit_trajectories(d["train"], cfg, tf, seed=seed)
                seconds = time.perf_counter() - t0
                scores, _ = evaluate(res.params, cfg, d, n_bins=10, sigma=2.0)
                row = {"system": name, "dt": spec["dt"], "P": P, "seed": seed, **scores["test"],
                       "final_loss": res.final_loss, "seconds": seconds, "published_min_P": PUBLISHED_MIN_P[name]}
                rows.append(row)
                print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                      flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    summary = table.groupby(["system", "P"]).agg(
        d_stsp=("d_stsp", "median"), d_h=("d_h", "median"), n_regions=("n_regions", "median"),
        entropy=("entropy", "median"), seconds=("seconds", "median"), published_min_P=("published_min_P", "first"))
    print("\nmedians over seeds", args.seeds)
    print(summary.to_string(float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()

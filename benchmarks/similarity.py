"""Time a full similarity matrix (altrnn.analysis.similarity.pairwise) for each metric.

Trajectories: noise-free rates of randomly initialised networks (g = 1.5, tanh)
on one shared flip-flop batch, (T, B, N) = (100, 64, 64) by default. For each
metric and number of networks n (10, 20, 40) the script times

- prepare: the per-network step (centring, RDM, shape normalisation, DMD fit),
  n calls;
- compare: the n (n + 1) / 2 unordered pairs, diagonal included (all four
  metrics are symmetric);

and prints medians over repeats of the process CPU time (with one thread this
is the compute time, and it is far less disturbed than wall time when other
jobs share the cores; wall time is printed beside it), the time per network
and per pair, and two
ratios measured in the same run: t_compare(n) / t_compare(n/2) against the
pair-count ratio (about 3.9; quadratic scaling), and the prepare share of the
whole matrix at the largest n.

    python benchmarks/similarity.py --threads 1
    python benchmarks/similarity.py --n-nets 10 20 40 --repeats 3 --dsa-repeats 1 --csv sim.csv
"""

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from altrnn.analysis.similarity import METRICS
from altrnn.model import ModelConfig, forward, init_params
from altrnn.tasks import make_task


def trajectories(n_nets, T, B, N, seed=0):
    task = make_task("flipflop", {"T": T})
    batch = task.batch(B, np.random.default_rng(seed))
    cfg = ModelConfig(n_in=task.n_in, n_rec=N, n_out=task.n_out, dtype="float64")
    out = {}
    for k in range(n_nets):
        params = init_params(cfg, 1.5, np.random.default_rng([seed, k])).astype(np.float64)
        out[f"net{k:02d}"] = forward(params, cfg, batch.inputs).r[1:]
    return out


def time_matrix(metric, states, options):
    """Wall and CPU seconds (prepare_wall, compare_wall, prepare_cpu, compare_cpu) of one full matrix."""
    prep_opts = {k: v for k, v in options.items() if k in metric.prepare_options}
    names = list(states)
    w0, c0 = time.perf_counter(), time.process_time()
    features = [metric.prepare(states[name], **prep_opts) for name in names]
    w1, c1 = time.perf_counter(), time.process_time()
    for i in range(len(names)):
        for j in range(i, len(names)):
            metric.compare(features[i], features[j])
    w2, c2 = time.perf_counter(), time.process_time()
    return w1 - w0, w2 - w1, c1 - c0, c2 - c1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-nets", type=int, nargs="+", default=[10, 20, 40])
    ap.add_argument("--shape", type=int, nargs=3, default=[100, 64, 64], metavar=("T", "B", "N"))
    ap.add_argument("--metrics", nargs="+", default=list(METRICS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dsa-repeats", type=int, default=1, help="repeats for dsa (its compare step is slow)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--csv")
    args = ap.parse_args()

    T, B, N = args.shape
    states = trajectories(max(args.n_nets), T, B, N)
    names = list(states)
    rows = []
    with threadpool_limits(args.threads):
        # warm-up: numba kernels (DSA) and BLAS threads
        for name in args.metrics:
            time_matrix(METRICS[name], {k: states[k] for k in names[:2]}, {})
        print(f"(T, B, N) = ({T}, {B}, {N}), threads = {args.threads}")
        for name in args.metrics:
            metric = METRICS[name]
            reps = args.dsa_repeats if name == "dsa" else args.repeats
            for n in sorted(args.n_nets):
                runs = [time_matrix(metric, {k: states[k] for k in names[:n]}, {}) for _ in range(reps)]
                prep_w, comp_w, prep, comp = (statistics.median(r[i] for r in runs) for i in range(4))
                pairs = n * (n + 1) // 2
                rows.append({"metric": name, "n_nets": n, "pairs": pairs, "prepare_s": prep, "compare_s": comp,
                             "total_s": prep + comp, "prepare_ms_per_net": 1e3 * prep / n,
                             "compare_ms_per_pair": 1e3 * comp / pairs, "prepare_wall_s": prep_w,
                             "compare_wall_s": comp_w, "repeats": reps})
                r = rows[-1]
                print(f"{name:>10} n={n:3d}: prepare {prep:8.3f} s ({r['prepare_ms_per_net']:7.2f} ms/net), "
                      f"compare {comp:8.3f} s ({r['compare_ms_per_pair']:7.3f} ms/pair), total {prep + comp:8.3f} s "
                      f"[wall {prep_w + comp_w:8.3f} s]", flush=True)
    table = pd.DataFrame(rows)
    print("\nscaling (measured ratio vs the ratio of pair counts / network counts):")
    for name, group in table.groupby("metric", sort=False):
        group = group.set_index("n_nets")
        ns = sorted(group.index)
        for small, big in zip(ns, ns[1:]):
            tc = group.loc[big, "compare_s"] / group.loc[small, "compare_s"]
            tp = group.loc[big, "prepare_s"] / group.loc[small, "prepare_s"]
            pc = group.loc[big, "pairs"] / group.loc[small, "pairs"]
            print(f"{name:>10} {small:3d} -> {big:3d}: compare x{tc:5.2f} (pairs x{pc:4.2f}), "
                  f"prepare x{tp:5.2f} (nets x{big / small:4.2f})")
        top = group.loc[ns[-1]]
        print(f"{name:>10} n={ns[-1]}: prepare share of the matrix {top['prepare_s'] / top['total_s']:.3f}")
    if args.csv:
        table.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()

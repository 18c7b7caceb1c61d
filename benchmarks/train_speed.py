"""Speed of one training iteration of altrnn, against a GEMM roofline measured in the same run.

One iteration is what the trainer does per step: draw a flip-flop batch, draw the
recurrent noise, loss_and_grad (forward + BPTT), clip the gradient norm and take
an Adam step. Each part is timed separately with time.perf_counter; figures are
medians over --repeats iterations after --warmup iterations.

The roofline is the time of the matrix products of one iteration done alone:
T products (B,N)@(N,N) for the forward pass, T for the backward pass, and the
weight-gradient product (N,T*B)@(T*B,N), i.e. 6*B*N^2*T flops. It is timed with
numpy (column roof_ms, the reference) and, for comparison, through the
numba-linked BLAS that training itself uses (roof_nb_ms). The small products
with the n_in = n_out = 3 input and output weights are left out of both.

    python benchmarks/train_speed.py --threads 1 --csv speed_t1.csv
    python benchmarks/train_speed.py --threads 2 --shapes 256,64,500 --dtypes float32
    python benchmarks/train_speed.py --fast-tanh --dtypes float64   # model.fast_tanh
    python benchmarks/train_speed.py --threads 1 2 --shapes 256,64,500 --dtypes float32 --repeats 21

With several thread counts, every repeat runs them in turn (numba and BLAS limits switched
between them), so that load from other processes falls on all alike; `speedup` is the first
count's median iteration time over this row's.
"""

import argparse
import os
from contextlib import contextmanager
import platform
import sys
import time

import numpy as np

DEFAULT_SHAPES = ("64,64,100", "128,128,200", "256,64,500")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=7, help="timed iterations per configuration (median reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed iterations before the timed ones")
    p.add_argument("--threads", type=int, nargs="+", default=[1],
                   help="numba threads and BLAS threads (all BLAS libraries); several: interleaved")
    p.add_argument("--shapes", nargs="+", default=list(DEFAULT_SHAPES), metavar="N,B,T",
                   help="network size, batch size and trial length (default: %(default)s)")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    p.add_argument("--pause", type=float, default=0.2,
                   help="seconds of sleep between the iteration and the roofline timings, so that spinning "
                        "BLAS worker threads of one library go idle before the other library is timed")
    p.add_argument("--limit-before-load", action="store_true",
                   help="set the BLAS thread limit before the numba kernels (and with them the BLAS numba "
                        "links to) are loaded, as a process that sets its limits first and trains later does; "
                        "shows what happens when the limit misses that BLAS")
    p.add_argument("--fast-tanh", action="store_true", help="model.fast_tanh: vectorised tanh in float64")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--csv", help="also write the table to this CSV file")
    args = p.parse_args(argv)
    try:
        args.shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes]
    except ValueError:
        p.error("--shapes takes N,B,T triples such as 256,64,500")
    if any(len(s) != 3 or min(s) < 1 for s in args.shapes):
        p.error("--shapes takes N,B,T triples of positive integers")
    if args.repeats < 1 or min(args.threads) < 1 or args.warmup < 0:
        p.error("--repeats and --threads must be >= 1, --warmup >= 0")
    return args


def load_kernels():
    """Compile or load every numba kernel (both dtypes) before any thread limit is set.

    The numba-linked BLAS (scipy's OpenBLAS) is only loaded into the process by the
    first kernel call; a threadpool limit set before that does not reach it.
    """
    from altrnn.model import ModelConfig, init_params, recurrent_noise
    from altrnn.train.adam import Adam, clip_by_global_norm
    from altrnn.train.objective import loss_and_grad

    rng = np.random.default_rng(0)
    for dtype in ("float32", "float64"):
        cfg = ModelConfig(3, 4, 3, dtype=dtype)
        params = init_params(cfg, 1.0, rng)
        u = rng.standard_normal((3, 2, 3))
        terms, grads, _ = loss_and_grad(params, cfg, u, u, np.ones_like(u), recurrent_noise(cfg, (3, 2, 4), rng))
        clip_by_global_norm(grads, 1.0)
        Adam(params, 1e-3).step(params, grads)


def blas_threads():
    from threadpoolctl import threadpool_info

    return {os.path.basename(i["filepath"]): i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def median_ms(values):
    return float(np.median(values)) * 1e3


def time_config(N, B, T, dtype, args, limit):
    """Medians (ms) of the parts of a training iteration and of the two rooflines, one row per thread count;
    limit(k) is a context with numba and BLAS at k threads."""
    from altrnn.model import ModelConfig, Workspace, init_params, recurrent_noise
    from altrnn.model.kernels import matmul
    from altrnn.tasks import make_task
    from altrnn.train.adam import Adam, clip_by_global_norm
    from altrnn.train.objective import loss_and_grad

    clock = time.perf_counter
    rng = np.random.default_rng(args.seed)
    task = make_task("flipflop", {"T": T})
    cfg = ModelConfig(task.n_in, N, task.n_out, dtype=dtype, fast_tanh=args.fast_tanh)
    params = init_params(cfg, 0.9, rng)
    opt = Adam(params, 1e-3)
    workspace = Workspace()  # as the trainer does: buffers reused across iterations

    def iteration():
        t0 = clock()
        batch = task.batch(B, rng)
        t1 = clock()
        noise = recurrent_noise(cfg, (T, B, N), rng, workspace)
        t2 = clock()
        _, grads, _ = loss_and_grad(params, cfg, batch.inputs, batch.targets, batch.mask, noise,
                                    workspace=workspace)
        t3 = clock()
        clip_by_global_norm(grads, 1.0)
        opt.step(params, grads)
        t4 = clock()
        return t4 - t0, t1 - t0, t2 - t1, t3 - t2, t4 - t3

    # Operands of the roofline with the layouts training uses: rows of a (T, B, N)
    # array times an (N, N) matrix, and delta.T @ r for the weight gradient.
    dt = np.dtype(dtype)
    R = rng.standard_normal((T + 1, B, N)).astype(dt)
    D = rng.standard_normal((T, B, N)).astype(dt)
    W = np.ascontiguousarray(params.W)
    W_T = np.ascontiguousarray(W.T)
    h = np.empty((B, N), dtype=dt)
    D2, R2 = D.reshape(T * B, N), R[:-1].reshape(T * B, N)

    def roofline_numpy():
        t0 = clock()
        for t in range(T):
            np.dot(R[t], W_T, out=h)
        for t in range(T - 1, -1, -1):
            np.dot(D[t], W, out=h)
        np.dot(D2.T, R2)
        return clock() - t0

    def roofline_numba():
        t0 = clock()
        for t in range(T):
            matmul(R[t], W_T)
        for t in range(T - 1, -1, -1):
            matmul(D[t], W)
        matmul(D2.T, R2)
        return clock() - t0

    for k in args.threads:
        with limit(k):
            for _ in range(args.warmup):
                iteration()
            roofline_numpy()
            roofline_numba()
    # Interleave the measurements (and thread counts) so that load from other processes
    # on this (shared, noisy) machine falls on all of them alike.
    times = {k: ([], [], []) for k in args.threads}
    for _ in range(args.repeats):
        for k in args.threads:
            its, roof_np, roof_nb = times[k]
            with limit(k):
                its.append(iteration())
                time.sleep(args.pause)
                roof_np.append(roofline_numpy())
                time.sleep(args.pause)
                roof_nb.append(roofline_numba())
                time.sleep(args.pause)
    return [summary(N, B, T, dtype, args.fast_tanh, k, *times[k]) for k in args.threads]


def summary(N, B, T, dtype, fast_tanh, threads, its, roof_np, roof_nb):
    its = np.array(its)
    total, batch_t, noise_t, lg_t, opt_t = (median_ms(its[:, k]) for k in range(5))
    flops = 6.0 * B * N * N * T
    r_np, r_nb = median_ms(roof_np), median_ms(roof_nb)
    return {
        "N": N, "B": B, "T": T, "dtype": dtype, "fast_tanh": fast_tanh, "threads": threads,
        "iter_ms": total, "batch_ms": batch_t, "noise_ms": noise_t, "lossgrad_ms": lg_t, "optim_ms": opt_t,
        "noise_ns_per_sample": noise_t * 1e6 / (T * B * N),
        "iter_gflops": flops / total / 1e6,
        "lossgrad_gflops": flops / lg_t / 1e6,
        "roof_ms": r_np,
        "roof_gflops": flops / r_np / 1e6,
        "frac_iter": r_np / total,
        "frac_lossgrad": r_np / lg_t,
        "roof_nb_ms": r_nb,
        # Fastest repeat: on a loaded machine, the closest to the undisturbed speed.
        "iter_min_ms": float(its[:, 0].min()) * 1e3,
        "roof_min_ms": float(min(roof_np)) * 1e3,
    }


def main(argv=None):
    args = parse_args(argv)
    import numba
    import pandas as pd
    from importlib.metadata import version
    from threadpoolctl import threadpool_limits

    if not args.limit_before_load:
        load_kernels()

    @contextmanager
    def limit(k):
        numba.set_num_threads(min(k, numba.config.NUMBA_NUM_THREADS))
        with threadpool_limits(limits=k, user_api="blas"):
            yield

    rows = []
    load_before = os.getloadavg()
    with threadpool_limits(limits=args.threads[0], user_api="blas"):
        if args.limit_before_load:
            load_kernels()
        limits = blas_threads()
        print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {version('scipy')}, "
              f"numba {numba.__version__}, cpus {os.cpu_count()}, threads {args.threads} "
              f"(numba up to {numba.config.NUMBA_NUM_THREADS}, BLAS {limits})")
        if any(n != args.threads[0] for n in limits.values()):
            print(f"warning: not every BLAS library runs {args.threads[0]} thread(s): {limits}", file=sys.stderr)
    for N, B, T in args.shapes:
        for dtype in args.dtypes:
            new = time_config(N, B, T, dtype, args, limit)
            for row in new:
                row["speedup"] = new[0]["iter_ms"] / row["iter_ms"]
            rows += new
            print(f"  done N={N} B={B} T={T} {dtype}: " + ", ".join(
                f"{row['iter_ms']:.1f} ms/iteration at {row['threads']} thread(s)" for row in new), file=sys.stderr)
    load_after = os.getloadavg()
    table = pd.DataFrame(rows)
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
          f"median of {args.repeats} repeats after {args.warmup} warm-up iterations")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return table


if __name__ == "__main__":
    main()

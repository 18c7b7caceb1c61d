"""Speed of the fixed-point search of altrnn, against references measured in the same run.

For each size N, a random tanh network with g = 1.5 (chaotic, several fixed
points and many slow regions, so the optimiser runs its whole budget) is run
from random states; n_init initial states are drawn from what it visited, and
find_fixed_points is timed whole (search_s, median over --repeats), with its
phases: the Adam kernel (adam_s), the Newton polish (newton_s), the rest
(deduplication, classification: other_s).

Per Adam iteration, on the full batch (n_init, N), timed over --iters steps:

- kernel_ms: altrnn's fused numba kernel (altrnn.analysis.fixed_points.adam_steps);
- numpy_ms: the same Adam step in vectorised numpy (np.tanh, two products,
  the update as array expressions), the alternative the kernel was chosen over;
- gemm_ms: the two (n_init, N) @ (N, N) float64 products alone, in numpy: the
  roofline no implementation of this step can beat.

speedup = numpy_ms / kernel_ms, roofline = gemm_ms / kernel_ms.

    python benchmarks/fixed_points.py
    python benchmarks/fixed_points.py --sizes 128 256 --n-init 512 --repeats 3
"""

import argparse
import platform
import time

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", type=int, default=[128, 256], help="network sizes N")
    p.add_argument("--n-init", type=int, default=512, help="initial states per search")
    p.add_argument("--max-iters", type=int, default=2000, help="Adam iterations of find_fixed_points")
    p.add_argument("--repeats", type=int, default=3, help="timed searches per size (median reported)")
    p.add_argument("--iters", type=int, default=50, help="Adam steps per timing of the per-iteration figures")
    p.add_argument("--threads", type=int, default=1, help="numba and BLAS threads")
    p.add_argument("--g", type=float, default=1.5, help="init scale of the random networks")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if min(args.sizes) < 2 or args.n_init < 1 or args.repeats < 1 or args.iters < 1 or args.threads < 1:
        p.error("sizes must be >= 2 and --n-init, --repeats, --iters, --threads >= 1")
    return args


def network(N, g, seed):
    from altrnn.analysis.stability import rnn_map
    from altrnn.model import ModelConfig, init_params

    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, dtype="float64")
    params = init_params(cfg, g, np.random.default_rng(seed))
    x = 2 * np.random.default_rng(seed + 1).standard_normal((64, N))
    visited = []
    for t in range(300):
        x = rnn_map(params, cfg, x, np.zeros(1))
        if t >= 100:
            visited.append(x)
    return params, cfg, np.asarray(visited)


def numpy_adam(X, W, c, alpha, lr, steps, b1=0.9, b2=0.999, eps=1e-8):
    """The optimiser's step in vectorised numpy (the reference the kernel is compared with)."""
    M, V = np.zeros_like(X), np.zeros_like(X)
    for t in range(1, steps + 1):
        r = np.tanh(X)
        e = alpha * (r @ W.T + c - X)
        g = alpha * ((1 - r * r) * (e @ W) - e)
        M = b1 * M + (1 - b1) * g
        V = b2 * V + (1 - b2) * g * g
        X = X - lr * (M / (1 - b1 ** t)) / (np.sqrt(V / (1 - b2 ** t)) + eps)
    return X


def median_time(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def main(argv=None):
    args = parse_args(argv)
    from altrnn.stages import runtime
    from altrnn.analysis import fixed_points as fpm

    runtime.configure(args.threads)  # loads the BLAS numba uses before limiting every BLAS
    print(f"# python {platform.python_version()}, numpy {np.__version__}, threads {args.threads}, "
          f"n_init {args.n_init}, max_iters {args.max_iters}, repeats {args.repeats}")
    rows = []
    for N in args.sizes:
        params, cfg, visited = network(N, args.g, args.seed)
        x0 = fpm.sample_initial_states(visited, args.n_init, 0.1, np.random.default_rng(args.seed + 2))
        u = np.zeros(1)
        W = np.ascontiguousarray(params.W)
        W_T = np.ascontiguousarray(W.T)
        c = params.W_in @ u + params.b

        def kernel():
            X = x0.copy()
            fpm.adam_steps(X, np.zeros_like(X), np.zeros_like(X), W, W_T, c, cfg.alpha, 0, 1e-2, 0.9, 0.999,
                           1e-8, 0, args.iters, 0.0, np.empty(X.shape[0]))

        H, G = np.empty_like(x0), np.empty_like(x0)

        def gemms():
            for _ in range(args.iters):
                np.dot(x0, W_T, out=H)
                np.dot(H, W, out=G)

        kernel()  # compile or load from the cache
        per_iter = {}
        for name, f in (("kernel_ms", kernel), ("numpy_ms", lambda: numpy_adam(x0, W, c, cfg.alpha, 1e-2,
                                                                                 args.iters)),
                        ("gemm_ms", gemms)):
            per_iter[name] = 1e3 * median_time(f, 5) / args.iters

        phases = {"adam_s": [], "newton_s": [], "search_s": []}
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            x, q, iters = fpm.minimise_speed(params, cfg, u, x0, max_iters=args.max_iters)
            t1 = time.perf_counter()
            fpm.newton_refine(params, cfg, u, x[fpm.unique_points(x, q, 1e-3)])
            t2 = time.perf_counter()
            fp = fpm.find_fixed_points(params, cfg, u, x0, visited=visited, max_iters=args.max_iters)
            t3 = time.perf_counter()
            phases["adam_s"].append(t1 - t0)
            phases["newton_s"].append(t2 - t1)
            phases["search_s"].append(t3 - t2)
        med = {k: float(np.median(v)) for k, v in phases.items()}
        rows.append({
            "N": N, "n_init": args.n_init, "adam_iters": fp.info["adam_iters"],
            "n_fixed": int(np.sum(fp.kind == "fixed")), "n_slow": int(np.sum(fp.kind == "slow")),
            "search_s": med["search_s"], "adam_s": med["adam_s"], "newton_s": med["newton_s"],
            "other_s": med["search_s"] - med["adam_s"] - med["newton_s"],
            **per_iter,
            "speedup": per_iter["numpy_ms"] / per_iter["kernel_ms"],
            "roofline": per_iter["gemm_ms"] / per_iter["kernel_ms"],
        })

    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()

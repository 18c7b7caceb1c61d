"""Speed of the recurrent noise: the counter-based generator against numpy, and its share of an iteration.

Per shape and dtype, interleaved in the same process (medians over --repeats):

- ns per sample of `kernels.normal_fill` (column gen_ns) and of numpy's
  `Generator.standard_normal` into the same array (numpy_ns, the reference the
  trainer used before); speedup = numpy_ns / gen_ns;
- one training iteration (batch, recurrent_noise, loss_and_grad, clipping, Adam)
  with sigma_rec = 0.05 (noisy_ms) and with sigma_rec = 0 (quiet_ms, no noise
  drawn or added); cost = noisy_ms / quiet_ms.

    python benchmarks/noise_speed.py --threads 1
    python benchmarks/noise_speed.py --threads 2 --shapes 256,64,500 --dtypes float32
"""

import argparse
import time

import numpy as np

from iteration import iteration_timer, run_with_threads  # benchmarks/iteration.py


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1, help="numba and BLAS threads")
    p.add_argument("--shapes", nargs="+", default=["64,64,100", "256,64,500"], metavar="N,B,T")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=9)
    args = p.parse_args(argv)
    args.shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes]
    return args


def time_config(N, B, T, dtype, repeats):
    from altrnn.model import ModelConfig, kernels
    from altrnn.tasks import make_task

    clock = time.perf_counter
    rng = np.random.default_rng(0)
    task = make_task("flipflop", {"T": T})
    out = np.empty((T, B, N), dtype=dtype)
    steps = {}
    for sigma in (0.05, 0.0):
        cfg = ModelConfig(task.n_in, N, task.n_out, dtype=dtype, sigma_rec=sigma)
        steps[sigma] = iteration_timer(task, cfg, B, rng, clock)

    def gen():
        t0 = clock()
        kernels.normal_fill(rng.integers(2**64, dtype=np.uint64), out)
        return clock() - t0

    def ref():
        t0 = clock()
        rng.standard_normal(dtype=dtype, out=out)
        return clock() - t0

    runs = {"gen": gen, "ref": ref, "noisy": steps[0.05], "quiet": steps[0.0]}
    for f in runs.values():  # warm-up (and compilation)
        f()
    times = {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items():
            times[k].append(f())
    med = {k: float(np.median(v)) for k, v in times.items()}
    size = T * B * N
    return {"N": N, "B": B, "T": T, "dtype": dtype, "gen_ns": med["gen"] / size * 1e9,
            "numpy_ns": med["ref"] / size * 1e9, "speedup": med["ref"] / med["gen"],
            "noisy_ms": med["noisy"] * 1e3, "quiet_ms": med["quiet"] * 1e3, "cost": med["noisy"] / med["quiet"]}


def main(argv=None):
    args = parse_args(argv)
    import pandas as pd

    rows, load, load_after = run_with_threads(
        args.threads, lambda: [time_config(N, B, T, dt, args.repeats) for N, B, T in args.shapes for dt in args.dtypes])
    print(f"threads {args.threads}, load average (1 min) {load:.2f} -> {load_after:.2f}, "
          f"medians of {args.repeats} interleaved repeats")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()

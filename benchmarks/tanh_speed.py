"""Speed of model.fast_tanh: float64 training iterations with libm's tanh and with kernels.tanh_vec.

Per shape, interleaved in one process, CPU time (time.process_time, steadier than
wall time on a loaded machine for one thread), medians over --repeats:

- one training iteration (batch, recurrent noise, loss_and_grad, clipping, Adam)
  in float32 (f32_ms), float64 (f64_ms) and float64 with fast_tanh (fast_ms);
  ratios f64 / f32, fast / f32 and f64 / fast;
- the GEMM roofline of train_speed.py in float64 (roof_ms: the 2T step products and
  the weight-gradient product with numpy) and its fraction of an iteration, with
  and without fast_tanh (frac_f64, frac_fast);
- ns per element of float64 tanh alone over a (T, B, N) array: libm (libm_ns) and
  tanh_vec (vec_ns).

    python benchmarks/tanh_speed.py --repeats 9
"""

import argparse
import time

import numpy as np
from numba import njit

from altrnn.model.kernels import tanh_fast, tanh_vec  # tanh_fast is libm's tanh in float64
from iteration import iteration_timer, run_with_threads  # benchmarks/iteration.py


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", nargs="+", default=["64,64,100", "256,64,500"], metavar="N,B,T")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--threads", type=int, default=1, help="numba and BLAS threads")
    args = p.parse_args(argv)
    args.shapes = [tuple(int(v) for v in s.split(",")) for s in args.shapes]
    return args


@njit(error_model="numpy")  # as the kernels: no division checks, so the loop vectorises
def _apply_vec(x, out):
    for i in range(x.size):
        out[i] = tanh_vec(x[i])


@njit(error_model="numpy")
def _apply_libm(x, out):
    for i in range(x.size):
        out[i] = tanh_fast(x[i])


def time_config(N, B, T, repeats):
    from altrnn.model import ModelConfig
    from altrnn.tasks import make_task

    clock = time.process_time
    rng = np.random.default_rng(0)
    task = make_task("flipflop", {"T": T})
    runs = {}
    for name, dtype, fast in (("f32", "float32", False), ("f64", "float64", False), ("fast", "float64", True)):
        cfg = ModelConfig(task.n_in, N, task.n_out, dtype=dtype, fast_tanh=fast)
        runs[name] = iteration_timer(task, cfg, B, rng, clock)

    R, D = rng.standard_normal((T + 1, B, N)), rng.standard_normal((T, B, N))
    W = rng.standard_normal((N, N))
    W_T, h = np.ascontiguousarray(W.T), np.empty((B, N))

    def roof():
        t0 = clock()
        for t in range(T):
            np.dot(R[t], W_T, out=h)
        for t in range(T - 1, -1, -1):
            np.dot(D[t], W, out=h)
        np.dot(D.reshape(T * B, N).T, R[:-1].reshape(T * B, N))
        return clock() - t0

    x64 = 2 * R.ravel()
    out64 = np.empty_like(x64)

    def elementwise(x, out, vec):
        def f():
            t0 = clock()
            (_apply_vec if vec else _apply_libm)(x, out)
            return clock() - t0
        return f

    runs.update(roof=roof, libm=elementwise(x64, out64, False), vec=elementwise(x64, out64, True))
    for f in runs.values():  # warm-up (and compilation)
        f()
    times = {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items():
            times[k].append(f())
    m = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
    ns = 1e6 / x64.size
    return {"N": N, "B": B, "T": T, "f32_ms": m["f32"], "f64_ms": m["f64"], "fast_ms": m["fast"],
            "f64/f32": m["f64"] / m["f32"], "fast/f32": m["fast"] / m["f32"], "f64/fast": m["f64"] / m["fast"],
            "roof_ms": m["roof"], "frac_f64": m["roof"] / m["f64"], "frac_fast": m["roof"] / m["fast"],
            "libm_ns": m["libm"] * ns, "vec_ns": m["vec"] * ns}


def main(argv=None):
    args = parse_args(argv)
    import pandas as pd

    rows, load, load_after = run_with_threads(args.threads, lambda: [time_config(N, B, T, args.repeats) for N, B, T in args.shapes])
    print(f"threads {args.threads}, load average (1 min) {load:.2f} -> {load_after:.2f}, "
          f"CPU-time medians of {args.repeats} interleaved repeats")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()

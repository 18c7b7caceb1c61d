"""Speed of the AL-RNN (model.activation alrnn) against the ReLU network: one training iteration each.

Per shape and dtype, interleaved in one process, CPU time (time.process_time), medians over --repeats:
one flip-flop training iteration (batch, noise, loss_and_grad, clipping, Adam) of a ReLU network
(relu_ms) and of an AL-RNN with P = N/2 ReLU units (alrnn_ms), and their ratio alrnn / relu.

    python benchmarks/alrnn_speed.py --repeats 21
"""

import argparse
import time

import numpy as np

from iteration import iteration_timer, run_with_threads  # benchmarks/iteration.py


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", nargs="+", default=["64,64,100"], metavar="N,B,T")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=21)
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def measure(args):
    from altrnn.model import ModelConfig
    from altrnn.tasks import make_task

    rows = []
    for shape in args.shapes:
        N, B, T = map(int, shape.split(","))
        task = make_task("flipflop", {"n_bits": 3, "T": T})
        for dtype in args.dtypes:
            common = dict(n_in=task.n_in, n_rec=N, n_out=task.n_out, dtype=dtype)
            steps = {"relu": iteration_timer(task, ModelConfig(activation="relu", **common), B,
                                             np.random.default_rng(0), time.process_time),
                     "alrnn": iteration_timer(task, ModelConfig(activation="alrnn", n_relu=N // 2, **common), B,
                                              np.random.default_rng(0), time.process_time)}
            for step in steps.values():  # compile / load the kernels, warm the caches
                step(), step()
            times = {k: [] for k in steps}
            for _ in range(args.repeats):
                for k, step in steps.items():
                    times[k].append(step())
            relu, alrnn = (1e3 * float(np.median(times[k])) for k in ("relu", "alrnn"))
            rows.append((shape, dtype, relu, alrnn, alrnn / relu))
    return rows


def main(argv=None):
    args = parse_args(argv)
    rows, load0, load1 = run_with_threads(args.threads, lambda: measure(args))
    print(f"# threads {args.threads}, repeats {args.repeats}, 1-min load {load0:.1f} -> {load1:.1f}")
    print(f"{'N,B,T':>12} {'dtype':>8} {'relu_ms':>8} {'alrnn_ms':>9} {'alrnn/relu':>10}")
    for shape, dtype, relu, alrnn, ratio in rows:
        print(f"{shape:>12} {dtype:>8} {relu:8.2f} {alrnn:9.2f} {ratio:10.2f}")


if __name__ == "__main__":
    main()

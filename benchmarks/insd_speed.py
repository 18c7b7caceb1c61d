"""Speed of an INSD training iteration against a plain one, per part (and optionally against older INSD code).

An INSD iteration is a plain one (flip-flop batch, recurrent noise, loss_and_grad,
gradient clipping, Adam step) plus the penalty factory (the frozen earlier
networks' forward passes on the batch, the penalty storing their centred
rates) and the penalty inside loss_and_grad. Defaults: the default config's
INSD settings (lambda 2, rho 1e-3 relative) and model (float32, sigma_rec
0.05), B = 64, T = 100, two earlier networks. --old loads the altrnn/insd
package of another checkout (e.g. `git archive <commit> src | tar -x -C
/tmp/old_insd`) on top of this checkout's model code, so that only the INSD
code differs. Plain, new (and old) iterations and every part are timed
interleaved in one process, one repeat of each after the other; figures are
medians over --repeats.

    NUMBA_NUM_THREADS=1 python benchmarks/insd_speed.py --repeats 25 [--old /tmp/old_insd/src] [--csv FILE]
"""

import argparse
import importlib.util
import os
import sys
import time

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", help="src directory of another checkout: its altrnn/insd is timed as 'old'")
    p.add_argument("--sizes", nargs="+", type=int, default=[64, 128], help="network sizes N")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--earlier", type=int, default=2, help="number of earlier networks")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--lam", type=float, default=2.0)
    p.add_argument("--rho", type=float, default=1e-3)
    p.add_argument("--rho-mode", default="relative", choices=["absolute", "relative"])
    p.add_argument("--repeats", type=int, default=25)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="BLAS and numba threads")
    p.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                   help="wall time, or this process's CPU time (less inflated on a loaded machine; 1 thread only)")
    p.add_argument("--csv", help="also write the table to this CSV file")
    return p.parse_args(argv)


def load_old(src):
    """The altrnn/insd package under src as altrnn._old_insd (its `..model` imports: this checkout's)."""
    import altrnn.insd

    name = "altrnn._old_insd"
    folder = os.path.join(src, "altrnn", "insd")
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    assert module.__file__ != altrnn.insd.__file__
    return module


def time_config(N, args, old):
    from scipy.linalg.blas import dgemm, dsyrk

    from altrnn.insd import INSDPenalty, insd_penalty_factory
    from altrnn.insd.kernels import centre_into
    from altrnn.io import SavedModel
    from altrnn.model import ModelConfig, Workspace, forward, init_params, recurrent_noise
    from altrnn.tasks import make_task
    from altrnn.train.adam import Adam, clip_by_global_norm
    from altrnn.train.objective import loss_and_grad

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    insd = (args.lam, args.rho, args.rho_mode)
    rng = np.random.default_rng(0)
    task = make_task("flipflop", {"T": args.T})
    cfg = ModelConfig(task.n_in, N, task.n_out, dtype=args.dtype)
    earlier = {f"alt{k}": SavedModel(init_params(cfg, 0.9, rng), cfg, {}) for k in range(args.earlier)}
    factories = {"new": insd_penalty_factory(earlier, *insd)}
    if old is not None:
        factories["old"] = old.insd_penalty_factory(earlier, *insd)
    runs = {}
    for kind in ("plain", *factories):
        params = init_params(cfg, 0.9, np.random.default_rng(1))
        runs[kind] = (params, Adam(params, 1e-3), Workspace())

    def iteration(kind):
        params, opt, workspace = runs[kind]
        t0 = clock()
        batch = task.batch(args.batch, rng)
        noise = recurrent_noise(cfg, (args.T, args.batch, N), rng, workspace)
        t1 = clock()
        penalty = None if kind == "plain" else factories[kind](batch.inputs, 0)
        t2 = clock()
        _, grads, _ = loss_and_grad(params, cfg, batch.inputs, batch.targets, batch.mask, noise,
                                    penalty=penalty, workspace=workspace)
        t3 = clock()
        clip_by_global_norm(grads, 1.0)
        opt.step(params, grads)
        t4 = clock()
        return t4 - t0, t2 - t1, t3 - t2

    # fixed operands for the parts of the current code, as its factory and __call__ use them
    batch = task.batch(args.batch, rng)
    params = runs["plain"][0]
    traj = forward(params, cfg, batch.inputs)
    R = traj.r[1:].reshape(-1, N)
    forwards = {name: Workspace() for name in earlier}
    earlier_rates = {name: forward(net.params, cfg, batch.inputs).r[1:].copy() for name, net in earlier.items()}
    W_outs = {name: net.params.W_out for name, net in earlier.items()}
    ws = Workspace()
    pen = INSDPenalty(earlier_rates, *insd, readouts=W_outs, workspace=ws)
    Rc, Rc32 = pen._pair("rates", N)
    centre_into(R, Rc, Rc32, 0, np.zeros((0, N)))
    gram = dsyrk(1.0, Rc.T)
    gram = np.triu(gram) + np.triu(gram, 1).T
    C = dgemm(1.0, Rc.T, pen.Ye.T, trans_b=1)
    Q = np.linalg.qr(params.W_out.T.astype(np.float64))[0]
    F0, FE, _, _ = pen.solve(gram, C, Q)

    parts = {
        "earlier_forward": lambda: [forward(net.params, cfg, batch.inputs, workspace=forwards[name])
                                    for name, net in earlier.items()],
        "earlier_store": lambda: INSDPenalty(earlier_rates, *insd, readouts=W_outs, workspace=ws),
        "centre": lambda: centre_into(R, Rc, Rc32, 0, np.zeros((0, N))),
        "gram": lambda: (dsyrk(1.0, Rc.T), dgemm(1.0, Rc.T, pen.Ye.T, trans_b=1)),
        "solve": lambda: pen.solve(gram, C, Q),
        "back": lambda: pen._back(Rc, Rc32, F0, FE, traj.r.dtype),
        "penalty_call": lambda: pen(traj, params),
    }
    for _ in range(args.warmup):
        for kind in runs:
            iteration(kind)
        for f in parts.values():
            f()
    its = {kind: [] for kind in runs}
    part_times = {name: [] for name in parts}
    for _ in range(args.repeats):
        for kind in runs:
            its[kind].append(iteration(kind))
        for name, f in parts.items():
            t0 = clock()
            f()
            part_times[name].append(clock() - t0)

    def ms(values):
        return float(np.median(values)) * 1e3

    row = {"N": N, "B": args.batch, "T": args.T, "earlier": args.earlier, "dtype": args.dtype}
    for kind in runs:
        a = np.array(its[kind])
        row[f"{kind}_iter_ms"] = ms(a[:, 0])
        if kind != "plain":
            row[f"{kind}_factory_ms"] = ms(a[:, 1])
        row[f"{kind}_lossgrad_ms"] = ms(a[:, 2])
    for kind in factories:  # ratios of the medians, and the median of the per-repeat ratios
        row[f"{kind}_ratio"] = row[f"{kind}_iter_ms"] / row["plain_iter_ms"]
        row[f"{kind}_ratio_paired"] = float(np.median(np.array(its[kind])[:, 0] / np.array(its["plain"])[:, 0]))
    row.update({f"{name}_ms": ms(v) for name, v in part_times.items()})
    return row


def main(argv=None):
    args = parse_args(argv)
    import numba
    import pandas as pd
    from threadpoolctl import threadpool_limits

    old = load_old(args.old) if args.old else None
    from altrnn.model.kernels import matmul

    matmul(np.ones((2, 2)), np.ones((2, 2)))  # load the BLAS numba links to before limiting threads
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    rows = []
    load_before = os.getloadavg()
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for N in args.sizes:
            rows.append(time_config(N, args, old))
            print(f"  done N={N}", file=sys.stderr)
    load_after = os.getloadavg()
    table = pd.DataFrame(rows)
    print(f"old code: {old.__file__ if old else 'none'}; threads {args.threads}; {args.clock} clock; load average "
          f"(1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f}; medians of {args.repeats} interleaved repeats")
    print(table.T.to_string(float_format=lambda v: f"{v:.3g}"))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return table


if __name__ == "__main__":
    main()

"""Speed of an INSD training iteration against a plain one, per part, old penalty code against new.

An INSD iteration is a plain one (flip-flop batch, recurrent noise, loss_and_grad,
gradient clipping, Adam step) plus the penalty factory (the frozen earlier
networks' forward passes on the batch) and the penalty inside loss_and_grad.
The old implementation is loaded from a checkout of an earlier commit
(--old, e.g. made with `git worktree add /tmp/old_insd <commit>`): its
altrnn/insd/penalty.py runs on top of this checkout's model code, so only
the penalty differs. Everything is timed interleaved in one process, one
repeat of each after the other; figures are medians over --repeats.

    python benchmarks/insd_speed.py --old /tmp/old_insd/src --threads 1 --csv insd_speed.csv
"""

import argparse
import importlib.util
import os
import sys
import time

import numpy as np


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", required=True, help="src directory of the old checkout (holds altrnn/insd/penalty.py)")
    p.add_argument("--sizes", nargs="+", type=int, default=[64, 128], help="network sizes N")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--earlier", type=int, default=2, help="number of earlier networks")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="BLAS and numba threads")
    p.add_argument("--csv", help="also write the table to this CSV file")
    return p.parse_args(argv)


def load_old(src):
    """The old altrnn/insd/penalty.py as module altrnn.insd._old_penalty (its relative imports: this checkout)."""
    import altrnn.insd

    name = "altrnn.insd._old_penalty"
    spec = importlib.util.spec_from_file_location(name, os.path.join(src, "altrnn", "insd", "penalty.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    assert module.__file__ != altrnn.insd.penalty.__file__
    return module


def old_factory(old, earlier, lam, rho, rho_mode):
    """The old insd_penalty_factory: null-space rates formed in float64 for every earlier network."""
    from altrnn.model import forward

    def factory(inputs, iteration):
        targets = {name: old.null_space_rates(forward(net.params, net.config, inputs).r[1:], net.params.W_out)
                   for name, net in earlier.items()}
        return old.INSDPenalty(targets, lam=lam, rho=rho, rho_mode=rho_mode)

    return factory


def old_parts(old, rates, W_out, targets, lam, rho, rho_mode):
    """The stages of the old INSDPenalty.__call__, as callables (targets: its float64 null-space rates)."""
    from altrnn.model.kernels import matmul

    P, B = old._projector_parts(W_out)
    R = old._as_rows(rates)
    Rc = R - R.mean(axis=0)
    gram = matmul(Rc.T, Rc)
    Ds = [matmul(Rc.T, Y) for Y in targets]
    small = np.ones_like(P) / len(P)  # the values of the N x N factors do not change the time

    def gram_products():
        Rc = old._as_rows(rates)
        Rc = Rc - Rc.mean(axis=0)
        return matmul(Rc.T, Rc), [matmul(Rc.T, Y) for Y in targets]

    def solve():
        factor = old._RidgeFactor(P @ gram @ P, rho, rho_mode)
        K = np.zeros_like(gram)
        H = np.zeros_like(gram)
        for Y, D in zip(targets, Ds):
            S, U, K_i = factor.value(P @ D, float(np.vdot(Y, Y)), with_grad=True)
            H += lam * D @ U.T
            K += lam * K_i
        return H + gram @ P @ K, -B @ (H + H.T) @ P

    def back():
        GP = sum(matmul(Y, small) for Y in targets) + matmul(Rc, small)
        return GP - GP.mean(axis=0)

    return gram_products, solve, back


def time_config(N, args, old):
    from altrnn.insd import INSDPenalty, centred_stack, insd_penalty_factory
    from altrnn.insd.penalty import _projector_parts
    from altrnn.io import SavedModel
    from altrnn.model import ModelConfig, Workspace, forward, init_params, recurrent_noise
    from altrnn.model.kernels import matmul
    from altrnn.tasks import make_task
    from altrnn.train.adam import Adam, clip_by_global_norm
    from altrnn.train.objective import loss_and_grad

    clock = time.perf_counter
    lam, rho, rho_mode = 1.0, 1e-3, "relative"
    rng = np.random.default_rng(0)
    task = make_task("flipflop", {"T": args.T})
    cfg = ModelConfig(task.n_in, N, task.n_out, dtype=args.dtype)
    earlier = {f"alt{k}": SavedModel(init_params(cfg, 0.9, rng), cfg, {}) for k in range(args.earlier)}
    factories = {"old": old_factory(old, earlier, lam, rho, rho_mode),
                 "new": insd_penalty_factory(earlier, lam, rho, rho_mode)}
    runs = {}
    for kind in ("plain", "old", "new"):
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

    # fixed operands for the parts
    batch = task.batch(args.batch, rng)
    params = runs["plain"][0]
    traj = forward(params, cfg, batch.inputs)
    rates = traj.r[1:]
    R = rates.reshape(-1, N)
    earlier_rates = {name: forward(net.params, cfg, batch.inputs).r[1:].copy() for name, net in earlier.items()}
    W_outs = {name: net.params.W_out for name, net in earlier.items()}
    old_targets = [old.null_space_rates(earlier_rates[n], W_outs[n]) for n in earlier]
    old_pen = old.INSDPenalty(dict(zip(earlier, old_targets)), lam, rho, rho_mode)
    new_pen = INSDPenalty(earlier_rates, lam, rho, rho_mode, readouts=W_outs)
    old_gram, old_solve, old_back = old_parts(old, rates, params.W_out, old_targets, lam, rho, rho_mode)
    P, _ = _projector_parts(params.W_out)
    Z, norms = centred_stack(R, new_pen.targets)
    G = matmul(Z[:, :N].T, Z)
    F = new_pen.solve(G, P, norms)[0]

    parts = {
        "earlier_forward": lambda: [forward(net.params, cfg, batch.inputs) for net in earlier.values()],
        "old_projection": lambda: [old.null_space_rates(earlier_rates[n], W_outs[n]) for n in earlier],
        "new_projection": lambda: centred_stack(R, new_pen.targets),  # centres R as well
        "old_gram": old_gram,
        "new_gram": lambda: matmul(Z[:, :N].T, Z),
        "old_solve": old_solve,
        "new_solve": lambda: new_pen.solve(G, P, norms),
        "old_back": old_back,
        "new_back": lambda: matmul(Z, F).astype(cfg.np_dtype),
        "old_penalty_call": lambda: old_pen(traj, params),
        "new_penalty_call": lambda: new_pen(traj, params),
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
    for kind in ("old", "new"):  # ratios of the medians, and the median of the per-repeat ratios
        row[f"{kind}_ratio"] = row[f"{kind}_iter_ms"] / row["plain_iter_ms"]
        row[f"{kind}_ratio_paired"] = float(np.median(np.array(its[kind])[:, 0] / np.array(its["plain"])[:, 0]))
    row.update({f"{name}_ms": ms(v) for name, v in part_times.items()})
    return row


def main(argv=None):
    args = parse_args(argv)
    import numba
    import pandas as pd
    from threadpoolctl import threadpool_limits

    old = load_old(args.old)
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
    print(f"old code: {old.__file__}; threads {args.threads}; load average (1 min) before {load_before[0]:.2f}, "
          f"after {load_after[0]:.2f}; medians of {args.repeats} interleaved repeats")
    print(table.T.to_string(float_format=lambda v: f"{v:.3g}"))
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return table


if __name__ == "__main__":
    main()

"""How far the exact ReLU analyses go in N, and how complete the search is on a trained network.

Scale. For each size N a random competitive ReLU network (self-excitation 0.9,
random mutual inhibition of scale 3/sqrt(N), biases 1 + 0.3 noise, a = 0.2: bounded,
with several stable fixed points and saddles) is iterated from random states and
`plrnn.find_cycles` (SCYFI-style, its defaults) is timed from those visited
states, for max_period 1 and 2 (search_s, the median over --repeats; systems =
region sequences solved; ms_per_system = search_s / systems). Then
`manifolds_nd.grow_manifold` (defaults: 64 support points, 20 steps, at most
100 pieces) builds the stable and the unstable manifold of the first saddle
found (manifold_s; pieces; the manifold's dimension). Every time comes with its
ratio to the smallest N measured in the same run (x_ref). At the smallest N
(<= 16) the search is also checked against the brute-force enumeration of all
2^N regions (enumerate_s, and found/all).

Coverage. On one trained ReLU network (--model model.npz, or a 3-bit flip-flop
trained here, N = 64) find_cycles runs with --reruns seeds from the same
visited states; every point of every run is matched (distance < 1e-6 of the
state's scale) against the first run's: new = points a rerun found that the
first missed; union = distinct points over all runs; first/union = the share
the first run had.

    python benchmarks/relu_search_scale.py
    python benchmarks/relu_search_scale.py --sizes 16 32 64 128 --repeats 3 --reruns 10
    python benchmarks/relu_search_scale.py --model results/flipflop_relu/nets/ref/model.npz
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", type=int, default=[16, 32, 64, 128], help="network sizes N")
    p.add_argument("--repeats", type=int, default=3, help="timed searches per size (median reported)")
    p.add_argument("--reruns", type=int, default=8, help="searches with other seeds for the coverage")
    p.add_argument("--model", help="model.npz of a trained ReLU network for the coverage (default: train one)")
    p.add_argument("--threads", type=int, default=1, help="numba and BLAS threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-manifolds", action="store_true", help="time the search only")
    args = p.parse_args(argv)
    if min(args.sizes) < 2 or args.repeats < 1 or args.reruns < 1 or args.threads < 1:
        p.error("sizes must be >= 2 and --repeats, --reruns, --threads >= 1")
    return args


def competitive_network(N, seed):
    """A bounded ReLU network with several fixed points, and the states it visits (T, B, N)."""
    from altrnn.analysis.stability import rnn_map
    from altrnn.model import ModelConfig, Params

    rng = np.random.default_rng(seed)
    W = 0.9 * np.eye(N) - 3.0 * np.abs(rng.standard_normal((N, N))) / np.sqrt(N)
    cfg = ModelConfig(n_in=1, n_rec=N, n_out=1, activation="relu", alpha=0.2, dtype="float64")
    params = Params(W_in=np.zeros((N, 1)), W=W, b=1 + 0.3 * rng.standard_normal(N), W_out=np.zeros((1, N)),
                    b_out=np.zeros(1))
    x = [np.abs(2 * rng.standard_normal((32, N)))]
    for _ in range(100):
        x.append(rnn_map(params, cfg, x[-1], np.zeros(1)))
    return params, cfg, np.array(x)


def timed(f, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def scale(args):
    from altrnn.analysis import manifolds_nd, plrnn

    u = np.zeros(1)
    rows = []
    for N in args.sizes:
        params, cfg, visited = competitive_network(N, args.seed)
        row = {"N": N}
        for mp in (1, 2):
            t, res = timed(lambda: plrnn.find_cycles(params, cfg, u, visited_states=visited, max_period=mp,
                                                     rng=args.seed), args.repeats)
            systems = sum(res.n_solved.values())
            row[f"p{mp}_s"], row[f"p{mp}_systems"], row[f"p{mp}_found"] = t, systems, len(res)
            row[f"p{mp}_ms_per_system"] = 1e3 * t / systems
            if mp == 1:
                fixed = res
        row["n_saddles"] = sum(st.kind == "saddle" for st in fixed.stability)
        if N <= 16:
            t, brute = timed(lambda: plrnn.enumerate_fixed_points(params, cfg, u), 1)
            row["enumerate_s"], row["found/all"] = t, f"{len(fixed)}/{len(brute)}"
        if not args.skip_manifolds:
            saddle = next((i for i, st in enumerate(fixed.stability) if st.kind == "saddle"), None)
            if saddle is not None:
                system = plrnn.pl_system(params, cfg, u)
                orbit = fixed.orbits[saddle]
                for kind in ("stable", "unstable"):
                    t, m = timed(lambda: manifolds_nd.grow_manifold(system, orbit, kind, rng=args.seed),
                                 args.repeats)
                    row[f"{kind}_manifold_s"], row[f"{kind}_pieces"] = t, len(m.pieces)
                    row[f"{kind}_dim"] = m.dimension
        rows.append(row)
        print(f"  N={N} done", file=sys.stderr, flush=True)
    ref = rows[0]
    for row in rows:
        for key in [k for k in row if k.endswith("_s") and k != "enumerate_s"]:
            if key in ref:
                row[key.replace("_s", "_x_ref")] = row[key] / ref[key]
    return rows


def trained_network(args):
    from altrnn.io import load_model
    from altrnn.model import ModelConfig
    from altrnn.tasks import make_task
    from altrnn.train import TrainConfig, train

    if args.model:
        saved = load_model(args.model)
        task = make_task(saved.metadata["task"], saved.metadata.get("task_params") or {})
        return saved.params, saved.config, task, args.model
    task = make_task("flipflop", {"n_bits": 3, "T": 60, "p_pulse": 0.05})
    cfg = ModelConfig(n_in=3, n_rec=64, n_out=3, activation="relu")
    res = train(task, cfg, TrainConfig(max_iters=1000, loss_target=0.1), g=0.5, seed=0)
    return res.params, cfg, task, f"flip-flop trained here ({res.iterations} iterations)"


def coverage(args):
    from altrnn.analysis import plrnn
    from altrnn.model import forward

    params, cfg, task, name = trained_network(args)
    visited = forward(params, cfg, task.batch(64, np.random.default_rng(args.seed)).inputs).x.astype(np.float64)
    u = np.zeros(cfg.n_in)
    out = {"network": name}
    for mp in (1, 2):
        runs = [plrnn.find_cycles(params, cfg, u, visited_states=visited, max_period=mp, rng=s)
                for s in range(args.reruns + 1)]
        scale_ = max(1.0, float(np.abs(visited).max()))

        def key_points(res):
            return [(len(o), o[0]) for o in res.orbits]

        union = []
        for res in runs:
            for k, x in key_points(res):
                if not any(k == k2 and np.linalg.norm(x - x2) < 1e-6 * scale_ for k2, x2 in union):
                    union.append((k, x))
        first = key_points(runs[0])
        new = []
        for res in runs[1:]:
            new.append(sum(not any(k == k1 and np.linalg.norm(x - x1) < 1e-6 * scale_ for k1, x1 in first)
                           for k, x in key_points(res)))
        out[f"p{mp}"] = {"first": len(first), "union": len(union), "new_per_rerun": new,
                         "reruns_with_new": sum(n > 0 for n in new),
                         "union_by_period": np.bincount([k for k, _ in union], minlength=mp + 1)[1:].tolist()}
    return out


def main(argv=None):
    import platform

    from iteration import run_with_threads

    args = parse_args(argv)
    (rows, cov), load0, load1 = run_with_threads(args.threads, lambda: (scale(args), coverage(args)))
    print(f"# relu_search_scale: {platform.processor() or platform.machine()}, threads={args.threads}, "
          f"repeats={args.repeats}, load {load0:.1f} -> {load1:.1f}")
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print("\t".join(keys))
    for r in rows:
        print("\t".join(f"{r[k]:.3g}" if isinstance(r.get(k), float) else str(r.get(k, "")) for k in keys))
    print(f"# coverage on {cov['network']}, {args.reruns} reruns with other seeds")
    for mp in (1, 2):
        c = cov[f"p{mp}"]
        print(f"max_period={mp}: first run {c['first']}, union {c['union']} (by period {c['union_by_period']}), "
              f"first/union {c['first'] / max(c['union'], 1):.2f}, reruns finding new points "
              f"{c['reruns_with_new']}/{args.reruns}, new per rerun {c['new_per_rerun']}")


if __name__ == "__main__":
    main()

"""How close the default DSA distance is to its best-of-many-starts optimum, its symmetry, and its cost.

Operators: rank-reduced DMD (20 delays, rank 15 by default) of the noise-free
rates of randomly initialised tanh networks (g = 1.5) on one flip-flop batch,
(T, B, N) = (100, 64, 64), as in benchmarks/similarity.py; 6 networks give 15
pairs. For whitened and projected coordinates and each pair the script prints

- gap: default DSA(A, B) minus the best value any run found for the pair
  (the reference: `--many` fixed starts in each order with another seed,
  plus every other run here), in radians;
- asym: |DSA(A, B) - DSA(B, A)|;
- the same two numbers for the reference implementation (the DSA module at
  `--reference-commit`, loaded from git, its defaults);
- cpu: median CPU seconds of one default comparison over `--repeats` runs,
  for both implementations, and their ratio (measured in the same run).

    python benchmarks/dsa_optimum.py
    python benchmarks/dsa_optimum.py --n-nets 4 --many 12 --repeats 1
"""

import argparse
import importlib.util
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from altrnn.analysis import dsa
from similarity import trajectories  # benchmarks/similarity.py


def reference_module(commit):
    """The DSA module as it was at `commit` (its numba cache goes to a temporary directory)."""
    source = subprocess.run(["git", "show", f"{commit}:src/altrnn/analysis/dsa.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "dsa_reference.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("dsa_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_time(f, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        f()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-nets", type=int, default=6)
    ap.add_argument("--n-delays", type=int, default=20)
    ap.add_argument("--rank", type=int, default=15)
    ap.add_argument("--many", type=int, default=24, help="starts per order of the reference optimum")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reference-commit", default="1db1b7f")
    args = ap.parse_args()

    old = reference_module(args.reference_commit)
    states = trajectories(args.n_nets, 100, 64, 64)
    with threadpool_limits(1):
        for whiten in (True, False):
            ops = {k: dsa.fit_dmd(v, n_delays=args.n_delays, rank=args.rank, whiten=whiten).A
                   for k, v in states.items()}
            rows = []
            for a, b in itertools.combinations(ops, 2):
                A, B = ops[a], ops[b]
                new_ab, new_ba = dsa.dsa_distance(A, B), dsa.dsa_distance(B, A)
                old_ab, old_ba = old.dsa_distance(A, B), old.dsa_distance(B, A)
                many = [dsa.dsa_distance(X, Y, n_restarts=args.many, seed=1, patience=0) for X, Y in ((A, B), (B, A))]
                best = min(new_ab, new_ba, old_ab, old_ba, *many)
                t_new = cpu_time(lambda: dsa.dsa_distance(A, B), args.repeats)
                t_old = cpu_time(lambda: old.dsa_distance(A, B), args.repeats)
                rows.append((new_ab - best, abs(new_ab - new_ba), old_ab - best, abs(old_ab - old_ba), t_new, t_old,
                             best))
                print(f"whiten={whiten!s:5} {a}-{b}: best {best:.5f}  gap {new_ab - best:.1e} (ref "
                      f"{old_ab - best:.1e})  asym {abs(new_ab - new_ba):.1e} (ref {abs(old_ab - old_ba):.1e})  "
                      f"cpu {t_new:.3f} s (ref {t_old:.3f} s)", flush=True)
            r = np.array(rows)
            print(f"whiten={whiten}: {len(rows)} pairs, angles {r[:, 6].min():.4f} to {r[:, 6].max():.4f} rad\n"
                  f"  default:   max gap {r[:, 0].max():.2e}, max asym {r[:, 1].max():.2e}, "
                  f"median cpu {np.median(r[:, 4]):.3f} s/pair\n"
                  f"  reference: max gap {r[:, 2].max():.2e}, max asym {r[:, 3].max():.2e}, "
                  f"median cpu {np.median(r[:, 5]):.3f} s/pair\n"
                  f"  cost ratio default/reference: median over pairs {np.median(r[:, 4] / r[:, 5]):.2f}, "
                  f"total {r[:, 4].sum() / r[:, 5].sum():.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Start-up cost of a fresh process that uses altrnn's numba kernels.

Each measurement starts a new python process (this interpreter) and times it
from the outside, start to exit, with time.perf_counter. Three kinds of process:

  cold      imports altrnn and runs one tiny forward + backward pass, with a new,
            empty NUMBA_CACHE_DIR: every kernel is compiled.
  cached    the same, with a NUMBA_CACHE_DIR filled beforehand: kernels are loaded.
  baseline  only `import numpy`: the start of the interpreter and numpy.

`--work step` runs a tiny training step instead (loss_and_grad, gradient
clipping, an Adam step), which also loads the small helper kernels training uses.
The kinds are interleaved round by round; medians are reported.

    python benchmarks/numba_start.py --runs 5
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

BASELINE = "import numpy"

# The child times its own phases and reports them, and numba's cache hits and
# misses, as one JSON line.
CHILD = r"""
import time
t0 = time.perf_counter()
import json
import numpy as np
t1 = time.perf_counter()
from altrnn.model import ModelConfig, init_params, recurrent_noise, forward, backward, kernels
t2 = time.perf_counter()
cfg = ModelConfig(3, 8, 3, dtype={dtype!r})
rng = np.random.default_rng(0)
params = init_params(cfg, 1.0, rng)
u = rng.standard_normal((5, 2, 3))
noise = recurrent_noise(cfg, (5, 2, 8), rng)
if {work!r} == "fwdbwd":
    traj = forward(params, cfg, u, noise)
    backward(params, cfg, u, traj, np.ones((5, 2, 3)))
else:
    from altrnn.train.adam import Adam, clip_by_global_norm
    from altrnn.train.objective import loss_and_grad
    _, grads, _ = loss_and_grad(params, cfg, u, u, np.ones_like(u), noise)
    clip_by_global_norm(grads, 1.0)
    Adam(params, 1e-3).step(params, grads)
t3 = time.perf_counter()
hits = misses = 0
for obj in vars(kernels).values():
    stats = getattr(obj, "stats", None)
    if stats is not None and hasattr(stats, "cache_hits"):
        hits += sum(stats.cache_hits.values())
        misses += sum(stats.cache_misses.values())
print(json.dumps({{"import_numpy": t1 - t0, "import_altrnn": t2 - t1, "first_call": t3 - t2,
                  "cache_hits": hits, "cache_misses": misses}}))
"""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="processes of each kind (median reported)")
    p.add_argument("--work", choices=["fwdbwd", "step"], default="fwdbwd",
                   help="fwdbwd: forward + backward (default); step: loss_and_grad + clip + Adam step")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be >= 1")
    return args


def run(code, cache_dir=None):
    """Wall time (s) of `python -c code` and the last line it printed."""
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"child process failed:\n{proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    return elapsed, (lines[-1] if lines else "")


def main(argv=None):
    args = parse_args(argv)
    child = CHILD.format(dtype=args.dtype, work=args.work)
    times = {"cold": [], "cached": [], "baseline": []}
    phases = {"cold": [], "cached": []}
    root = tempfile.mkdtemp(prefix="altrnn_numba_start_")
    try:
        warm_dir = os.path.join(root, "warm")
        os.mkdir(warm_dir)
        run(BASELINE)  # file-system caches
        _, line = run(child, warm_dir)  # fills the warm cache (compiles); not counted
        if json.loads(line)["cache_misses"] == 0:
            raise RuntimeError("the first run into an empty cache reported no cache misses")
        for i in range(args.runs):
            cold_dir = os.path.join(root, f"cold{i}")
            os.mkdir(cold_dir)
            for kind in ("baseline", "cold", "cached"):
                if kind == "baseline":
                    elapsed, _ = run(BASELINE)
                else:
                    elapsed, line = run(child, cold_dir if kind == "cold" else warm_dir)
                    report = json.loads(line)
                    if kind == "cached" and report["cache_misses"]:
                        print(f"warning: a cached run compiled {report['cache_misses']} kernel(s)", file=sys.stderr)
                    phases[kind].append(report)
                times[kind].append(elapsed)
            shutil.rmtree(cold_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    import numba

    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}; "
          f"work={args.work}, dtype={args.dtype}; median of {args.runs} processes each")
    print(f"{'':10s}{'wall s':>8s}{'min s':>8s}{'max s':>8s}  inside the process (medians, s)")
    for kind in ("cold", "cached", "baseline"):
        inside = ""
        if kind in phases:
            p = {k: float(np.median([r[k] for r in phases[kind]])) for k in ("import_numpy", "import_altrnn", "first_call")}
            inside = (f"import numpy {p['import_numpy']:.3f}, import altrnn {p['import_altrnn']:.3f}, "
                      f"first forward+backward {p['first_call']:.3f}" if args.work == "fwdbwd" else
                      f"import numpy {p['import_numpy']:.3f}, import altrnn {p['import_altrnn']:.3f}, "
                      f"first training step {p['first_call']:.3f}")
        print(f"{kind:10s}{med[kind]:8.3f}{min(times[kind]):8.3f}{max(times[kind]):8.3f}  {inside}")
    print(f"{'cached - baseline':18s}{med['cached'] - med['baseline']:8.3f} s")
    print(f"{'cold - cached':18s}{med['cold'] - med['cached']:8.3f} s (compilation)")
    return med


if __name__ == "__main__":
    main()

"""Stage `kernels`: compile every numba kernel once, before the jobs that use them start.

Jobs that start together with an empty numba cache would each compile the same
kernels (seconds each) and race to write the same cache files. The workflow's
`compile_kernels` rule runs compile_kernels (one job per activation and
dtype) before the training jobs of that variant, and
`compile_analysis_kernels` runs compile_analysis_kernels (one job per analysis:
fixed points, DSA) before the jobs of that analysis; every other job then loads
the cache.
"""

from __future__ import annotations

import logging

import numpy as np

from ..config import TrainConfig
from ..insd import insd_penalty_factory
from ..io import SavedModel
from ..model import ModelConfig
from ..model.kernels import cache_summary
from ..tasks import make_task
from ..train import train

log = logging.getLogger("altrnn.stages.kernels")


def compile_kernels(variants, parallel: bool = False) -> list[str]:
    """Run two tiny training steps, with an INSD penalty, for each (activation, dtype) in `variants`; with
    `parallel` (training on more than one thread: threads.train > 1) also the parallel time loops and noise.

    Returns one line per variant, for the rule's output file.
    """
    task = make_task("flipflop", {"n_bits": 1, "T": 20})
    lines = []
    for activation, dtype in sorted(set(map(tuple, variants))):
        cfg = ModelConfig(n_in=task.n_in, n_rec=4, n_out=task.n_out, activation=activation, dtype=dtype,
                          n_relu=2 if activation == "alrnn" else None)  # P is a run-time argument of the kernels
        tc = TrainConfig(batch_size=2, max_iters=2, log_every=1)  # 2 trials: one block, the serial kernels
        ref = train(task, cfg, tc, g=1.0, seed=0)
        earlier = {"ref": SavedModel(ref.params, cfg, {})}
        train(task, cfg, tc, g=1.0, seed=1, penalty_factory=insd_penalty_factory(earlier, 1.0, 1e-3, "relative"))
        if parallel:
            _run_parallel_kernels(cfg)
        log.info("%s %s%s: %s", activation, dtype, " (and parallel)" if parallel else "", cache_summary())
        lines.append(f"{activation} {dtype}{' parallel' if parallel else ''}")
    return lines


def _run_parallel_kernels(cfg: ModelConfig):
    """One call of each parallel kernel (model.kernels: time loops in 2 blocks of trials, noise), with the
    argument types of network.forward and network.backward; the noise both ways, since which one the
    training steps above ran depends on this process's thread count."""
    from ..model import kernels

    dt, (T, B, N) = cfg.np_dtype, (2, 32, cfg.n_rec)
    rng = np.random.default_rng(0)
    W, W_in, W_out = (rng.standard_normal(shape).astype(dt) for shape in ((N, N), (N, cfg.n_in), (cfg.n_out, N)))
    b, u, dy = np.zeros(N, dt), np.zeros((T, B, cfg.n_in), dt), np.ones((T, B, cfg.n_out), dt)
    kernels.normal_fill(np.uint64(1), np.empty((T, B, N), dt), parallel=False)
    noise = kernels.normal_fill(np.uint64(1), np.empty((T, B, N), dt), parallel=True)
    x, r = np.zeros((T + 1, B, N), dt), np.zeros((T + 1, B, N), dt)
    kernels.forward_loop(np.ascontiguousarray(W.T), np.ascontiguousarray(W_in.T), b, u, noise, np.float64(0.1),
                         cfg.alpha, cfg.kernel_activation, x, r, 2)
    kernels.backward_loop(W, W_out, x, r, u, dy, np.empty((0, B, N), dt), cfg.alpha, cfg.kernel_activation,
                          np.empty((T, B, N), dt), np.zeros((cfg.n_in, N), dt), np.zeros_like(W_out), 2)


ANALYSES = ("fixed_points", "dsa")  # analyses with numba kernels, one warm-up job each


def compile_analysis_kernels(analyses=ANALYSES) -> list[str]:
    """Run the fixed-point optimiser (tanh and relu) and/or DSA's alignment once on tiny problems."""
    lines = []
    if "fixed_points" in analyses:
        from ..analysis import fixed_points
        from ..model import init_params

        rng = np.random.default_rng(0)
        for activation in ("tanh", "relu"):
            cfg = ModelConfig(n_in=1, n_rec=4, n_out=1, activation=activation, dtype="float64")
            params = init_params(cfg, 0.5, rng)
            fixed_points.find_fixed_points(params, cfg, np.zeros(1), rng.standard_normal((4, 4)), max_iters=5)
        lines.append("fixed_points tanh relu")
    if "dsa" in analyses:
        from ..analysis import dsa

        dsa.dsa_distance(np.diag([0.9, 0.5, 0.2]), np.diag([0.8, 0.6, 0.1]), n_restarts=1)
        lines.append("dsa")
    log.info("analysis kernels ready: %s", ", ".join(lines))
    return lines


def kernels_job(stage: str, variants, out_path, parallel: bool = False):
    """The workflow's compile job: warm the training kernels of `variants` (stage "training"; `parallel`:
    also those of training on several threads), or the kernels of one analysis (stage "fixed_points" or
    "dsa")."""
    from ..io import atomic_path

    lines = compile_kernels(variants, parallel) if stage == "training" else compile_analysis_kernels([stage])
    with atomic_path(out_path) as tmp, open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")

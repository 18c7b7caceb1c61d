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


def compile_kernels(variants) -> list[str]:
    """Run two tiny training steps, with an INSD penalty, for each (activation, dtype) in `variants`.

    Returns one line per variant, for the rule's output file.
    """
    task = make_task("flipflop", {"n_bits": 1, "T": 20})
    lines = []
    for activation, dtype in sorted(set(map(tuple, variants))):
        cfg = ModelConfig(n_in=task.n_in, n_rec=4, n_out=task.n_out, activation=activation, dtype=dtype,
                          n_relu=2 if activation == "alrnn" else None)  # P is a run-time argument of the kernels
        tc = TrainConfig(batch_size=2, max_iters=2, log_every=1)
        ref = train(task, cfg, tc, g=1.0, seed=0)
        earlier = {"ref": SavedModel(ref.params, cfg, {})}
        train(task, cfg, tc, g=1.0, seed=1, penalty_factory=insd_penalty_factory(earlier, 1.0, 1e-3, "relative"))
        log.info("%s %s: %s", activation, dtype, cache_summary())
        lines.append(f"{activation} {dtype}")
    return lines


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


def kernels_job(stage: str, variants, out_path):
    """The workflow's compile job: warm the training kernels of `variants` (stage "training"), or the
    kernels of one analysis (stage "fixed_points" or "dsa")."""
    from ..io import atomic_path

    lines = compile_kernels(variants) if stage == "training" else compile_analysis_kernels([stage])
    with atomic_path(out_path) as tmp, open(tmp, "w") as fh:
        fh.write("\n".join(lines) + "\n")

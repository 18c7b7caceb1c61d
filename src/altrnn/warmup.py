"""Compile every numba kernel once, before the jobs that use them start.

Jobs that start together with an empty numba cache would each compile the same
kernels (seconds each) and race to write the same cache files. The workflow's
`compile_kernels` rule runs this first; every other job then loads the cache.
"""

from __future__ import annotations

import logging

from .experiment import insd_penalty_factory
from .io import SavedModel
from .model import ModelConfig
from .model.kernels import cache_summary
from .tasks import make_task
from .train import TrainConfig, train

log = logging.getLogger("altrnn.warmup")


def compile_kernels(variants) -> list[str]:
    """Run two tiny training steps, with an INSD penalty, for each (activation, dtype) in `variants`.

    Returns one line per variant, for the rule's output file.
    """
    task = make_task("flipflop", {"n_bits": 1, "T": 20})
    lines = []
    for activation, dtype in sorted(set(map(tuple, variants))):
        cfg = ModelConfig(n_in=task.n_in, n_rec=4, n_out=task.n_out, activation=activation, dtype=dtype)
        tc = TrainConfig(batch_size=2, max_iters=2, log_every=1)
        ref = train(task, cfg, tc, g=1.0, seed=0)
        earlier = {"ref": SavedModel(ref.params, cfg, {})}
        train(task, cfg, tc, g=1.0, seed=1, penalty_factory=insd_penalty_factory(earlier, 1.0, 1e-3, "relative"))
        log.info("%s %s: %s", activation, dtype, cache_summary())
        lines.append(f"{activation} {dtype}")
    return lines


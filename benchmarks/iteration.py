"""One timed training iteration (batch, recurrent noise, loss_and_grad, clipping, Adam step) for the benchmarks."""

import numpy as np


def iteration_timer(task, cfg, B, rng, clock):
    """A function that runs one flip-flop training iteration of a fresh network (cfg) and returns its duration."""
    from altrnn.model import Workspace, init_params, recurrent_noise
    from altrnn.train.adam import Adam, clip_by_global_norm
    from altrnn.train.objective import loss_and_grad

    params = init_params(cfg, 0.9, np.random.default_rng(1))
    opt, ws = Adam(params, 1e-3), Workspace()

    def step():
        t0 = clock()
        batch = task.batch(B, rng)
        noise = recurrent_noise(cfg, (batch.T, B, cfg.n_rec), rng, ws)
        _, grads, _ = loss_and_grad(params, cfg, batch.inputs, batch.targets, batch.mask, noise, workspace=ws)
        clip_by_global_norm(grads, 1.0)
        opt.step(params, grads)
        return clock() - t0

    return step


def run_with_threads(threads, measure):
    """measure() with numba and BLAS limited to `threads`; returns its result and the 1-min load averages
    before and after (the machine's other work, for the printed header)."""
    import os

    import numba
    from threadpoolctl import threadpool_limits

    from altrnn.model import kernels

    kernels.matmul(np.ones((2, 2)), np.ones((2, 2)))  # loads the BLAS numba uses before the limit is set
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    load = os.getloadavg()[0]
    with threadpool_limits(limits=threads, user_api="blas"):
        result = measure()
    return result, load, os.getloadavg()[0]

"""The INSD penalty schedule: earlier networks run on each batch, weight ramped over a warm-up."""

from __future__ import annotations

from ..model import Workspace, forward
from .penalty import INSDPenalty


def penalty_weight(lam: float, iteration: int, warmup: int = 0) -> float:
    """lambda, rising linearly from lambda/warmup at iteration 0 to lambda at iteration warmup - 1."""
    return lam * min(1.0, (iteration + 1) / warmup) if warmup else lam


def insd_penalty_factory(earlier: dict, lam: float, rho: float, rho_mode: str, warmup: int = 0):
    """For each batch, run the frozen earlier networks (noise-free) on its inputs and penalise predictability.

    earlier: net_id -> SavedModel. The weight rises linearly from 0 to lam over
    the first `warmup` iterations (0: full weight from the start), which lets
    a network find the task before the penalty pushes it away from the earlier
    solutions. Returns penalty_factory(inputs, iteration) for train(). Like the
    trainer's Workspace, the factory reuses its arrays: a penalty it returned
    is valid until the next call (one training iteration).
    """

    readouts = {name: net.params.W_out for name, net in earlier.items()}
    forwards = {name: Workspace() for name in earlier}  # each network's trajectory, overwritten every batch
    workspace = Workspace()  # the penalty's centred rates and results

    def factory(inputs, iteration):
        # rates in each network's own dtype; the penalty centres them into float64 (and float32) copies
        rates = {name: forward(net.params, net.config, inputs, workspace=forwards[name]).r[1:]
                 for name, net in earlier.items()}
        return INSDPenalty(rates, lam=penalty_weight(lam, iteration, warmup), rho=rho, rho_mode=rho_mode,
                           readouts=readouts, workspace=workspace)

    return factory

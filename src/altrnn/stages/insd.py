"""Stage `insd`: alternative alt-k trained against the frozen earlier networks (ref, alt1..alt{k-1})."""

from __future__ import annotations

import dataclasses
import hashlib

from ..insd import insd_penalty_factory
from ..io import load_model
from ..netids import net_of
from .train import build, train_and_save


def train_alternative(settings: dict, insd: dict, g: float, seed: int, net_id: str, earlier_paths, model_path,
                      log_path, time_path=None, snapshots_path=None):
    """Train alt-k with the INSD penalty; insd: {lambda, rho, rho_mode, warmup}.

    Alternatives train for the whole budget: stopping at the task-loss target
    would end before the penalty has acted. The metadata (and the checkpoint's
    identity) records the penalty settings and a hash of each earlier network.
    """
    task, model_cfg, train_cfg = build(settings)
    train_cfg = dataclasses.replace(train_cfg, loss_target=None)
    earlier = {net_of(f): load_model(f) for f in earlier_paths}
    factory = insd_penalty_factory(earlier, insd["lambda"], insd["rho"], insd["rho_mode"], insd["warmup"])
    identity = {"lambda": insd["lambda"], "rho": insd["rho"], "rho_mode": insd["rho_mode"], "warmup": insd["warmup"],
                "earlier": {name: hashlib.sha1(m.params.W.tobytes()).hexdigest()[:16] for name, m in earlier.items()}}
    return train_and_save(task, model_cfg, train_cfg, g, seed, net_id, model_path, log_path,
                          penalty_factory=factory, extra_metadata={"insd": identity}, time_path=time_path,
                          snapshots_path=snapshots_path)

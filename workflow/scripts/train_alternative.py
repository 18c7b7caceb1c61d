"""Train INSD alternative alt-k against the frozen earlier networks (ref, alt1..alt{k-1})."""

import dataclasses
import hashlib
from pathlib import Path

from altrnn import experiment, runtime
from altrnn.io import load_model

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p, out):
    task, model_cfg, train_cfg = experiment.build(p.settings)
    # The whole budget: stopping at the task-loss target would end before the penalty has acted.
    train_cfg = dataclasses.replace(train_cfg, loss_target=None)
    earlier = {Path(f).parent.name: load_model(f) for f in snakemake.input.earlier}
    factory = experiment.insd_penalty_factory(earlier, p.lam, p.rho, p.rho_mode, p.warmup)
    insd = {"lambda": p.lam, "rho": p.rho, "rho_mode": p.rho_mode, "warmup": p.warmup,
            "earlier": {name: hashlib.sha1(m.params.W.tobytes()).hexdigest()[:16] for name, m in earlier.items()}}
    experiment.train_and_save(task, model_cfg, train_cfg, p.g, p.seed, p.net_id, out.model, out.log,
                              penalty_factory=factory, extra_metadata={"insd": insd})


runtime.run(main, snakemake.params, snakemake.output)

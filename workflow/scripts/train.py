"""Train one network without penalty (standard networks and the INSD reference): altrnn.stages.train."""

from altrnn.stages import runtime, train

runtime.configure(snakemake.threads, snakemake.log[0])
p, out = snakemake.params, snakemake.output
runtime.run(train.train_network, p.settings, p.g, p.seed, p.net_id, out.model, out.log, out.time,
            out.get("snapshots"))

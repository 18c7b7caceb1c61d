"""Train INSD alternative alt-k against the frozen earlier networks: altrnn.stages.insd."""

from altrnn.stages import insd, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
p, out = snakemake.params, snakemake.output
runtime.run(insd.train_alternative, p.settings, p.insd, p.g, p.seed, p.net_id, snakemake.input.earlier, out.model,
            out.log, out.time, out.get("snapshots"))

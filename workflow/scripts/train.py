"""Train one network without penalty (standard networks and the INSD reference)."""

from altrnn import experiment, runtime

runtime.configure(snakemake.threads, snakemake.log[0])


def main(p, out):
    task, model_cfg, train_cfg = experiment.build(p.settings)
    experiment.train_and_save(task, model_cfg, train_cfg, p.g, p.seed, p.net_id, out.model, out.log)


runtime.run(main, snakemake.params, snakemake.output)

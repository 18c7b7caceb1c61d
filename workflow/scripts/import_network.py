"""A network trained elsewhere as this project's model.npz: altrnn.stages.imported."""

from altrnn.stages import imported, runtime

runtime.configure(snakemake.threads, snakemake.log[0], numerics=False)
p = snakemake.params
runtime.run(imported.import_network, p.task, p.task_params, p.name, p.settings, snakemake.input.weights,
            snakemake.output[0])

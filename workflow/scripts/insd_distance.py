"""How far INSD moves each network, in units of natural degeneracy: altrnn.stages.insd_distance."""

from altrnn.stages import insd_distance, runtime

runtime.configure(1, snakemake.log[0])
inp = snakemake.input
runtime.run(insd_distance.insd_distance_job, snakemake.params.standard_ids, inp.evals, inp.models, inp.dsa,
            snakemake.output[0])

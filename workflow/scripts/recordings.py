"""Rank the unit's networks against a recording: altrnn.stages.recordings."""

from altrnn.stages import recordings, runtime

runtime.configure(snakemake.threads, snakemake.log[0])
inp, out, par = snakemake.input, snakemake.output, snakemake.params
runtime.run(recordings.recordings_job, par.task, par.task_params, par.settings, par.options, inp.recording,
            inp.models, out.networks, out.families)

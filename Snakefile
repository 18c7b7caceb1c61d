# Alternative solutions of task-trained RNNs: the workflow.
# Stages live in workflow/rules; numerics live in the altrnn package.
from snakemake.utils import min_version

min_version("9.0")


# The default config, unless the command line names one: `--configfile my.yaml`
# runs my.yaml alone (it is never merged into the default). The config is
# checked by altrnn.config (workflow/rules/common.smk) before any job starts;
# workflow/schemas/config.schema.yaml is generated from the same definitions.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/kernels.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/insd.smk"
include: "workflow/rules/imported.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/dynamics.smk"
include: "workflow/rules/similarity.smk"
include: "workflow/rules/degeneracy.smk"
include: "workflow/rules/insd_distance.smk"
include: "workflow/rules/stress.smk"
include: "workflow/rules/decoding.smk"
include: "workflow/rules/gaming.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/study.smk"
include: "workflow/rules/recordings.smk"
include: "workflow/rules/bifurcations.smk"
include: "workflow/rules/symbolic.smk"
include: "workflow/rules/hmm.smk"
include: "workflow/rules/hmm_mechanism.smk"
include: "workflow/rules/surrogate.smk"
include: "workflow/rules/dsr.smk"


rule all:
    default_target: True
    input:
        all_targets(),

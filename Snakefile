# Alternative solutions of task-trained RNNs: the workflow.
# Stages live in workflow/rules; numerics live in the altrnn package.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/kernels.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/insd.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/dynamics.smk"
include: "workflow/rules/similarity.smk"
include: "workflow/rules/figures.smk"


rule all:
    default_target: True
    input:
        all_targets(),

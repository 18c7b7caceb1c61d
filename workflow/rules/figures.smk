# Paper panels per task, as PDF and PNG (the PNG goes into the Snakemake report).
# `snakemake --cores N figures` rebuilds only the figures whose inputs changed.


rule figure_training:
    input:
        logs=lambda w: [f"{net_dir(w.task, n)}/train_log.csv" for n in net_ids(w.task)],
        code=package_sources("plots"),
    output:
        **figure_outputs("training"),
    log:
        "logs/{task}/figure_training.log",
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="training",
    script:
        "../scripts/figure.py"


rule figure_predictability:
    input:
        table="results/{task}/similarity/linear_predictability.csv",
        code=package_sources("plots"),
    output:
        **figure_outputs("predictability"),
    log:
        "logs/{task}/figure_predictability.log",
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="predictability",
    script:
        "../scripts/figure.py"


rule figure_ood:
    input:
        evals=lambda w: [f"{net_dir(w.task, n)}/eval.csv" for n in net_ids(w.task)],
        code=package_sources("plots"),
    output:
        **figure_outputs("ood"),
    log:
        "logs/{task}/figure_ood.log",
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="ood",
    script:
        "../scripts/figure.py"


rule figure_fixed_points:
    input:
        tables=lambda w: [
            f"{net_dir(w.task, n)}/fixed_points.csv" for n in net_ids(w.task)
        ],
        arrays=lambda w: [
            f"{net_dir(w.task, n)}/fixed_points.npz" for n in net_ids(w.task)
        ],
        code=package_sources("plots"),
    output:
        **figure_outputs("fixed_points"),
    log:
        "logs/{task}/figure_fixed_points.log",
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="fixed_points",
    script:
        "../scripts/figure.py"


rule figures:
    input:
        lambda w: figure_targets(),

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


rule figure_manifolds:
    input:
        points=lambda w: [
            f"{net_dir(w.task, n)}/fixed_points.csv" for n in net_ids(w.task)
        ],
        point_arrays=lambda w: [
            f"{net_dir(w.task, n)}/fixed_points.npz" for n in net_ids(w.task)
        ],
        tables=lambda w: [
            f"{net_dir(w.task, n)}/manifolds.csv" for n in net_ids(w.task)
        ],
        arrays=lambda w: [
            f"{net_dir(w.task, n)}/manifolds.npz" for n in net_ids(w.task)
        ],
        code=package_sources("plots"),
    output:
        **figure_outputs("manifolds"),
    log:
        "logs/{task}/figure_manifolds.log",
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="manifolds",
    script:
        "../scripts/figure.py"


rule figure_dsa_mds:
    input:
        mds="results/{task}/similarity/dsa_mds.csv",
        code=package_sources("plots"),
    output:
        **figure_outputs("dsa_mds"),
    log:
        "logs/{task}/figure_dsa_mds.log",
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="dsa_mds",
    script:
        "../scripts/figure.py"


rule figure_degeneracy:
    input:
        tables=expand("results/{task}/degeneracy.csv", task=degeneracy_tasks()),
        code=package_sources("plots"),
    output:
        pdf="results/figures/degeneracy.pdf",
        png=report(
            "results/figures/degeneracy.png",
            caption="../report/degeneracy.rst",
            category="All tasks",
            subcategory="degeneracy",
        ),
    log:
        "logs/figure_degeneracy.log",
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="degeneracy",
    script:
        "../scripts/figure.py"


rule figures:
    input:
        lambda w: figure_targets(),

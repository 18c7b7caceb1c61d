# Paper panels per unit, as PDF and PNG (the PNG goes into the Snakemake report),
# drawn by altrnn.stages.figures.
# `snakemake --cores N figures` rebuilds only the figures whose inputs changed.


rule figure_training:
    input:
        logs=net_files("train_log.csv", "trained_ids"),
        code=code_stamp("figures"),
    output:
        **figure_outputs("training"),
    log:
        "logs/{task}/figure_training.log",
    benchmark:
        "logs/benchmarks/figure_training/{task}/figure_training.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="training",
    script:
        "../scripts/figures.py"


rule figure_predictability:
    input:
        table="results/{task}/similarity/linear_predictability.csv",
        code=code_stamp("figures"),
    output:
        **figure_outputs("predictability"),
    log:
        "logs/{task}/figure_predictability.log",
    benchmark:
        "logs/benchmarks/figure_predictability/{task}/figure_predictability.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="predictability",
    script:
        "../scripts/figures.py"


rule figure_ood:
    input:
        evals=net_files("eval.csv"),
        code=code_stamp("figures"),
    output:
        **figure_outputs("ood"),
    log:
        "logs/{task}/figure_ood.log",
    benchmark:
        "logs/benchmarks/figure_ood/{task}/figure_ood.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="ood",
    script:
        "../scripts/figures.py"


rule figure_fixed_points:
    input:
        tables=net_files("fixed_points.csv"),
        arrays=net_files("fixed_points.npz"),
        code=code_stamp("figures"),
    output:
        **figure_outputs("fixed_points"),
    log:
        "logs/{task}/figure_fixed_points.log",
    benchmark:
        "logs/benchmarks/figure_fixed_points/{task}/figure_fixed_points.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="fixed_points",
    script:
        "../scripts/figures.py"


rule figure_manifolds:
    input:
        points=net_files("fixed_points.csv"),
        point_arrays=net_files("fixed_points.npz"),
        tables=net_files("manifolds.csv"),
        arrays=net_files("manifolds.npz"),
        code=code_stamp("figures"),
    output:
        **figure_outputs("manifolds"),
    log:
        "logs/{task}/figure_manifolds.log",
    benchmark:
        "logs/benchmarks/figure_manifolds/{task}/figure_manifolds.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="manifolds",
    script:
        "../scripts/figures.py"


rule figure_spectra:
    input:
        tables=net_files("fixed_points.csv"),
        arrays=net_files("fixed_points.npz"),
        models=net_files("model.npz"),
        code=code_stamp("figures"),
    output:
        **figure_outputs("spectra"),
    log:
        "logs/{task}/figure_spectra.log",
    benchmark:
        "logs/benchmarks/figure_spectra/{task}/figure_spectra.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="spectra",
    script:
        "../scripts/figures.py"


rule figure_dsa_mds:
    input:
        mds="results/{task}/similarity/dsa_mds.csv",
        code=code_stamp("figures"),
    output:
        **figure_outputs("dsa_mds"),
    log:
        "logs/{task}/figure_dsa_mds.log",
    benchmark:
        "logs/benchmarks/figure_dsa_mds/{task}/figure_dsa_mds.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="dsa_mds",
    script:
        "../scripts/figures.py"


rule figure_decoding:
    input:
        table="results/{task}/decoding.csv",
        matrices="results/{task}/decoding.npz",
        code=code_stamp("figures"),
    output:
        **figure_outputs("decoding"),
    log:
        "logs/{task}/figure_decoding.log",
    benchmark:
        "logs/benchmarks/figure_decoding/{task}/figure_decoding.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="decoding",
    script:
        "../scripts/figures.py"


rule figure_metric_gaming:
    input:
        table="results/{task}/metric_gaming.csv",
        code=code_stamp("figures"),
    output:
        **figure_outputs("metric_gaming"),
    log:
        "logs/{task}/figure_metric_gaming.log",
    benchmark:
        "logs/benchmarks/figure_metric_gaming/{task}/figure_metric_gaming.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="metric_gaming",
    script:
        "../scripts/figures.py"


rule figure_stress:
    input:
        stats="results/{task}/stress_statistics.csv",
        code=code_stamp("figures"),
    output:
        **figure_outputs("stress"),
    log:
        "logs/{task}/figure_stress.log",
    benchmark:
        "logs/benchmarks/figure_stress/{task}/figure_stress.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="stress",
    script:
        "../scripts/figures.py"


rule figure_insd_distance:
    input:
        table="results/{task}/insd_distance.csv",
        code=code_stamp("figures"),
    output:
        **figure_outputs("insd_distance"),
    log:
        "logs/{task}/figure_insd_distance.log",
    benchmark:
        "logs/benchmarks/figure_insd_distance/{task}/figure_insd_distance.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="insd_distance",
    script:
        "../scripts/figures.py"


rule figure_degeneracy:
    input:
        tables=expand("results/{task}/degeneracy.csv", task=degeneracy_tasks()),
        code=code_stamp("figures"),
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
    benchmark:
        "logs/benchmarks/figure_degeneracy/figure_degeneracy.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="degeneracy",
    script:
        "../scripts/figures.py"


rule figures:
    input:
        lambda w: figure_targets(),

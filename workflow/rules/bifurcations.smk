# Fixed points and cycles through training (altrnn.stages.bifurcations), for the
# units with train.snapshot_every > 0: one job per network over its snapshots,
# and one figure per unit with the counts above the loss curves.


rule bifurcations:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        snapshots="results/{task}/nets/{net_id}/snapshots.npz",
        code=code("bifurcations"),
    output:
        table="results/{task}/nets/{net_id}/bifurcations.csv",
    log:
        "logs/{task}/bifurcations_{net_id}.log",
    benchmark:
        "logs/benchmarks/bifurcations/{task}/bifurcations_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=2000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: canonical(unit(w).bifurcations),
        inputs=lambda w: canonical(unit(w).dynamics.inputs),
    script:
        "../scripts/bifurcations.py"


rule figure_bifurcations:
    input:
        tables=net_files("bifurcations.csv", "trained_ids"),
        logs=net_files("train_log.csv", "trained_ids"),
        code=code_stamp("bifurcations"),
    output:
        **figure_outputs("bifurcations"),
    log:
        "logs/{task}/figure_bifurcations.log",
    benchmark:
        "logs/benchmarks/figure_bifurcations/{task}/figure_bifurcations.tsv"
    conda:
        "../../envs/altrnn.yaml"
    script:
        "../scripts/bifurcations.py"

# Evaluation of every network in and out of distribution (altrnn.stages.evaluate).


rule evaluate:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        code=code("evaluate"),
    output:
        "results/{task}/nets/{net_id}/eval.csv",
    log:
        "logs/{task}/evaluate_{net_id}.log",
    benchmark:
        "logs/benchmarks/evaluate/{task}/evaluate_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: canonical(unit(w).evaluate),
    script:
        "../scripts/evaluate.py"

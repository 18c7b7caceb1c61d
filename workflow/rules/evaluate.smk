# Evaluation of every network in and out of distribution.


rule evaluate:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        code=package_sources("model", "tasks"),
    output:
        "results/{task}/nets/{net_id}/eval.csv",
    log:
        "logs/{task}/evaluate_{net_id}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        task=lambda w: task_kind(w.task),
        task_params=lambda w: task_settings(w.task)["params"],
        n_trials=config["evaluate"]["n_trials"],
        seed=config["evaluate"]["seed"],
    script:
        "../scripts/evaluate.py"

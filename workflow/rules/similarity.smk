# Comparison of all networks of a task.


rule linear_predictability:
    input:
        models=lambda w: [f"{net_dir(w.task, n)}/model.npz" for n in net_ids(w.task)],
        code=package_sources("model", "tasks", "insd", "analysis"),
    output:
        "results/{task}/similarity/linear_predictability.csv",
    log:
        "logs/{task}/linear_predictability.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=4000,
    params:
        task=lambda w: task_kind(w.task),
        task_params=lambda w: task_settings(w.task)["params"],
        options=config["similarity"],
    script:
        "../scripts/linear_predictability.py"

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


rule similarity_metric:
    input:
        models=lambda w: [f"{net_dir(w.task, n)}/model.npz" for n in net_ids(w.task)],
        code=package_sources("model", "tasks", "insd", "analysis")
        + [f"{SRC}/comparison.py"],
        kernels="results/analysis_kernels_compiled.txt",
    output:
        table="results/{task}/similarity/{metric}.csv",
        mds="results/{task}/similarity/{metric}_mds.csv",
    log:
        "logs/{task}/similarity_{metric}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=60,
        mem_mb=4000,
    params:
        task=lambda w: task_kind(w.task),
        task_params=lambda w: task_settings(w.task)["params"],
        n_trials=config["similarity"]["n_trials"],
        seed=config["similarity"]["seed"],
        options=lambda w: (config["similarity"].get("options") or {}).get(w.metric, {}),
    script:
        "../scripts/similarity_metric.py"


rule degeneracy:
    input:
        evals=lambda w: [f"{net_dir(w.task, n)}/eval.csv" for n in standard_ids(w.task)],
        models=lambda w: [
            f"{net_dir(w.task, n)}/model.npz" for n in standard_ids(w.task)
        ],
        dsa="results/{task}/similarity/dsa.csv",
        code=package_sources("analysis") + [f"{SRC}/comparison.py"],
    output:
        "results/{task}/degeneracy.csv",
    log:
        "logs/{task}/degeneracy.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=2000,
    script:
        "../scripts/degeneracy.py"

# Dynamics of every trained network: fixed and slow points (any network), exact
# fixed points and cycles (ReLU networks), invariant manifolds and basins.


rule fixed_points:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        code=package_sources("model", "tasks", "analysis") + [f"{SRC}/dynamics.py"],
    output:
        npz="results/{task}/nets/{net_id}/fixed_points.npz",
        csv="results/{task}/nets/{net_id}/fixed_points.csv",
    log:
        "logs/{task}/fixed_points_{net_id}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=2000,
    params:
        task=lambda w: task_kind(w.task),
        task_params=lambda w: task_settings(w.task)["params"],
        settings=lambda w: dynamics_settings(w.task),
    script:
        "../scripts/fixed_points.py"


rule manifolds:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        points="results/{task}/nets/{net_id}/fixed_points.csv",
        arrays="results/{task}/nets/{net_id}/fixed_points.npz",
        code=package_sources("model", "tasks", "analysis") + [f"{SRC}/dynamics.py"],
    output:
        npz="results/{task}/nets/{net_id}/manifolds.npz",
        csv="results/{task}/nets/{net_id}/manifolds.csv",
    log:
        "logs/{task}/manifolds_{net_id}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=2000,
    params:
        task=lambda w: task_kind(w.task),
        task_params=lambda w: task_settings(w.task)["params"],
        settings=lambda w: dynamics_settings(w.task),
    script:
        "../scripts/manifolds.py"

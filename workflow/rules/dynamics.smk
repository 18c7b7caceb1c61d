# Dynamics of every trained network, in one job per network (one process start):
# fixed and slow points (any network), exact fixed points and cycles (ReLU
# networks), then the invariant manifolds of the saddles and ReLU basins.


rule dynamics:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        code=package_sources("model", "tasks", "analysis") + [f"{SRC}/dynamics.py"],
        kernels="results/analysis_kernels_compiled.txt",
    output:
        points="results/{task}/nets/{net_id}/fixed_points.csv",
        point_arrays="results/{task}/nets/{net_id}/fixed_points.npz",
        manifolds="results/{task}/nets/{net_id}/manifolds.csv",
        manifold_arrays="results/{task}/nets/{net_id}/manifolds.npz",
    log:
        "logs/{task}/dynamics_{net_id}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=60,
        mem_mb=2000,
    params:
        task=lambda w: task_kind(w.task),
        task_params=lambda w: task_settings(w.task)["params"],
        settings=lambda w: dynamics_settings(w.task),
    script:
        "../scripts/dynamics.py"

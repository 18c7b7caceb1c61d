# Dynamics of every trained network, in one job per network (altrnn.stages.dynamics):
# fixed and slow points (any network), exact fixed points and cycles (ReLU
# networks), then the invariant manifolds of the saddles; ReLU networks also get
# basins and basin volumes, and homoclinic/heteroclinic intersections; every
# network gets the largest Lyapunov exponent under each analysis input.


rule dynamics:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        code=code("dynamics"),
        kernels=analysis_kernels("fixed_points"),
    output:
        points="results/{task}/nets/{net_id}/fixed_points.csv",
        point_arrays="results/{task}/nets/{net_id}/fixed_points.npz",
        manifolds="results/{task}/nets/{net_id}/manifolds.csv",
        manifold_arrays="results/{task}/nets/{net_id}/manifolds.npz",
        basins="results/{task}/nets/{net_id}/basins.csv",
        intersections="results/{task}/nets/{net_id}/intersections.csv",
        lyapunov="results/{task}/nets/{net_id}/lyapunov.csv",
    log:
        "logs/{task}/dynamics_{net_id}.log",
    benchmark:
        "logs/benchmarks/dynamics/{task}/dynamics_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=60,
        mem_mb=2000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: canonical(unit(w).dynamics),
    script:
        "../scripts/dynamics.py"

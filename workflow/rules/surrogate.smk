# AL-RNN surrogates (altrnn.stages.surrogate), for the units with surrogate.enabled: one job per
# network (an AL-RNN fitted to its own noise-free trajectories, whose exact fixed points and cycles
# are matched to the network's own from the dynamics stage), and one figure per unit.


rule surrogate:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        points="results/{task}/nets/{net_id}/fixed_points.csv",
        point_arrays="results/{task}/nets/{net_id}/fixed_points.npz",
        manifolds="results/{task}/nets/{net_id}/manifolds.csv",
        code=code("surrogate"),
    output:
        npz="results/{task}/nets/{net_id}/surrogate.npz",
        table="results/{task}/nets/{net_id}/surrogate.csv",
        fit="results/{task}/nets/{net_id}/surrogate_fit.csv",
    log:
        "logs/{task}/surrogate_{net_id}.log",
    benchmark:
        "logs/benchmarks/surrogate/{task}/surrogate_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=1000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: surrogate_settings(w.task),
    script:
        "../scripts/surrogate.py"


rule figure_surrogate:
    input:
        tables=lambda w: [
            netids.net_file(w.task, n, "surrogate.csv") for n in surrogate_nets(w.task)
        ],
        npz=lambda w: [
            netids.net_file(w.task, n, "surrogate.npz") for n in surrogate_nets(w.task)
        ],
        point_arrays=lambda w: [
            netids.net_file(w.task, n, "fixed_points.npz")
            for n in surrogate_nets(w.task)
        ],
        code=code_stamp("surrogate"),
    output:
        **figure_outputs("surrogate"),
    log:
        "logs/{task}/figure_surrogate.log",
    benchmark:
        "logs/benchmarks/figure_surrogate/{task}/figure_surrogate.tsv"
    conda:
        "../../envs/altrnn.yaml"
    script:
        "../scripts/surrogate.py"

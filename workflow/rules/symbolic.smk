# Symbolic dynamics of piecewise-linear networks (altrnn.stages.symbolic), for the
# units whose model is relu or alrnn: one job per trained network (its linear
# regions as symbols, their graph and the exact points they hold, from the
# dynamics stage), and one figure per unit.


rule symbolic:
    input:
        model="results/{task}/nets/{net_id}/model.npz",
        points="results/{task}/nets/{net_id}/fixed_points.csv",
        point_arrays="results/{task}/nets/{net_id}/fixed_points.npz",
        code=code("symbolic"),
    output:
        table="results/{task}/nets/{net_id}/symbolic.csv",
        edges="results/{task}/nets/{net_id}/symbolic_edges.csv",
    log:
        "logs/{task}/symbolic_{net_id}.log",
    benchmark:
        "logs/benchmarks/symbolic/{task}/symbolic_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: {
            "n_trials": unit(w).dynamics.n_trials,
            "seed": unit(w).dynamics.seed,
        },
    script:
        "../scripts/symbolic.py"


rule figure_symbolic:
    input:
        tables=net_files("symbolic.csv", "trained_ids"),
        edges=net_files("symbolic_edges.csv", "trained_ids"),
        code=code_stamp("symbolic"),
    output:
        **figure_outputs("symbolic"),
    log:
        "logs/{task}/figure_symbolic.log",
    benchmark:
        "logs/benchmarks/figure_symbolic/{task}/figure_symbolic.tsv"
    conda:
        "../../envs/altrnn.yaml"
    script:
        "../scripts/symbolic.py"

# Comparison of all networks of a unit (altrnn.stages.similarity). Each rule
# receives only the settings it uses: a DSA option reruns only DSA.


rule linear_predictability:
    input:
        models=net_files("model.npz"),
        code=code("similarity"),
    output:
        "results/{task}/similarity/linear_predictability.csv",
    log:
        "logs/{task}/linear_predictability.log",
    benchmark:
        "logs/benchmarks/linear_predictability/{task}/linear_predictability.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=4000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: {
            k: canonical(getattr(unit(w).similarity, k))
            for k in ("n_trials", "seed", "test_fraction", "rho")
        },
    script:
        "../scripts/similarity.py"


rule similarity_metric:
    input:
        models=net_files("model.npz"),
        code=code("similarity"),
        kernels=lambda w: analysis_kernels("dsa") if w.metric == "dsa" else [],
    output:
        table="results/{task}/similarity/{metric}.csv",
        mds="results/{task}/similarity/{metric}_mds.csv",
    log:
        "logs/{task}/similarity_{metric}.log",
    benchmark:
        "logs/benchmarks/similarity_metric/{task}/similarity_{metric}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=60,
        mem_mb=4000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: {
            "n_trials": unit(w).similarity.n_trials,
            "seed": unit(w).similarity.seed,
            "options": canonical(unit(w).similarity.options.get(w.metric, {})),
        },
    script:
        "../scripts/similarity.py"

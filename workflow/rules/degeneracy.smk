# Degeneracy of a unit's standard networks at three levels and in SVCCA (altrnn.stages.degeneracy).
# It simulates the networks again (two trial sets, for the same-network DSA null), so it gets the
# task, the similarity batch settings and the DSA options, and reruns when any of them changes.


rule degeneracy:
    input:
        evals=net_files("eval.csv", "standard_ids"),
        models=net_files("model.npz", "standard_ids"),
        dsa="results/{task}/similarity/dsa.csv",
        code=code("degeneracy"),
        kernels=analysis_kernels("dsa"),
    output:
        "results/{task}/degeneracy.csv",
    log:
        "logs/{task}/degeneracy.log",
    benchmark:
        "logs/benchmarks/degeneracy/{task}/degeneracy.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=2000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: {
            "n_trials": unit(w).similarity.n_trials,
            "seed": unit(w).similarity.seed,
            "dsa": canonical(unit(w).similarity.options.get("dsa", {})),
        },
    script:
        "../scripts/degeneracy.py"

# Metric gaming (altrnn.stages.gaming): the unit's ref against copies of itself
# padded with noise units, by CKA, RSA and predictability in both directions.
# One job per figure unit, on the similarity batch.


rule metric_gaming:
    input:
        model=lambda w: netids.net_file(w.task, "ref", "model.npz"),
        code=code("gaming"),
    output:
        "results/{task}/metric_gaming.csv",
    log:
        "logs/{task}/metric_gaming.log",
    benchmark:
        "logs/benchmarks/metric_gaming/{task}/metric_gaming.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=2000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        batch=lambda w: {
            "n_trials": unit(w).similarity.n_trials,
            "seed": unit(w).similarity.seed,
            "test_fraction": unit(w).similarity.test_fraction,
            "rho": unit(w).similarity.rho,
            "rsa": canonical(unit(w).similarity.options.get("rsa", {})),
        },
        settings=lambda w: canonical(unit(w).gaming),
    script:
        "../scripts/gaming.py"

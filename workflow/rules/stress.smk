# Stress grid (altrnn.stages.stress): every network of a unit at every level of each out-of-distribution
# axis of `stress.axes`, one job per unit, and the win/loss statistics against the standard group.


rule stress:
    input:
        models=net_files("model.npz"),
        code=code("stress"),
    output:
        table="results/{task}/stress.csv",
        stats=report(
            "results/{task}/stress_statistics.csv",
            caption="../report/stress_statistics.rst",
            category="{task}",
            subcategory="stress",
        ),
    log:
        "logs/{task}/stress.log",
    benchmark:
        "logs/benchmarks/stress/{task}/stress.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=15,
        mem_mb=1000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: canonical(unit(w).stress),
        standard_ids=lambda w: unit(w).standard_ids(),
    script:
        "../scripts/stress.py"

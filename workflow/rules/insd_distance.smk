# How far INSD moves each network of a unit (ref, alt1, ...) from its standard networks, in units of
# the standard group's own spread, at three levels (altrnn.stages.insd_distance); one job per unit.


rule insd_distance:
    input:
        evals=net_files("eval.csv", "trained_ids"),  # imported networks: not INSD's
        models=net_files("model.npz", "trained_ids"),
        dsa="results/{task}/similarity/dsa.csv",
        code=code_stamp("insd_distance"),
    output:
        "results/{task}/insd_distance.csv",
    log:
        "logs/{task}/insd_distance.log",
    benchmark:
        "logs/benchmarks/insd_distance/{task}/insd_distance.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        standard_ids=lambda w: unit(w).standard_ids(),
    script:
        "../scripts/insd_distance.py"

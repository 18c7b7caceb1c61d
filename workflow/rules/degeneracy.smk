# Degeneracy of a unit's standard networks at three levels (altrnn.stages.degeneracy).


rule degeneracy:
    input:
        evals=net_files("eval.csv", "standard_ids"),
        models=net_files("model.npz", "standard_ids"),
        dsa="results/{task}/similarity/dsa.csv",
        code=code_stamp("degeneracy"),
    output:
        "results/{task}/degeneracy.csv",
    log:
        "logs/{task}/degeneracy.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=2000,
    script:
        "../scripts/degeneracy.py"

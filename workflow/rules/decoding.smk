# Linear decoding of the task's variables over time in every network of a unit
# (altrnn.stages.decoding): one job per unit, from the networks' model.npz.
# Only units whose task declares variables (Task.task_variables) get one.


rule decoding:
    input:
        models=net_files("model.npz"),
        code=code("decoding"),
    output:
        table="results/{task}/decoding.csv",
        matrices="results/{task}/decoding.npz",
    log:
        "logs/{task}/decoding.log",
    benchmark:
        "logs/benchmarks/decoding/{task}/decoding.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=2000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: canonical(unit(w).decoding),
    script:
        "../scripts/decoding.py"

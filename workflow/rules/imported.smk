# Networks trained elsewhere (config key `imported` of a task entry), converted to
# model.npz (altrnn.stages.imported); the weights file is an input, so a changed
# file reruns the conversion and every analysis of the network.


rule import_network:
    input:
        weights=lambda w: imported_network(w).path,
        code=code("imported"),
    output:
        "results/{task}/nets/imp-{name}/model.npz",
    log:
        "logs/{task}/import_{name}.log",
    benchmark:
        "logs/benchmarks/import_network/{task}/import_{name}.tsv"
    wildcard_constraints:
        name=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=5,
        mem_mb=1000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        name=lambda w: w.name,
        settings=lambda w: canonical(imported_network(w)),
    script:
        "../scripts/import_network.py"

# Networks trained on their task alone (altrnn.stages.train): standard
# networks, one per init scale g and seed, and the INSD reference `ref`.


rule train_standard:
    input:
        code=code("train"),
        kernels=training_kernels,
    output:
        model="results/{task}/nets/std-g{g}-s{seed}/model.npz",
        log="results/{task}/nets/std-g{g}-s{seed}/train_log.csv",
        time="results/{task}/nets/std-g{g}-s{seed}/train_time.csv",
        diagnostics="results/{task}/nets/std-g{g}-s{seed}/diagnostics.csv",
    log:
        "logs/{task}/train_std-g{g}-s{seed}.log",
    benchmark:
        "logs/benchmarks/train_standard/{task}/train_std-g{g}-s{seed}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: CFG.threads.train
    resources:
        runtime=60,
        mem_mb=2000,
    params:
        settings=training_settings,
        g=lambda w: float(w.g),
        seed=lambda w: int(w.seed),
        net_id=lambda w: netids.standard_id(float(w.g), int(w.seed)),
    script:
        "../scripts/train.py"


rule train_ref:
    input:
        code=code("train"),
        kernels=training_kernels,
    output:
        model="results/{task}/nets/ref/model.npz",
        log="results/{task}/nets/ref/train_log.csv",
        time="results/{task}/nets/ref/train_time.csv",
        diagnostics="results/{task}/nets/ref/diagnostics.csv",
    log:
        "logs/{task}/train_ref.log",
    benchmark:
        "logs/benchmarks/train_ref/{task}/train_ref.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: CFG.threads.train
    resources:
        runtime=60,
        mem_mb=2000,
    params:
        settings=training_settings,
        g=lambda w: unit(w).insd.g,
        seed=lambda w: unit(w).insd.seed,
        net_id="ref",
    script:
        "../scripts/train.py"


# Units with train.snapshot_every > 0 train with the same rules plus one output,
# snapshots.npz (the weights through training, for the bifurcations stage).
if snapshot_units():
    SNAPSHOT_TASKS = "|".join(map(re.escape, snapshot_units()))

    use rule train_standard as train_standard_snapshots with:
        output:
            model="results/{task}/nets/std-g{g}-s{seed}/model.npz",
            log="results/{task}/nets/std-g{g}-s{seed}/train_log.csv",
            time="results/{task}/nets/std-g{g}-s{seed}/train_time.csv",
            diagnostics="results/{task}/nets/std-g{g}-s{seed}/diagnostics.csv",
            snapshots="results/{task}/nets/std-g{g}-s{seed}/snapshots.npz",
        wildcard_constraints:
            task=SNAPSHOT_TASKS,

    use rule train_ref as train_ref_snapshots with:
        output:
            model="results/{task}/nets/ref/model.npz",
            log="results/{task}/nets/ref/train_log.csv",
            time="results/{task}/nets/ref/train_time.csv",
            diagnostics="results/{task}/nets/ref/diagnostics.csv",
            snapshots="results/{task}/nets/ref/snapshots.npz",
        wildcard_constraints:
            task=SNAPSHOT_TASKS,

    ruleorder: train_standard_snapshots > train_standard
    ruleorder: train_ref_snapshots > train_ref

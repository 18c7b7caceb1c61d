# INSD alternatives alt1..altK (altrnn.stages.insd), each penalised for being
# linearly predictable (in the readout null space) from all earlier ones.


rule train_alternative:
    input:
        code=code("insd"),
        kernels=training_kernels,
        earlier=lambda w: [
            netids.net_file(w.task, n, "model.npz") for n in netids.earlier_ids(w.k)
        ],
    output:
        model="results/{task}/nets/alt{k}/model.npz",
        log="results/{task}/nets/alt{k}/train_log.csv",
        time="results/{task}/nets/alt{k}/train_time.csv",
        diagnostics="results/{task}/nets/alt{k}/diagnostics.csv",
    log:
        "logs/{task}/train_alt{k}.log",
    benchmark:
        "logs/benchmarks/train_alternative/{task}/train_alt{k}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: CFG.threads.train
    resources:
        runtime=120,
        mem_mb=3000,
    params:
        settings=training_settings,
        insd=insd_settings,
        g=lambda w: unit(w).insd.g,
        seed=lambda w: unit(w).insd.seed + int(w.k),
        net_id=lambda w: netids.alternative_id(w.k),
    script:
        "../scripts/insd.py"


# With train.snapshot_every > 0 (train.smk): the same rule plus snapshots.npz.
if snapshot_units():

    use rule train_alternative as train_alternative_snapshots with:
        output:
            model="results/{task}/nets/alt{k}/model.npz",
            log="results/{task}/nets/alt{k}/train_log.csv",
            time="results/{task}/nets/alt{k}/train_time.csv",
            diagnostics="results/{task}/nets/alt{k}/diagnostics.csv",
            snapshots="results/{task}/nets/alt{k}/snapshots.npz",
        wildcard_constraints:
            task=SNAPSHOT_TASKS,

    ruleorder: train_alternative_snapshots > train_alternative

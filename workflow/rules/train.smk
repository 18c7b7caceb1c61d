# Standard networks: one per init scale g and seed.


rule train_standard:
    input:
        code=package_sources("model", "train", "tasks"),
        kernels="results/kernels_compiled.txt",
    output:
        model="results/{task}/nets/std-g{g}-s{seed}/model.npz",
        log="results/{task}/nets/std-g{g}-s{seed}/train_log.csv",
    log:
        "logs/{task}/train_std-g{g}-s{seed}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: config["threads"].get("train", 1)
    resources:
        runtime=60,
        mem_mb=2000,
    params:
        settings=lambda w: task_settings(w.task),
        g=lambda w: float(w.g),
        seed=lambda w: int(w.seed),
        net_id=lambda w: f"std-g{w.g}-s{w.seed}",
    script:
        "../scripts/train.py"

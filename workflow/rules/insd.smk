# INSD: a reference network, then alternatives alt1..altK, each penalised for
# being linearly predictable (in the readout null space) from all earlier ones.


rule train_ref:
    input:
        code=package_sources("model", "train", "tasks"),
        kernels="results/kernels_compiled.txt",
    output:
        model="results/{task}/nets/ref/model.npz",
        log="results/{task}/nets/ref/train_log.csv",
    log:
        "logs/{task}/train_ref.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: config["threads"].get("train", 1)
    resources:
        runtime=60,
        mem_mb=2000,
    params:
        settings=lambda w: task_settings(w.task),
        g=lambda w: insd_settings(w.task)["g"],
        seed=lambda w: insd_settings(w.task)["seed"],
        net_id="ref",
    script:
        "../scripts/train.py"


rule train_alternative:
    input:
        code=package_sources("model", "train", "tasks", "insd"),
        kernels="results/kernels_compiled.txt",
        earlier=earlier_models,
    output:
        model="results/{task}/nets/alt{k}/model.npz",
        log="results/{task}/nets/alt{k}/train_log.csv",
    log:
        "logs/{task}/train_alt{k}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: config["threads"].get("train", 1)
    resources:
        runtime=120,
        mem_mb=3000,
    params:
        settings=lambda w: task_settings(w.task),
        g=lambda w: insd_settings(w.task)["g"],
        seed=lambda w: insd_settings(w.task)["seed"] + int(w.k),
        net_id=lambda w: f"alt{w.k}",
        lam=lambda w: insd_settings(w.task)["lambda"],
        rho=lambda w: insd_settings(w.task)["rho"],
        rho_mode=lambda w: insd_settings(w.task)["rho_mode"],
        warmup=lambda w: insd_settings(w.task).get("warmup", 0),
    script:
        "../scripts/train_alternative.py"

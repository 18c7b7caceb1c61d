# INSD: a reference network, then alternatives alt1..altK, each penalised for
# being linearly predictable (in the readout null space) from all earlier ones.


def earlier_models(w):
    k = int(w.k)
    return [f"{net_dir(w.task, n)}/model.npz" for n in ["ref"] + [f"alt{i}" for i in range(1, k)]]


rule train_ref:
    input:
        code=package_sources("model", "train", "tasks"),
    output:
        model="results/{task}/nets/ref/model.npz",
        log="results/{task}/nets/ref/train_log.csv",
    params:
        settings=lambda w: task_settings(w.task),
        g=config["insd"]["g"],
        seed=config["insd"]["seed"],
        net_id="ref",
    log:
        "logs/{task}/train_ref.log",
    threads: config["threads"].get("train", 1)
    resources:
        runtime=60,
        mem_mb=2000,
    script:
        "../scripts/train.py"


rule train_alternative:
    input:
        code=package_sources("model", "train", "tasks", "insd"),
        earlier=earlier_models,
    output:
        model="results/{task}/nets/alt{k}/model.npz",
        log="results/{task}/nets/alt{k}/train_log.csv",
    params:
        settings=lambda w: task_settings(w.task),
        g=config["insd"]["g"],
        seed=lambda w: config["insd"]["seed"] + int(w.k),
        net_id=lambda w: f"alt{w.k}",
        lam=config["insd"]["lambda"],
        rho=config["insd"]["rho"],
        rho_mode=config["insd"]["rho_mode"],
    log:
        "logs/{task}/train_alt{k}.log",
    threads: config["threads"].get("train", 1)
    resources:
        runtime=120,
        mem_mb=3000,
    script:
        "../scripts/train_alternative.py"

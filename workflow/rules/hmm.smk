# Networks that emulate hidden Markov models (altrnn.stages.hmm): for each HMM of
# the config section hmm_emulation and each seed, a noise-driven network trained
# generatively (train.generative), scored against the HMM's emission statistics,
# one figure per HMM, and results/hmm/fit.csv (which HMMs reach the tolerance).
# Files: results/hmm/{hmm}/nets/gen-s{seed}/.


rule hmm_train:
    input:
        code=code_stamp("hmm"),
        kernels=lambda w: f"results/kernels/train_{hmm_unit(w).settings.activation}_{hmm_unit(w).settings.dtype}.txt",
    output:
        model="results/hmm/{hmm}/nets/gen-s{seed}/model.npz",
        log="results/hmm/{hmm}/nets/gen-s{seed}/train_log.csv",
        time="results/hmm/{hmm}/nets/gen-s{seed}/train_time.csv",
        snapshots="results/hmm/{hmm}/nets/gen-s{seed}/snapshots.npz",
    log:
        "logs/hmm/{hmm}/train_gen-s{seed}.log",
    benchmark:
        "logs/benchmarks/hmm_train/hmm/{hmm}/train_gen-s{seed}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: CFG.threads.train
    resources:
        runtime=240,
        mem_mb=2000,
    params:
        hmm=lambda w: hmm_unit(w).hmm,
        network=lambda w: hmm_network(w),
        generative=lambda w: hmm_unit(w).generative,
        snapshot_every=lambda w: hmm_unit(w).settings.snapshot_every,
        seed=lambda w: int(w.seed),
        net_id=lambda w: f"gen-s{w.seed}",
    script:
        "../scripts/hmm.py"


rule hmm_evaluate:
    input:
        code=code_stamp("hmm"),
        model="results/hmm/{hmm}/nets/{net_id}/model.npz",
    output:
        eval="results/hmm/{hmm}/nets/{net_id}/eval.csv",
        statistics="results/hmm/{hmm}/nets/{net_id}/statistics.npz",
    log:
        "logs/hmm/{hmm}/evaluate_{net_id}.log",
    benchmark:
        "logs/benchmarks/hmm_evaluate/hmm/{hmm}/evaluate_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=1000,
    params:
        evaluation=lambda w: hmm_evaluation(w),
    script:
        "../scripts/hmm.py"


rule hmm_fit:
    input:
        code=code_stamp("hmm"),
        evals=hmm_net_files("eval.csv"),
    output:
        fit="results/hmm/fit.csv",
    log:
        "logs/hmm/fit.log",
    benchmark:
        "logs/benchmarks/hmm_fit/hmm/fit.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=5,
        mem_mb=1000,
    params:
        tolerances={h: CFG.hmms[h].settings.tolerance for h in hmm_units()},
    script:
        "../scripts/hmm.py"


rule figure_hmm:
    input:
        logs=lambda w: hmm_net_files("train_log.csv", w.hmm),
        evals=lambda w: hmm_net_files("eval.csv", w.hmm),
        statistics=lambda w: hmm_net_files("statistics.npz", w.hmm),
        code=code_stamp("hmm"),
    output:
        pdf="results/figures/hmm_emulation_{hmm}.pdf",
        png=report(
            "results/figures/hmm_emulation_{hmm}.png",
            caption="../report/hmm.rst",
            category="hmm emulation",
            subcategory="{hmm}",
        ),
    log:
        "logs/hmm/{hmm}/figure.log",
    benchmark:
        "logs/benchmarks/figure_hmm/hmm/{hmm}/figure.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        tolerance=lambda w: hmm_unit(w).settings.tolerance,
    script:
        "../scripts/hmm.py"

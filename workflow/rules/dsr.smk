# Dynamical-systems reconstruction (altrnn.stages.dsr): for each system of the
# config section dsr, its trajectories (simulated or read from a file), then per
# network (one per n_relu P and seed) an AL-RNN fitted by teacher forcing, its
# reconstruction scores and symbolic graph, and one figure. Files:
# results/dsr/{system}/data.npz and results/dsr/{system}/nets/alrnn-P{P}-s{seed}/.


wildcard_constraints:
    system="|".join(map(re.escape, CFG.dsr)) or "^$",
    P=r"\d+",


rule dsr_data:
    input:
        code=code_stamp("dsr"),
    output:
        data="results/dsr/{system}/data.npz",
    log:
        "logs/dsr/{system}/data.log",
    benchmark:
        "logs/benchmarks/dsr_data/dsr/{system}/data.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        spec=lambda w: dsr_data_spec(w.system),
    script:
        "../scripts/dsr.py"


rule dsr_fit:
    input:
        code=code_stamp("dsr"),
        kernels=lambda w: f"results/kernels/train_alrnn_{CFG.dsr[w.system].settings.dtype}.txt",
        data="results/dsr/{system}/data.npz",
    output:
        model="results/dsr/{system}/nets/alrnn-P{P}-s{seed}/model.npz",
        log="results/dsr/{system}/nets/alrnn-P{P}-s{seed}/train_log.csv",
        metrics="results/dsr/{system}/nets/alrnn-P{P}-s{seed}/dsr_metrics.csv",
        table="results/dsr/{system}/nets/alrnn-P{P}-s{seed}/symbolic.csv",
        edges="results/dsr/{system}/nets/alrnn-P{P}-s{seed}/symbolic_edges.csv",
        generated="results/dsr/{system}/nets/alrnn-P{P}-s{seed}/generated.npz",
    log:
        "logs/dsr/{system}/fit_alrnn-P{P}-s{seed}.log",
    benchmark:
        "logs/benchmarks/dsr_fit/dsr/{system}/fit_alrnn-P{P}-s{seed}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: CFG.threads.train
    resources:
        runtime=60,
        mem_mb=2000,
    params:
        settings=lambda w: dsr_fit_settings(w.system, int(w.P)),
        teacher_forcing=lambda w: CFG.dsr[w.system].teacher_forcing,
        seed=lambda w: int(w.seed),
        net_id=lambda w: f"alrnn-P{w.P}-s{w.seed}",
    script:
        "../scripts/dsr.py"


rule figure_dsr:
    input:
        code=code_stamp("dsr"),
        generated="results/dsr/{system}/nets/{net_id}/generated.npz",
        metrics="results/dsr/{system}/nets/{net_id}/dsr_metrics.csv",
        table="results/dsr/{system}/nets/{net_id}/symbolic.csv",
        edges="results/dsr/{system}/nets/{net_id}/symbolic_edges.csv",
    output:
        pdf="results/dsr/{system}/nets/{net_id}/dsr.pdf",
        png=report(
            "results/dsr/{system}/nets/{net_id}/dsr.png",
            caption="../report/dsr.rst",
            category="dynamical-systems reconstruction",
            subcategory="{system}",
        ),
    log:
        "logs/dsr/{system}/figure_{net_id}.log",
    benchmark:
        "logs/benchmarks/figure_dsr/dsr/{system}/figure_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    script:
        "../scripts/dsr.py"

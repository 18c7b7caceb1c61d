# Mechanism tools on the networks of the hmm stage (altrnn.stages.hmm_mechanism,
# config section hmm_mechanism): per network, beside its model.npz, the
# zero-input fixed points, orbit radius against input-noise variance, slow-region
# residency, unit ablation/amplification with the kick units, and the training
# phase over its snapshots; per HMM one figure per tool.
rule hmm_mechanism:
    input:
        model="results/hmm/{hmm}/nets/{net_id}/model.npz",
        snapshots="results/hmm/{hmm}/nets/{net_id}/snapshots.npz",
        code=code_stamp("hmm_mechanism"),
    output:
        **{
            key: f"results/hmm/{{hmm}}/nets/{{net_id}}/{name}"
            for key, name in MECHANISM_TABLES.items()
        },
    log:
        "logs/hmm/{hmm}/mechanism_{net_id}.log",
    benchmark:
        "logs/benchmarks/hmm_mechanism/hmm/{hmm}/mechanism_{net_id}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=1000,
    params:
        settings=canonical(CFG.hmm_mechanism),
    script:
        "../scripts/hmm_mechanism.py"


rule figure_hmm_mechanism:
    input:
        **{
            key: (lambda w, name=name: hmm_net_files(name, w.hmm))
            for key, name in MECHANISM_TABLES.items()
        },
        code=code_stamp("hmm_mechanism"),
    output:
        **{
            f"{name}_pdf": hmm_mechanism_figure("{hmm}", name, "pdf")
            for name in MECHANISM_FIGURES
        },
        **{
            f"{name}_png": report(
                hmm_mechanism_figure("{hmm}", name, "png"),
                caption=f"../report/hmm_mechanism_{name}.rst",
                category="hmm emulation",
                subcategory="{hmm}",
            )
            for name in MECHANISM_FIGURES
        },
    log:
        "logs/hmm/{hmm}/figure_mechanism.log",
    benchmark:
        "logs/benchmarks/figure_hmm_mechanism/hmm/{hmm}/figure_mechanism.tsv"
    conda:
        "../../envs/altrnn.yaml"
    script:
        "../scripts/hmm_mechanism.py"

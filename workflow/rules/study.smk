# A factor study's tables and trend figures (altrnn.stages.study), from the
# result files of all its conditions.


rule study:
    input:
        results=study_inputs,
        code=code_stamp("study"),
    output:
        **study_outputs(),
    log:
        "logs/studies/{study}.log",
    benchmark:
        "logs/benchmarks/study/studies/{study}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    params:
        axes=lambda w: list(CFG.studies[w.study].axes),
        conditions=lambda w: study_conditions(w.study),
        outdir=lambda w: netids.study_dir(w.study),
        replicates=lambda w: CFG.studies[w.study].replicates,
    script:
        "../scripts/study.py"


rule studies:
    input:
        lambda w: study_targets(),


rule factor:
    input:
        trends=lambda w: [
            f"{netids.study_dir(s)}/trends.csv" for s in factor_studies(w.factor)
        ],
        code=code_stamp("study"),
    output:
        csv="results/studies/factor_{factor}.csv",
        pdf="results/studies/factor_{factor}.pdf",
        png=report(
            "results/studies/factor_{factor}.png",
            caption="../report/factor.rst",
            category="studies",
            subcategory="factors",
        ),
    log:
        "logs/studies/factor_{factor}.log",
    benchmark:
        "logs/benchmarks/factor/studies/factor_{factor}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    params:
        studies=lambda w: {
            s: {
                "axis": next(iter(CFG.studies[s].axes)),
                "trends": f"{netids.study_dir(s)}/trends.csv",
            }
            for s in factor_studies(w.factor)
        },
    script:
        "../scripts/factor.py"

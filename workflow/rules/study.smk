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
    script:
        "../scripts/study.py"


rule studies:
    input:
        lambda w: study_targets(),

# Ranking hypotheses against recorded activity (altrnn.stages.recordings): every network of a unit
# with a `recordings.path` runs on the recorded trials' inputs and is compared with the recording.
# The recording file is an input: a changed recording reruns the ranking.


rule recordings:
    input:
        recording=lambda w: unit(w).recordings.path,
        models=net_files("model.npz"),
        code=code("recordings"),
    output:
        networks="results/{task}/recordings/ranking.csv",
        families="results/{task}/recordings/families.csv",
    log:
        "logs/{task}/recordings.log",
    benchmark:
        "logs/benchmarks/recordings/{task}/recordings.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=60,
        mem_mb=4000,
    params:
        task=lambda w: unit(w).task,
        task_params=lambda w: unit(w).params,
        settings=lambda w: {
            k: v for k, v in canonical(unit(w).recordings).items() if k != "path"
        },
        options=lambda w: canonical(unit(w).similarity.options),
    script:
        "../scripts/recordings.py"


rule figure_recordings:
    input:
        networks="results/{task}/recordings/ranking.csv",
        families="results/{task}/recordings/families.csv",
        code=code_stamp("figures"),
    output:
        **figure_outputs("recordings"),
    log:
        "logs/{task}/figure_recordings.log",
    benchmark:
        "logs/benchmarks/figure_recordings/{task}/figure_recordings.tsv"
    conda:
        "../../envs/altrnn.yaml"
    params:
        panel="recordings",
    script:
        "../scripts/figures.py"

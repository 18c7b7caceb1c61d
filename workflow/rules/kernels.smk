# Compile the numba kernels once before the jobs that use them, so that jobs
# starting together load the cache instead of all compiling (see altrnn.warmup).
# Its code inputs are a subset of every training rule's, so it never makes a
# network retrain that would not retrain anyway (except when warmup.py changes).


rule compile_kernels:
    input:
        code=package_sources("model", "train"),
        warmup=f"{SRC}/warmup.py",
    output:
        "results/kernels_compiled.txt",
    log:
        "logs/compile_kernels.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        stage="training",
        variants=lambda w: sorted(
            {
                (s["model"]["activation"], s["model"]["dtype"])
                for s in map(task_settings, TASKS)
            }
        ),
    script:
        "../scripts/compile_kernels.py"


rule compile_analysis_kernels:
    input:
        code=package_sources("model", "analysis"),
        warmup=f"{SRC}/warmup.py",
    output:
        "results/analysis_kernels_compiled.txt",
    log:
        "logs/compile_analysis_kernels.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        stage="analysis",
        variants=[],
    script:
        "../scripts/compile_kernels.py"

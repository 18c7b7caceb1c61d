# Compile the numba kernels once before the jobs that use them, so that jobs
# starting together load the cache instead of all compiling (altrnn.stages.kernels).
# One job per (activation, dtype) of training: adding a ReLU task never
# retrains the tanh networks.


rule compile_kernels:
    input:
        # What training imports, plus the warm-up itself: an analysis change never
        # recompiles (and so never retrains).
        code=sorted(
            set(stage_sources("insd") + task_sources("flipflop"))
            | {f"{SOURCES_ROOT}/stages/kernels.py"}
        ),
    output:
        "results/kernels/train_{activation}_{dtype}.txt",
    log:
        "logs/compile_kernels_{activation}_{dtype}.log",
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        stage="training",
        variants=lambda w: [[w.activation, w.dtype]],
    script:
        "../scripts/kernels.py"


rule compile_analysis_kernels:
    input:
        code=stage_sources("kernels"),
    output:
        ANALYSIS_KERNELS,
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
        "../scripts/kernels.py"

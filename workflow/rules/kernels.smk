# Compile the numba kernels once before the jobs that use them, so that jobs
# starting together load the cache instead of all compiling (altrnn.stages.kernels).
# One job per (activation, dtype) of training: adding a ReLU task never
# retrains the tanh networks.


rule compile_kernels:
    input:
        code=code_stamp("compile_training"),
    output:
        "results/kernels/train_{activation}_{dtype}.txt",
    log:
        "logs/compile_kernels_{activation}_{dtype}.log",
    benchmark:
        "logs/benchmarks/compile_kernels/compile_kernels_{activation}_{dtype}.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        stage="training",
        variants=lambda w: [[w.activation, w.dtype]],
        parallel=CFG.threads.train > 1,
    script:
        "../scripts/kernels.py"


rule compile_analysis_kernels:
    input:
        code=lambda w: code_stamp(f"compile_{w.analysis}"),
    output:
        "results/kernels/{analysis}.txt",
    log:
        "logs/compile_{analysis}_kernels.log",
    benchmark:
        "logs/benchmarks/compile_analysis_kernels/compile_{analysis}_kernels.tsv"
    conda:
        "../../envs/altrnn.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    params:
        stage=lambda w: w.analysis,
        variants=[],
        parallel=False,
    script:
        "../scripts/kernels.py"

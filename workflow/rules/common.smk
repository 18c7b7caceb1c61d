# Wiring only: the checked config (altrnn.config), network ids and paths
# (altrnn.netids), and the package files each stage imports (altrnn.sources).
import re
from pathlib import Path

from snakemake.logging import logger

from altrnn import config as altrnn_config
from altrnn import netids
from altrnn.config import canonical
from altrnn.sources import stamp_sources, update_stamp

_checkout = Path(workflow.basedir) / "src" / "altrnn"
if _checkout.is_dir() and Path(netids.__file__).resolve().parent != _checkout.resolve():
    logger.warning(
        f"warning: this workflow's jobs import the altrnn installed at {Path(netids.__file__).parent}, "
        f"not this checkout's {_checkout}; run `pip install -e {workflow.basedir}` to use the checkout"
    )

try:
    CFG = altrnn_config.load(config)
except altrnn_config.ConfigError as exc:
    raise WorkflowError(f"config error: {exc}") from None
UNITS = CFG.units  # label -> Settings: every task entry and every study condition
ANALYSIS_KERNELS = ("fixed_points", "dsa")  # compile_analysis_kernels' {analysis}


wildcard_constraints:
    task="|".join(map(re.escape, UNITS)) or "^$",
    study="|".join(map(re.escape, CFG.studies)) or "^$",
    metric="|".join(altrnn_config.METRICS),
    g=r"[0-9.e+-]+",
    seed=r"\d+",
    k=r"[1-9]\d*",
    activation="tanh|relu|alrnn",
    dtype="float32|float64",
    analysis="|".join(ANALYSIS_KERNELS),
    hmm="|".join(map(re.escape, CFG.hmms)) or "^$",


def unit(w):
    return UNITS[w.task]


CODE_STAMPS = set()


def code_stamp(name):
    """The stamp of the package files behind `name` (a stage; altrnn.sources.stamp_sources), kept up to date
    here, while the workflow is parsed: the one input a job has for its code."""
    path = f"results/code/{name}.txt"
    if name not in CODE_STAMPS:
        update_stamp(stamp_sources(name), path)
        CODE_STAMPS.add(name)
    return path


def code(stage):
    """Input function: the code stamps of `stage` and of the unit's own task module.

    Every stamp is written while the workflow is parsed (here and below), not
    while the DAG is built: Snakemake lists results/code/ once, and a stamp
    first written after that listing was a MissingInputException."""
    code_stamp(stage)
    return lambda w: [code_stamp(stage), code_stamp(f"task_{unit(w).task}")]


for _name in [f"task_{t}" for t in sorted({s.task for s in UNITS.values()})] + [
    f"compile_{a}" for a in ANALYSIS_KERNELS
]:
    code_stamp(_name)


def training_settings(w):
    s = unit(w)
    out = canonical(
        {"task": s.task, "params": s.params, "model": s.model, "train": s.train}
    )
    if not s.train.snapshot_every:  # off: the key changes nothing, so it never retrains
        del out["train"]["snapshot_every"]
    return out


def snapshot_units():
    """Units that keep weight snapshots (train.snapshot_every > 0): the bifurcations stage runs on them."""
    return [u for u in UNITS if UNITS[u].train.snapshot_every > 0]


def bifurcation_targets():
    """Counts per snapshot of every trained network of those units, and each unit's figure."""
    out = []
    for u in snapshot_units():
        out += [
            netids.net_file(u, n, "bifurcations.csv") for n in UNITS[u].trained_ids()
        ]
        out += [netids.figure_file(u, "bifurcations", ext) for ext in ("pdf", "png")]
    return out


def training_kernels(w):
    m = unit(w).model
    return f"results/kernels/train_{m.activation}_{m.dtype}.txt"


def analysis_kernels(analysis):
    return f"results/kernels/{analysis}.txt"


def insd_settings(w):
    """Only what the penalty uses: changing n_alternatives never retrains alt1."""
    s = unit(w).insd
    return {
        "lambda": s.lam,
        "rho": s.rho,
        "rho_mode": s.rho_mode,
        "warmup": s.warmup,
    }


def imported_network(w):
    """The config entry of network imp-{name} of unit {task}."""
    nets = unit(w).imported
    if w.name not in nets:
        raise WorkflowError(
            f"results/{w.task}/nets/imp-{w.name}: no network {w.name!r} under "
            f"tasks.{w.task}.imported (configured: {sorted(nets)})"
        )
    return nets[w.name]


def net_files(name, ids="net_ids"):
    """Input function: file `name` of every network (or every standard network) of the unit."""
    return lambda w: [netids.net_file(w.task, n, name) for n in getattr(unit(w), ids)()]


def figure_outputs(panel):
    """PDF and report-marked PNG of one panel of one unit."""
    return {
        "pdf": netids.figure_file("{task}", panel, "pdf"),
        "png": report(
            netids.figure_file("{task}", panel, "png"),
            caption=f"../report/{panel}.rst",
            category="{task}",
            subcategory=panel.replace("_", " "),
        ),
    }


FIGURE_PANELS = [
    "training",
    "predictability",
    "ood",
    "fixed_points",
    "manifolds",
    "spectra",
    "dsa_mds",
]


def degeneracy_tasks():
    """Task entries with at least two standard networks, so that degeneracy is defined."""
    return [t for t in CFG.tasks if UNITS[t].has_degeneracy()]


def stress_units():
    """Figure units with a stress grid (`stress.axes`): their stress tables and win/loss figure."""
    return [u for u in figure_units() if UNITS[u].stress.axes]


def has_decoding(label):
    """The unit's task declares variables to decode (it overrides Task.task_variables)."""
    from altrnn.tasks import TASKS
    from altrnn.tasks.base import Task

    return TASKS[UNITS[label].task].task_variables is not Task.task_variables


def recordings_targets():
    """The ranking tables of every unit with a recording (`recordings.path`), and the figure of figure units."""
    out = []
    for u, s in UNITS.items():
        if s.recordings.path:
            out += [
                f"{netids.unit_dir(u)}/recordings/{f}"
                for f in ("ranking.csv", "families.csv")
            ]
            if u in figure_units():
                out += [
                    netids.figure_file(u, "recordings", ext) for ext in ("pdf", "png")
                ]
    return out


def figure_units():
    """Task entries, and the conditions of studies that ask for per-condition figures."""
    out = list(CFG.tasks)
    for study in CFG.studies.values():
        out += study.conditions if study.condition_figures else []
    return out


def figure_targets():
    """PDF and PNG of every panel of every figure unit, and of the degeneracy summary."""
    out = [
        netids.figure_file(u, panel, ext)
        for u in figure_units()
        for panel in FIGURE_PANELS
        for ext in ("pdf", "png")
    ]
    out += [
        netids.figure_file(u, "decoding", ext)
        for u in figure_units()
        if has_decoding(u)
        for ext in ("pdf", "png")
    ]
    out += [
        netids.figure_file(u, "metric_gaming", ext)
        for u in figure_units()
        for ext in ("pdf", "png")
    ]
    out += [
        netids.figure_file(u, "stress", ext)
        for u in stress_units()
        for ext in ("pdf", "png")
    ]
    out += [
        netids.figure_file(u, "insd_distance", ext)
        for u in figure_units()
        if UNITS[u].has_degeneracy()
        for ext in ("pdf", "png")
    ]
    if degeneracy_tasks():
        out += ["results/figures/degeneracy.pdf", "results/figures/degeneracy.png"]
    return out


def unit_targets(label):
    """Every result file of one unit that users load: models, logs, evaluations, analyses, comparisons."""
    s = UNITS[label]
    out = []
    for n in s.net_ids():  # trained and imported networks
        out += [
            netids.net_file(label, n, f)
            for f in ("model.npz", "eval.csv", "manifolds.csv")
        ]
    for n in s.trained_ids():  # an imported network has no training log
        out += [
            netids.net_file(label, n, f) for f in ("train_log.csv", "train_time.csv")
        ]
    out.append(netids.similarity_file(label, "linear_predictability.csv"))
    out += [netids.similarity_file(label, f"{m}_mds.csv") for m in s.similarity.metrics]
    if s.has_degeneracy():
        out.append(netids.degeneracy_file(label))
        out.append(f"{netids.unit_dir(label)}/insd_distance.csv")
    if label in stress_units():
        out += [
            f"{netids.unit_dir(label)}/{f}"
            for f in ("stress.csv", "stress_statistics.csv")
        ]
    if has_decoding(label):
        out += [f"{netids.unit_dir(label)}/decoding.{ext}" for ext in ("csv", "npz")]
    if label in figure_units():
        out.append(f"{netids.unit_dir(label)}/metric_gaming.csv")
    return out


def factor_studies(factor):
    """The studies that share a factor (``factor:`` in their config), in config order."""
    return [name for name, s in CFG.studies.items() if s.factor == factor]


def study_targets():
    out = [f"{netids.study_dir(s)}/trends.csv" for s in CFG.studies]
    factors = dict.fromkeys(s.factor for s in CFG.studies.values() if s.factor)
    return out + [f"results/studies/factor_{f}.png" for f in factors]


def symbolic_targets():
    """Region tables of every trained network of the figure units whose model is piecewise linear (relu,
    alrnn), and each such unit's figure (the symbolic stage)."""
    out = []
    for u in figure_units():
        if UNITS[u].model.activation in ("relu", "alrnn"):
            for n in UNITS[u].trained_ids():
                out += [
                    netids.net_file(u, n, f)
                    for f in ("symbolic.csv", "symbolic_edges.csv")
                ]
            out += [netids.figure_file(u, "symbolic", ext) for ext in ("pdf", "png")]
    return out


def surrogate_nets(label):
    """The networks of a unit with surrogate.enabled that get an AL-RNN surrogate: surrogate.nets, else
    every trained network. altrnn.config checks the names of task entries; a study condition skips the
    networks of its base entry that it does not have."""
    s = UNITS[label]
    return [n for n in s.surrogate.nets or s.trained_ids() if n in s.net_ids()]


def surrogate_settings(label):
    """What the surrogate job uses: the section without `enabled` and `nets` (which choose the jobs)."""
    out = canonical(UNITS[label].surrogate)
    return {k: v for k, v in out.items() if k not in ("enabled", "nets")}


def surrogate_targets():
    """Surrogate tables of the chosen networks of every figure unit with surrogate.enabled, and its figure."""
    out = []
    for u in figure_units():
        if UNITS[u].surrogate.enabled:
            for n in surrogate_nets(u):
                out += [
                    netids.net_file(u, n, f)
                    for f in ("surrogate.npz", "surrogate.csv", "surrogate_fit.csv")
                ]
            out += [netids.figure_file(u, "surrogate", ext) for ext in ("pdf", "png")]
    return out


def hmm_units():
    """Names of the HMMs of the config section hmm_emulation (results/hmm/{hmm}/)."""
    return list(CFG.hmms)


def hmm_net_files(filename, hmm=None):
    """results/hmm/{hmm}/nets/{net_id}/{filename} of every network of every HMM (or of one HMM)."""
    names = hmm_units() if hmm is None else [hmm]
    return [
        f"results/hmm/{h}/nets/{n}/{filename}"
        for h in names
        for n in CFG.hmms[h].net_ids()
    ]


def hmm_unit(w):
    return CFG.hmms[w.hmm]


def hmm_network(w):
    """The network settings of one HMM's networks (what the hmm stage builds them from)."""
    s = hmm_unit(w).settings
    keys = ("n_rec", "activation", "g", "alpha", "sigma_rec", "dtype")
    return {k: getattr(s, k) for k in keys}


def hmm_evaluation(w):
    s = hmm_unit(w).settings
    return {
        "n_trials": s.eval_trials,
        "n_steps": s.eval_steps,
        "seed": s.eval_seed,
        "max_dwell": s.max_dwell,
        "lags": list(s.eval_lags),
    }


def hmm_targets():
    """Every file of the hmm stage: each network's files, each HMM's figure and the fit summary."""
    out = ["results/hmm/fit.csv"] if hmm_units() else []
    for f in ("model.npz", "train_log.csv", "eval.csv", "snapshots.npz"):
        out += hmm_net_files(f)
    return out + [
        f"results/figures/hmm_emulation_{h}.{ext}"
        for h in hmm_units()
        for ext in ("pdf", "png")
    ]


def all_targets():
    out = [f for label in UNITS for f in unit_targets(label)]
    return (
        out
        + figure_targets()
        + study_targets()
        + recordings_targets()
        + bifurcation_targets()
        + symbolic_targets()
        + surrogate_targets()
        + hmm_targets()
        + hmm_mechanism_targets()
        + dsr_targets()
    )


def study_conditions(study):
    """What the study job reads: each condition's name, label, axis values, networks and metrics."""
    out = []
    for label in CFG.studies[study].conditions:
        s = UNITS[label]
        out.append(
            {
                "name": label.rsplit("/", 1)[-1],
                "label": label,
                "axes": {k: s.axes[k] for k in CFG.studies[study].axes},  # config order
                "net_ids": s.net_ids(),
                "metrics": list(s.similarity.metrics),
                "degeneracy": s.has_degeneracy(),
            }
        )
    return out


def study_inputs(w):
    files = []
    for c in study_conditions(w.study):
        for n in c["net_ids"]:
            files += [
                netids.net_file(c["label"], n, f)
                for f in (
                    "eval.csv",
                    "train_log.csv",
                    "train_time.csv",
                    "diagnostics.csv",
                    "model.npz",
                )
            ]
        files.append(netids.similarity_file(c["label"], "linear_predictability.csv"))
        files += [netids.similarity_file(c["label"], f"{m}.csv") for m in c["metrics"]]
        if c["degeneracy"]:
            files.append(netids.degeneracy_file(c["label"]))
    return files


def study_outputs():
    from altrnn.stages.study import TREND_MEASURES

    out = {
        t: f"results/studies/{{study}}/{t}.csv"
        for t in (
            "conditions",
            "eval",
            "training",
            "similarity",
            "degeneracy",
            "trends",
            "tradeoff",
        )
    }
    out["tradeoff_pdf"] = "results/studies/{study}/tradeoff.pdf"
    out["tradeoff_png"] = report(
        "results/studies/{study}/tradeoff.png",
        caption="../report/tradeoff.rst",
        category="studies",
        subcategory="{study}",
    )
    for m in TREND_MEASURES:
        out[f"{m}_pdf"] = f"results/studies/{{study}}/trend_{m}.pdf"
        out[f"{m}_png"] = report(
            f"results/studies/{{study}}/trend_{m}.png",
            caption="../report/trend.rst",
            category="studies",
            subcategory="{study}",
        )
    return out


# dsr.smk
def dsr_data_spec(system):
    """What the data job reads: the source of the trajectories and how they are split and scaled."""
    s = CFG.dsr[system].settings
    keys = (
        "system",
        "path",
        "dt",
        "n_steps",
        "n_trajectories",
        "test_steps",
        "n_test",
        "test_fraction",
        "data_seed",
        "standardise",
    )
    return canonical({k: getattr(s, k) for k in keys})


def dsr_fit_settings(system, P):
    """What a fit job reads: the network, its init and the scores' settings (teacher forcing apart)."""
    s = CFG.dsr[system].settings
    keys = ("system", "n_latent", "g", "dtype", "n_bins", "spectrum_sigma")
    return canonical({**{k: getattr(s, k) for k in keys}, "n_relu": P})


def dsr_targets():
    """Every file of the dsr stage: each network's tables and figure."""
    out = []
    for name, system in CFG.dsr.items():
        for net in system.net_ids():
            d = f"results/dsr/{name}/nets/{net}"
            out += [
                f"{d}/{f}"
                for f in (
                    "model.npz",
                    "train_log.csv",
                    "dsr_metrics.csv",
                    "symbolic.csv",
                    "symbolic_edges.csv",
                    "dsr.pdf",
                    "dsr.png",
                )
            ]
    return out


# hmm_mechanism.smk
from altrnn.stages.hmm_mechanism import FIGURES as MECHANISM_FIGURES
from altrnn.stages.hmm_mechanism import TABLES as MECHANISM_TABLES


def hmm_mechanism_figure(hmm, name, ext):
    return f"results/figures/hmm_mechanism_{hmm}_{name}.{ext}"


def hmm_mechanism_targets():
    """Every network's mechanism tables and every HMM's figures."""
    out = [f for name in MECHANISM_TABLES.values() for f in hmm_net_files(name)]
    return out + [
        hmm_mechanism_figure(h, name, ext)
        for h in hmm_units()
        for name in MECHANISM_FIGURES
        for ext in ("pdf", "png")
    ]

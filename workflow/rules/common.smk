# Shared helpers: per-task settings, network ids, package sources as inputs.
import copy
from pathlib import Path

from altrnn.tasks import TASKS as TASK_GENERATORS

SRC = Path(workflow.basedir) / "src" / "altrnn"
TASKS = list(config["tasks"])


def task_kind(task):
    """The generator a task entry runs: its `task:` key, or the entry's own name."""
    kind = (config["tasks"][task] or {}).get("task", task)
    if kind not in TASK_GENERATORS:
        raise ValueError(
            f"config tasks.{task}: unknown task {kind!r}; known tasks: {sorted(TASK_GENERATORS)} "
            f"(an entry with another name needs `task: <one of these>`)"
        )
    return kind


for _task in TASKS:
    task_kind(_task)


SIMILARITY_METRICS = config["similarity"].get(
    "metrics", ["cka", "rsa", "procrustes", "dsa"]
)


wildcard_constraints:
    task="|".join(TASKS),
    metric="|".join(["cka", "rsa", "procrustes", "dsa"]),
    g=r"[0-9.]+",
    seed=r"\d+",
    k=r"[1-9]\d*",


def package_sources(*parts):
    """Package files a rule depends on, so that a code change reruns what it affects."""
    files = [
        SRC / "__init__.py",
        SRC / "io.py",
        SRC / "experiment.py",
        SRC / "runtime.py",
    ]
    for part in parts:
        files += sorted((SRC / part).glob("*.py"))
    return [str(f) for f in files]


def task_settings(task):
    """The task's generator and params plus the global model/train sections with its overrides merged in."""
    own = config["tasks"][task] or {}
    return {
        "task": task_kind(task),
        "params": copy.deepcopy(own.get("params") or {}),
        "model": {**config["model"], **(own.get("model") or {})},
        "train": {**config["train"], **(own.get("train") or {})},
    }


def insd_settings(task):
    """The global insd section with the task's overrides merged in."""
    return {**config["insd"], **((config["tasks"][task] or {}).get("insd") or {})}


def dynamics_settings(task):
    """The global dynamics section with the task's overrides merged in."""
    own = (config["tasks"][task] or {}).get("dynamics") or {}
    return {**(config.get("dynamics") or {}), **own}


def fmt_g(g):
    return f"{float(g):g}"


def standard_ids(task):
    """Standard networks of a task: one per init scale g and seed (global `standard`, or the task's own)."""
    std = {
        **config["standard"],
        **((config["tasks"][task] or {}).get("standard") or {}),
    }
    return [f"std-g{fmt_g(g)}-s{s}" for g in std["g"] for s in std["seeds"]]


def insd_ids(task):
    n_alt = insd_settings(task)["n_alternatives"]
    return ["ref"] + [f"alt{k}" for k in range(1, n_alt + 1)]


def net_ids(task):
    return standard_ids(task) + insd_ids(task)


def net_dir(task, net_id):
    return f"results/{task}/nets/{net_id}"


def earlier_models(w):
    """model.npz of ref, alt1..alt{k-1}: the frozen networks alt{k} is decoupled from."""
    earlier = ["ref"] + [f"alt{i}" for i in range(1, int(w.k))]
    return [f"{net_dir(w.task, n)}/model.npz" for n in earlier]


def figure_outputs(panel):
    """PDF and report-marked PNG of one panel of one task."""
    return {
        "pdf": f"results/figures/{{task}}_{panel}.pdf",
        "png": report(
            f"results/figures/{{task}}_{panel}.png",
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
    "dsa_mds",
]


def degeneracy_tasks():
    """Tasks with at least two standard networks, so that degeneracy is defined."""
    return [t for t in TASKS if len(standard_ids(t)) >= 2]


def figure_targets():
    """PDF and PNG of every panel of every task, and of the degeneracy summary."""
    out = [
        f"results/figures/{task}_{panel}.{ext}"
        for task in TASKS
        for panel in FIGURE_PANELS
        for ext in ("pdf", "png")
    ]
    if degeneracy_tasks():
        out += ["results/figures/degeneracy.pdf", "results/figures/degeneracy.png"]
    return out


def all_targets():
    out = []
    for task in TASKS:
        out += [f"{net_dir(task, n)}/eval.csv" for n in net_ids(task)]
        out += [f"{net_dir(task, n)}/manifolds.csv" for n in net_ids(task)]
        out.append(f"results/{task}/similarity/linear_predictability.csv")
        out += [f"results/{task}/similarity/{m}_mds.csv" for m in SIMILARITY_METRICS]
        if task in degeneracy_tasks():
            out.append(f"results/{task}/degeneracy.csv")
    return out + figure_targets()

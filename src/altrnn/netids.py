"""Network ids, families and result paths, defined once for rules, scripts, plots and tests.

Network ids: `std-g{g}-s{seed}` for standard networks, `ref` and `alt{k}` for
INSD, `imp-{name}` for a network trained elsewhere (config key `imported`). A *unit* is a task entry (label `flipflop`) or a study condition (label
`studies/{study}/{condition}`); its results live under results/{label}/.
"""

from __future__ import annotations

import re

STANDARD = re.compile(r"^std-g(?P<g>[0-9.e+-]+)-s(?P<seed>\d+)$")
ALTERNATIVE = re.compile(r"^alt(?P<k>[1-9]\d*)$")
IMPORTED = re.compile(r"^imp-(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)$")


def format_number(x: float) -> str:
    """Shortest exact text of a number: 0.5, 1, 1e-05, 1.23456789 (never rounded)."""
    text = f"{float(x):g}"
    return text if float(text) == float(x) else repr(float(x))


def standard_id(g: float, seed: int) -> str:
    return f"std-g{format_number(g)}-s{int(seed)}"


def alternative_id(k: int) -> str:
    return f"alt{int(k)}"


def insd_ids(n_alternatives: int) -> list[str]:
    """ref, then alt1..altK."""
    return ["ref"] + [alternative_id(k) for k in range(1, n_alternatives + 1)]


def imported_id(name: str) -> str:
    return f"imp-{name}"


def earlier_ids(k: int) -> list[str]:
    """The frozen networks alt{k} is decoupled from: ref, alt1..alt{k-1}."""
    return ["ref"] + [alternative_id(i) for i in range(1, int(k))]


def family_of(net_id: str) -> str:
    """The family a network belongs to: `g=<g>` for standard networks, else `ref`, `alt<k>` or `imp-<name>`."""
    m = STANDARD.match(net_id)
    return f"g={m['g']}" if m else net_id


def group_of(net_id: str) -> str:
    """The coarse family used for pairs of networks: `std` for every standard network, else its own id
    (ref, alt<k>, imp-<name>: an imported network never joins the standard group)."""
    return "std" if STANDARD.match(net_id) else net_id


def family_key(family: str):
    """Sort key: standard families by g (or `std`), then ref, then alternatives by k, then imported networks."""
    if family.startswith("g="):
        return (0, float(family[2:]))
    if family == "std":
        return (0, 0.0)
    if family == "ref":
        return (1, 0.0)
    if IMPORTED.match(family):
        return (3, 0.0, family)
    m = ALTERNATIVE.match(family)
    return (2, float(m["k"]) if m else 0.0, family)


def family_order(families) -> list[str]:
    return sorted(set(families), key=family_key)


def net_order(net_ids) -> list[str]:
    """Networks sorted by family, then name."""
    return sorted(net_ids, key=lambda n: (family_key(family_of(n)), n))


# --- paths ----------------------------------------------------------------------------------------------

STUDIES = "results/studies"


def condition_label(study: str, condition: str) -> str:
    return f"studies/{study}/{condition}"


def unit_dir(label: str) -> str:
    return f"results/{label}"


def net_dir(label: str, net_id: str) -> str:
    return f"{unit_dir(label)}/nets/{net_id}"


def net_file(label: str, net_id: str, name: str) -> str:
    """results/{label}/nets/{net_id}/{name}, e.g. name = model.npz, eval.csv."""
    return f"{net_dir(label, net_id)}/{name}"


def similarity_file(label: str, name: str) -> str:
    return f"{unit_dir(label)}/similarity/{name}"


def degeneracy_file(label: str) -> str:
    return f"{unit_dir(label)}/degeneracy.csv"


def figure_file(label: str, panel: str, ext: str) -> str:
    return f"results/figures/{label}_{panel}.{ext}"


def study_dir(study: str) -> str:
    return f"{STUDIES}/{study}"


def net_of(path) -> str:
    """The network id of a file results/.../nets/{net_id}/{name}."""
    parts = str(path).replace("\\", "/").split("/")
    return parts[-2]


def unit_of(path) -> str:
    """The unit label of a result file: results/{label}/nets/..., results/{label}/similarity/... or results/{label}/{name}."""
    rel = str(path).replace("\\", "/").split("results/", 1)[-1]
    for marker in ("/nets/", "/similarity/"):
        if marker in rel:
            return rel.split(marker)[0]
    return rel.rsplit("/", 1)[0]

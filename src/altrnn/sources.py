"""Which package files a workflow stage runs: the static import closure of its module.

A rule lists these files as inputs, so a change to a module reruns exactly the
jobs whose code imports it (directly, indirectly, or inside a function), and
nothing else. Task modules are loaded by name at run time (altrnn.tasks), so a
task's jobs add `task_sources(kind)` for that task alone.
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = "altrnn"
ROOT = Path(__file__).resolve().parent


def _file_of(module: str) -> Path | None:
    """The source file of a module of this package (a package's __init__.py), or None."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    rel = Path(*module.split(".")[1:])
    for candidate in (ROOT / rel / "__init__.py", (ROOT / rel).with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _module_of(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [PACKAGE, *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@lru_cache(maxsize=None)
def _imports(path: Path) -> tuple[str, ...]:
    """Modules of this package that the file imports anywhere (top level or inside functions)."""
    module = _module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
            found += [f"{target}.{a.name}" for a in node.names]  # `from pkg import submodule`
    return tuple(m for m in found if _file_of(m) is not None)


def closure(*modules: str) -> list[str]:
    """Every package file that importing `modules` executes, sorted (parent packages included)."""
    seen: set[Path] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c
            path = _file_of(".".join(parts[:i]))
            if path is not None and path not in seen:
                seen.add(path)
                todo += list(_imports(path))
    return sorted(str(p) for p in seen)


def stage_sources(stage: str) -> list[str]:
    """Package files of workflow stage `stage` (altrnn.stages.<stage>)."""
    return closure(f"{PACKAGE}.stages.{stage}")


def task_sources(kind: str) -> list[str]:
    """Package files of one task generator (its own module and what it imports)."""
    from .tasks import TASK_MODULES

    return closure(f"{PACKAGE}.tasks.{TASK_MODULES[kind][0]}")


def stamp_sources(name: str) -> list[str]:
    """The files behind a code stamp: `task_<kind>`, `compile_training` (what training imports plus the
    warm-up; an analysis change never recompiles, so never retrains), `compile_<analysis>` (that analysis's
    modules plus the warm-up) or a stage name."""
    if name.startswith("task_"):
        return task_sources(name[len("task_"):])
    warmup = [str(ROOT / "stages" / "kernels.py")]
    if name == "compile_training":
        return sorted(set(stage_sources("insd") + task_sources("flipflop") + warmup))
    if name.startswith("compile_"):  # compile_fixed_points, compile_dsa: that analysis's modules
        return sorted(set(closure(f"{PACKAGE}.analysis.{name[len('compile_'):]}") + warmup))
    return stage_sources(name)


def update_stamp(files, out_path) -> bool:
    """Make out_path hold the content hash of `files` and their list; rewrite it only if that changed.

    The workflow calls this while it is parsed, for each stage: jobs depend on
    the stamp instead of on every module, so a job's input list stays short; a
    changed module changes the stamp, which reruns the jobs that import it.
    Returns True if the stamp was (re)written.
    """
    import hashlib

    from .io import atomic_path

    digest = hashlib.sha256()
    for f in files:
        digest.update(Path(f).read_bytes())
    names = [str(Path(f).resolve().relative_to(ROOT.parent)) for f in files]
    text = "\n".join([f"sha256 {digest.hexdigest()}", *names]) + "\n"
    out = Path(out_path)
    if out.is_file() and out.read_text() == text:
        return False
    with atomic_path(out) as tmp:
        Path(tmp).write_text(text)
    return True

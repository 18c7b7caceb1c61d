"""Task batch generators: flip-flop, context-dependent integration, MemoryPro, sine-wave generation,
delayed discrimination, path integration and HMM emulation; and tasks without code: trials from an
.npz file (`arrays`) or from a neurogym environment (`neurogym`).

`make_task(name, params)` builds a task from the registry `TASKS` (name -> Task
subclass). Each task's module is imported only when the task is used, so the
workflow can make a task's jobs depend on that task's own file
(`TASK_MODULES[name]`) and not on every task's.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from .base import Batch, Task, masked_mse

TASK_MODULES = {  # name -> (module in this package, class)
    "flipflop": ("flipflop", "FlipFlop"),
    "integration": ("integration", "Integration"),
    "memorypro": ("memorypro", "MemoryPro"),
    "sinewave": ("sinewave", "SineWave"),
    "delayed_discrimination": ("delayed_discrimination", "DelayedDiscrimination"),
    "path_integration": ("path_integration", "PathIntegration"),
    "hmm": ("hmm", "HMM"),
    "arrays": ("arrays", "ArrayTask"),
    "neurogym": ("neurogym_tasks", "NeurogymTask"),
}
# Tasks that read their trials from elsewhere (a file, the neurogym package): they need parameters, so they
# are left out of the generators a default config, the paper config and the generic task tests run.
USER_TASKS = ("arrays", "neurogym")
GENERATORS = tuple(k for k in TASK_MODULES if k not in USER_TASKS)


class _Registry(Mapping):
    """name -> Task subclass, importing a task's module on first use."""

    def __getitem__(self, name) -> type[Task]:
        module, cls = TASK_MODULES[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), cls)

    def __iter__(self):
        return iter(TASK_MODULES)

    def __len__(self):
        return len(TASK_MODULES)


TASKS: Mapping[str, type[Task]] = _Registry()


def make_task(name: str, params: dict | None = None) -> Task:
    """Build the task registered as `name` with `params` merged over its defaults."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}")
    return TASKS[name](**(params or {}))


__all__ = ["Batch", "Task", "TASKS", "TASK_MODULES", "GENERATORS", "USER_TASKS", "make_task", "masked_mse"]

"""Task batch generators: flip-flop, context-dependent integration, MemoryPro.

`make_task(name, params)` builds a task from the registry `TASKS`.
"""

from __future__ import annotations

from .base import Batch, Task, masked_mse
from .flipflop import FlipFlop
from .integration import Integration
from .memorypro import MemoryPro

TASKS: dict[str, type[Task]] = {cls.name: cls for cls in (FlipFlop, Integration, MemoryPro)}


def make_task(name: str, params: dict | None = None) -> Task:
    """Build the task registered as `name` with `params` merged over its defaults."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}")
    return TASKS[name](**(params or {}))


__all__ = ["Batch", "Task", "TASKS", "make_task", "masked_mse", "FlipFlop", "Integration", "MemoryPro"]

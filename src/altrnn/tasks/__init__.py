"""Task batch generators: flip-flop, context-dependent integration, MemoryPro, sine-wave generation,
delayed discrimination, path integration and HMM emulation.

`make_task(name, params)` builds a task from the registry `TASKS`.
"""

from __future__ import annotations

from .base import Batch, Task, masked_mse
from .delayed_discrimination import DelayedDiscrimination
from .flipflop import FlipFlop
from .hmm import HMM
from .integration import Integration
from .memorypro import MemoryPro
from .path_integration import PathIntegration
from .sinewave import SineWave

TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (FlipFlop, Integration, MemoryPro, SineWave, DelayedDiscrimination, PathIntegration, HMM)
}


def make_task(name: str, params: dict | None = None) -> Task:
    """Build the task registered as `name` with `params` merged over its defaults."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}")
    return TASKS[name](**(params or {}))


__all__ = [
    "Batch", "Task", "TASKS", "make_task", "masked_mse", "FlipFlop", "Integration", "MemoryPro", "SineWave",
    "DelayedDiscrimination", "PathIntegration", "HMM",
]

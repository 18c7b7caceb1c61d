"""Stress levels: what one level of an out-of-distribution axis changes in a task and in the network.

An axis (config `stress.axes.<name>`) sets one or more keys to each of its
levels: `params.<p>` is a task parameter (input noise, a duration, a delay
bound), `model.sigma_rec` the recurrent noise, applied at evaluation only. With
`scale: true` a level multiplies the trained value instead (integer
parameters are rounded), so one axis can stretch several durations together,
e.g. MemoryPro's delay_min and delay_max (its memory load).
"""

from __future__ import annotations

SIGMA_REC = "model.sigma_rec"


def param_name(key: str) -> str | None:
    """The task parameter a key sets (`params.T` -> `T`), or None for model.sigma_rec."""
    return None if key == SIGMA_REC else key.split(".", 1)[1]


def level_setting(spec: dict, level: float, params: dict, sigma_rec: float) -> tuple[dict, float]:
    """(changed task parameters, recurrent noise) at `level` of axis `spec` ({key: [...], levels, scale})."""
    changes = {}
    for key in spec["key"]:
        name = param_name(key)
        old = sigma_rec if name is None else params[name]
        new = old * level if spec.get("scale", False) else level
        if isinstance(old, int) and not isinstance(old, bool) and spec.get("scale", False):
            new = int(round(new))
        if name is None:
            sigma_rec = float(new)
        else:
            changes[name] = new
    return changes, sigma_rec

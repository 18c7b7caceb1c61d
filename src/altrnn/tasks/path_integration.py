"""Path integration: report the 2-D or 3-D position reached by integrating a velocity input."""

from __future__ import annotations

import numpy as np

from .base import Batch, Task


class PathIntegration(Task):
    """A walker in the arena [-arena, arena]^n_dims (a square, or a cube); input its velocity, target its position.

    Velocity (arena units per step) is a smooth random walk: each component
    follows v' = persistence v + sqrt(1 - persistence^2) speed xi, so its
    stationary standard deviation is `speed`; components are clipped to
    +-arena. With `walls`, a step that would leave the arena reverses that
    velocity component instead (a reflection; the walker keeps the reversed
    velocity). The input is `input_gain` times the velocity actually used, so
    the position after step t, the target at step t, is exactly start + the
    sum of the inputs up to t divided by input_gain (10 by default, which
    brings the inputs to the scale of the other tasks' and speeds up learning).

    The walker starts at the origin; with `random_start` it starts uniformly in
    the arena (with walls) or in [-arena, arena]^n_dims, the first `T_cue` steps
    show the start on input channels n_dims..2 n_dims - 1 (2-3 in 2-D, 3-5 in
    3-D) with zero velocity, and those steps are not scored. `n_dims` (2 or 3)
    is the number of velocity inputs and position outputs.

    OOD variants: `temporal_x2` (T x2), `fast` (speed x2, or 0.05).
    """

    name = "path_integration"
    defaults = {
        "T": 100,
        "arena": 1.0,
        "speed": 0.05,
        "persistence": 0.9,
        "walls": True,
        "random_start": False,
        "T_cue": 5,
        "input_gain": 10.0,
        "tolerance": 0.1,
        "n_dims": 2,
    }

    @property
    def n_in(self) -> int:
        return self.n_out * (2 if self.params["random_start"] else 1)

    @property
    def n_out(self) -> int:
        return self.params["n_dims"]

    @property
    def T(self) -> int:
        p = self.params
        return p["T"] + (p["T_cue"] if p["random_start"] else 0)

    def _validate(self) -> None:
        self._int("T")
        self._int("T_cue")
        self._real("arena", lo_open=True)
        self._real("speed")
        self._real("persistence", 0.0, 1.0)
        if self.params["persistence"] == 1.0:
            raise ValueError(f"{self.name}: 'persistence' must be < 1")
        self._real("tolerance", lo_open=True)
        self._real("input_gain", lo_open=True)
        for key in ("walls", "random_start"):
            if not isinstance(self.params[key], bool):
                raise ValueError(f"{self.name}: {key!r} must be true or false, got {self.params[key]!r}")
        self._int("n_dims", minimum=2)
        if self.params["n_dims"] > 3:
            raise ValueError(f"{self.name}: 'n_dims' must be 2 or 3, got {self.params['n_dims']!r}")

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        B, D, L, rho = n_trials, p["n_dims"], p["arena"], p["persistence"]
        xi = rng.standard_normal((p["T"], B, D))
        start = rng.uniform(-L, L, size=(B, D)) if p["random_start"] else np.zeros((B, D))

        velocity = np.empty((p["T"], B, D))
        position = np.empty((p["T"], B, D))
        pos, v = start.copy(), p["speed"] * xi[0]
        for t in range(p["T"]):
            if t:
                v = rho * v + np.sqrt(1 - rho**2) * p["speed"] * xi[t]
            v = np.clip(v, -L, L)
            if p["walls"]:
                v = np.where(np.abs(pos + v) > L, -v, v)
            pos = pos + v
            velocity[t], position[t] = v, pos

        cue = p["T_cue"] if p["random_start"] else 0
        inputs = np.zeros((self.T, B, self.n_in))
        inputs[cue:, :, :D] = p["input_gain"] * velocity
        targets = np.empty((self.T, B, D))
        targets[:cue] = start
        targets[cue:] = position
        mask = np.ones((self.T, B, D))
        if cue:
            inputs[:cue, :, D:] = start
            mask[:cue] = 0.0
        return Batch(inputs, targets, mask, {"start": start, "path_length": np.linalg.norm(velocity, axis=2).sum(0)})

    def errors(self, outputs: np.ndarray, batch: Batch) -> np.ndarray:
        """Euclidean position error at every step (T, B)."""
        outputs = self._check_outputs(outputs, batch)
        return np.linalg.norm(outputs - batch.targets, axis=2)

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Fraction of scored steps whose position error is below tolerance x the arena's side (2 arena)."""
        scored = batch.mask[..., 0] > 0
        limit = self.params["tolerance"] * 2 * self.params["arena"]
        return float(np.mean(self.errors(outputs, batch)[scored] < limit))

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        return {
            "temporal_x2": self.with_params(T=2 * p["T"]),
            "fast": self.with_params(speed=2 * p["speed"] or 0.05),
        }

"""N-bit flip-flop (Sussillo & Barak 2013): each output holds the sign of the last pulse on its input."""

from __future__ import annotations

import numpy as np

from .base import Batch, Task


class FlipFlop(Task):
    """Each step each bit receives a +-1 pulse with probability `p_pulse`.

    The target of a bit is the sign of its most recent pulse (a pulse counts at
    its own step); before the first pulse the target is undefined, so masked.

    OOD variants: `temporal_x2` (T x2), `long` (T x3), `sparse` (p_pulse / 3,
    T x2), `noisy` (input noise x2, or 0.2).
    """

    name = "flipflop"
    defaults = {"n_bits": 3, "T": 100, "p_pulse": 0.05, "input_noise": 0.0}

    @property
    def n_in(self) -> int:
        return self.params["n_bits"]

    @property
    def n_out(self) -> int:
        return self.params["n_bits"]

    def _validate(self) -> None:
        self._int("n_bits")
        self._int("T")
        self._real("p_pulse", 0.0, 1.0)
        self._real("input_noise")

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        shape = (p["T"], n_trials, p["n_bits"])
        on = rng.random(shape) < p["p_pulse"]
        sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        # Noise is drawn even when its std is 0 so that the noisy variant sees the same pulses.
        noise = rng.standard_normal(shape)
        pulses = np.where(on, sign, 0.0)

        # Index of the latest pulse at or before each step (-1: none yet), then forward-fill.
        steps = np.arange(p["T"])[:, None, None]
        last = np.maximum.accumulate(np.where(on, steps, -1), axis=0)
        seen = last >= 0
        held = np.take_along_axis(pulses, np.maximum(last, 0), axis=0)

        return Batch(
            inputs=pulses + p["input_noise"] * noise,
            targets=np.where(seen, held, 0.0),
            mask=seen.astype(float),
            meta={"n_pulses": on.sum(axis=0)},
        )

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Fraction of masked entries whose output sign matches the target (nan if none)."""
        outputs = self._check_outputs(outputs, batch)
        scored = batch.mask > 0
        if not scored.any():
            return float("nan")
        return float(np.mean(np.sign(outputs[scored]) == batch.targets[scored]))

    def task_variables(self, batch: Batch) -> dict[str, np.ndarray]:
        """bit1..bitN: each bit's state (the sign of its last pulse), undefined before its first pulse."""
        state = np.where(batch.mask > 0, batch.targets, np.nan)
        return {f"bit{i + 1}": state[..., i] for i in range(self.params["n_bits"])}

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        return {
            "temporal_x2": self.with_params(T=2 * p["T"]),
            "long": self.with_params(T=3 * p["T"]),
            "sparse": self.with_params(p_pulse=p["p_pulse"] / 3, T=2 * p["T"]),
            "noisy": self.with_params(input_noise=2 * p["input_noise"] or 0.2),
        }

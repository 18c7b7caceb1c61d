"""MemoryPro (Yang et al. 2019): remember a direction over a variable delay, report it when fixation goes off."""

from __future__ import annotations

import numpy as np

from .base import Batch, Task


class MemoryPro(Task):
    """Fixation, a stimulus direction (cos, sin), a variable delay, then report the direction.

    Response onset is T_fix + T_stim + delay; the response lasts T_resp steps.
    All trials are padded to the longest delay; steps after a trial's response
    are zero and masked. The first `grace` response steps are not scored on the
    direction outputs, leaving the network time to move there.

    OOD variants: `temporal_x2` (delay_min and delay_max x2), `noisy` (stimulus
    noise x2, or 0.2).
    """

    name = "memorypro"
    defaults = {
        "T_fix": 10,
        "T_stim": 20,
        "delay_min": 20,
        "delay_max": 40,
        "T_resp": 20,
        "stim_noise": 0.0,
        "grace": 3,
        "tolerance": np.pi / 10,
    }

    @property
    def n_in(self) -> int:
        return 3

    @property
    def n_out(self) -> int:
        return 3

    @property
    def T(self) -> int:
        p = self.params
        return p["T_fix"] + p["T_stim"] + p["delay_max"] + p["T_resp"]

    def _validate(self) -> None:
        for key in ("T_fix", "T_stim", "T_resp"):
            self._int(key)
        for key in ("delay_min", "delay_max", "grace"):
            self._int(key, minimum=0)
        p = self.params
        if p["delay_min"] > p["delay_max"]:
            raise ValueError(f"{self.name}: 'delay_min' ({p['delay_min']}) > 'delay_max' ({p['delay_max']})")
        if p["grace"] >= p["T_resp"]:
            raise ValueError(f"{self.name}: 'grace' must be < T_resp so some response steps are scored")
        self._real("stim_noise")
        self._real("tolerance", 0.0, np.pi, lo_open=True)

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        B = n_trials
        angle = rng.uniform(0.0, 2 * np.pi, size=B)
        delay = rng.integers(p["delay_min"], p["delay_max"] + 1, size=B)
        noise = rng.standard_normal((p["T_stim"], B, 2))
        onset = p["T_fix"] + p["T_stim"] + delay
        direction = np.stack([np.cos(angle), np.sin(angle)], axis=-1)  # (B, 2)

        t = np.arange(self.T)[:, None]
        before = t < onset
        response = (t >= onset) & (t < onset + p["T_resp"])
        in_grace = (t >= onset) & (t < onset + p["grace"])
        alive = t < onset + p["T_resp"]

        inputs = np.zeros((self.T, B, 3))
        inputs[..., 0] = before
        inputs[p["T_fix"] : p["T_fix"] + p["T_stim"], :, 1:] = direction + p["stim_noise"] * noise
        targets = np.zeros((self.T, B, 3))
        targets[..., 0] = before
        targets[..., 1:] = response[..., None] * direction
        mask = np.repeat(alive[..., None], 3, axis=-1).astype(float)
        mask[..., 1:] *= ~in_grace[..., None]
        return Batch(inputs, targets, mask, {"angle": angle, "delay": delay, "response_onset": onset})

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Fraction of trials whose decoded response angle is within `tolerance` of the stimulus.

        The decoded angle is atan2 of the mean direction output over the response after grace.
        """
        outputs = self._check_outputs(outputs, batch)
        p = self.params
        t = np.arange(batch.T)[:, None]
        onset = batch.meta["response_onset"]
        scored = (t >= onset + p["grace"]) & (t < onset + p["T_resp"])
        mean = (outputs[..., 1:] * scored[..., None]).sum(axis=0) / scored.sum(axis=0)[:, None]
        decoded = np.arctan2(mean[:, 1], mean[:, 0])
        error = np.abs(np.angle(np.exp(1j * (decoded - batch.meta["angle"]))))
        return float(np.mean(error < p["tolerance"]))

    def task_variables(self, batch: Batch) -> dict[str, np.ndarray]:
        """angle: the stimulus direction (cos, sin), from stimulus onset to the end of the trial's response."""
        p = self.params
        t = np.arange(batch.T)[:, None]
        shown = (t >= p["T_fix"]) & (t < batch.meta["response_onset"] + p["T_resp"])
        angle = batch.meta["angle"]
        direction = np.stack([np.cos(angle), np.sin(angle)], axis=-1)
        return {"angle": np.where(shown[..., None], direction, np.nan)}

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """Constant inputs for fixed-point analysis: the delay (fixation on) and the response (all off)."""
        return {"delay": np.array([1.0, 0.0, 0.0]), "response": np.zeros(3)}

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        return {
            "temporal_x2": self.with_params(delay_min=2 * p["delay_min"], delay_max=2 * p["delay_max"]),
            "noisy": self.with_params(stim_noise=2 * p["stim_noise"] or 0.2),
        }

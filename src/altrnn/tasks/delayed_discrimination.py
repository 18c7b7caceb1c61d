"""Delayed discrimination (Romo et al. 1999): is the second vibration frequency lower than the first?"""

from __future__ import annotations

import numpy as np

from .base import Batch, Task


def _positive_list(task: Task, key: str) -> None:
    v = task.params[key]
    try:
        v = [] if isinstance(v, str) else [float(x) for x in v]
    except (TypeError, ValueError):
        v = []
    if not v or not all(np.isfinite(x) and x > 0 for x in v):
        raise ValueError(f"{task.name}: {key!r} must be a non-empty list of positive numbers")
    task.params[key] = v


class DelayedDiscrimination(Task):
    """Two scalar stimuli f1 and f2 separated by a variable delay; answer +1 if f1 > f2, else -1.

    Epochs: fixation (T_fix), f1 (T_stim), delay (delay_min..delay_max),
    f2 (T_stim), response (T_resp). Frequencies are in Hz and enter as the level
    `input_gain * f` on channel 1 during their epochs (plus `input_noise` times
    white noise while a stimulus is on); channel 0 is a fixation signal, 1
    until the response. f1 is drawn from `f1_values`, f2 = f1 +- delta with
    delta from `deltas` and either sign equally likely. Target: 0 until the
    response, then the answer; the first `grace` response steps are not
    scored. Trials are padded to the longest delay; later steps are zero and
    masked.
    """

    name = "delayed_discrimination"
    defaults = {
        "T_fix": 5,
        "T_stim": 10,
        "delay_min": 10,
        "delay_max": 30,
        "T_resp": 10,
        "grace": 2,
        "f1_values": [10.0, 14.0, 18.0, 22.0, 26.0, 30.0, 34.0],
        "deltas": [8.0],
        "input_gain": 0.03,
        "input_noise": 0.0,
    }

    @property
    def n_in(self) -> int:
        return 2

    @property
    def n_out(self) -> int:
        return 1

    @property
    def T(self) -> int:
        p = self.params
        return p["T_fix"] + 2 * p["T_stim"] + p["delay_max"] + p["T_resp"]

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
        _positive_list(self, "f1_values")
        _positive_list(self, "deltas")
        if min(p["f1_values"]) <= max(p["deltas"]):
            raise ValueError(f"{self.name}: 'deltas' must be smaller than every f1 value so that f2 > 0")
        self._real("input_gain", 0.0, np.inf, lo_open=True)
        self._real("input_noise")

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        B = n_trials
        f1 = rng.choice(p["f1_values"], size=B)
        f2 = f1 + rng.choice(p["deltas"], size=B) * np.where(rng.random(B) < 0.5, -1.0, 1.0)
        delay = rng.integers(p["delay_min"], p["delay_max"] + 1, size=B)
        noise = rng.standard_normal((self.T, B))
        label = np.sign(f1 - f2)

        t = np.arange(self.T)[:, None]
        s1 = p["T_fix"]
        s2 = s1 + p["T_stim"] + delay
        onset = s2 + p["T_stim"]
        end = onset + p["T_resp"]
        in_s1 = (t >= s1) & (t < s1 + p["T_stim"])
        in_s2 = (t >= s2) & (t < onset)
        response = (t >= onset) & (t < end)
        in_grace = (t >= onset) & (t < onset + p["grace"])

        inputs = np.zeros((self.T, B, 2))
        inputs[..., 0] = t < onset
        level = p["input_gain"] * (in_s1 * f1 + in_s2 * f2)
        inputs[..., 1] = level + (in_s1 | in_s2) * p["input_noise"] * noise
        targets = np.zeros((self.T, B, 1))
        targets[..., 0] = response * label
        mask = ((t < end) & ~in_grace)[..., None].astype(float)
        meta = {"f1": f1, "f2": f2, "delay": delay, "label": label, "response_onset": onset}
        return Batch(inputs, targets, mask, meta)

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Fraction of trials whose mean output over the scored response has the sign of the label."""
        outputs = self._check_outputs(outputs, batch)
        p = self.params
        t = np.arange(batch.T)[:, None]
        onset = batch.meta["response_onset"]
        scored = (t >= onset + p["grace"]) & (t < onset + p["T_resp"])
        mean = (outputs[..., 0] * scored).sum(axis=0) / scored.sum(axis=0)
        return float(np.mean(np.sign(mean) == batch.meta["label"]))

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """Constant inputs for fixed-point analysis: the delay (fixation on, no stimulus) and the response."""
        return {"delay": np.array([1.0, 0.0]), "response": np.zeros(2)}

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        variants = {"long_delay": self.with_params(delay_min=2 * p["delay_min"], delay_max=2 * p["delay_max"])}
        f1 = np.unique(p["f1_values"])
        if len(f1) >= 2:  # f1 halfway between trained values, so every pair is new
            variants["new_pairs"] = self.with_params(f1_values=list((f1[1:] + f1[:-1]) / 2))
        variants["noisy"] = self.with_params(input_noise=2 * p["input_noise"] or 0.1)
        return variants

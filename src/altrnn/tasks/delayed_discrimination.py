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
    `input_gain * f` on a stimulus channel during their epochs (plus
    `input_noise` times white noise while a stimulus is on); channel 0 is a
    fixation signal, 1 until the response. f1 is drawn from `f1_values`,
    f2 = f1 +- delta with delta from `deltas` and either sign equally likely.
    Target: 0 until the response, then the answer; the first `grace` response
    steps are not scored. Trials are padded to the longest delay; later steps
    are zero and masked. Memory demand is set by the delay range.

    With `n_channels` C > 1 the trial holds C independent copies that share the
    fixation channel and the epochs (one delay per trial): inputs are
    [fixation, stimulus_1..stimulus_C], outputs [answer_1..answer_C], and each
    copy draws its own f1 and f2. With `aux_output`, C more outputs report
    (f2 - f1) / max(deltas), in [-1, 1], during the response (0 before, masked
    like the answers). With a single delta this is -answer x delta / max(deltas),
    so a study of the auxiliary output wants several deltas. Per-copy metadata
    (f1, f2, label) are (B, C), or (B,) when C = 1 as before.

    OOD variants: `temporal_x2` (delay_min and delay_max x2), `new_pairs` (f1
    halfway between trained values), `noisy` (input noise x2, or 0.1).
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
        "n_channels": 1,
        "aux_output": False,
    }

    @property
    def n_in(self) -> int:
        return 1 + self.params["n_channels"]

    @property
    def n_out(self) -> int:
        return self.params["n_channels"] * (2 if self.params["aux_output"] else 1)

    @property
    def T(self) -> int:
        p = self.params
        return p["T_fix"] + 2 * p["T_stim"] + p["delay_max"] + p["T_resp"]

    def _validate(self) -> None:
        for key in ("T_fix", "T_stim", "T_resp", "n_channels"):
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
        if not isinstance(p["aux_output"], bool):
            raise ValueError(f"{self.name}: 'aux_output' must be true or false, got {p['aux_output']!r}")

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        B, C = n_trials, p["n_channels"]
        # Drawn as (B, C) and (T, B, C): for C = 1 the same numbers, in the same order, as the one-channel task.
        f1 = rng.choice(p["f1_values"], size=(B, C))
        f2 = f1 + rng.choice(p["deltas"], size=(B, C)) * np.where(rng.random((B, C)) < 0.5, -1.0, 1.0)
        delay = rng.integers(p["delay_min"], p["delay_max"] + 1, size=B)
        noise = rng.standard_normal((self.T, B, C))
        label = np.sign(f1 - f2)

        t = np.arange(self.T)[:, None]
        s1 = p["T_fix"]
        s2 = s1 + p["T_stim"] + delay
        onset = s2 + p["T_stim"]
        end = onset + p["T_resp"]
        in_s1 = ((t >= s1) & (t < s1 + p["T_stim"]))[..., None]
        in_s2 = ((t >= s2) & (t < onset))[..., None]
        response = ((t >= onset) & (t < end))[..., None]
        in_grace = (t >= onset) & (t < onset + p["grace"])

        inputs = np.zeros((self.T, B, self.n_in))
        inputs[..., 0] = t < onset
        level = p["input_gain"] * (in_s1 * f1 + in_s2 * f2)
        inputs[..., 1:] = level + (in_s1 | in_s2) * p["input_noise"] * noise
        answers = [response * label]
        if p["aux_output"]:
            answers.append(response * (f2 - f1) / max(p["deltas"]))
        targets = np.concatenate(answers, axis=-1)
        mask = np.repeat(((t < end) & ~in_grace)[..., None], self.n_out, axis=-1).astype(float)
        per_copy = {"f1": f1, "f2": f2, "label": label}
        meta = {k: v[:, 0] if C == 1 else v for k, v in per_copy.items()}
        return Batch(inputs, targets, mask, {**meta, "delay": delay, "response_onset": onset})

    def _response_means(self, outputs: np.ndarray, batch: Batch) -> np.ndarray:
        """Mean of each output over each trial's scored response steps: (B, n_out)."""
        outputs = self._check_outputs(outputs, batch)
        p = self.params
        t = np.arange(batch.T)[:, None]
        onset = batch.meta["response_onset"]
        scored = ((t >= onset + p["grace"]) & (t < onset + p["T_resp"]))[..., None]
        return (outputs * scored).sum(axis=0) / scored.sum(axis=0)

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Fraction of (trial, copy) answers whose mean output over the scored response has the sign of the label."""
        C = self.params["n_channels"]
        mean = self._response_means(outputs, batch)[:, :C]
        return float(np.mean(np.sign(mean) == batch.meta["label"].reshape(-1, C)))

    def extra_metrics(self, outputs: np.ndarray, batch: Batch) -> dict[str, float]:
        """With aux_output: `aux_error`, the mean absolute error of the auxiliary outputs' scored response means."""
        if not self.params["aux_output"]:
            return {}
        C = self.params["n_channels"]
        got = self._response_means(outputs, batch)[:, C:]
        want = self._response_means(batch.targets, batch)[:, C:]
        return {"aux_error": float(np.mean(np.abs(got - want)))}

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """Constant inputs for fixed-point analysis: the delay (fixation on, no stimulus) and the response."""
        return {"delay": np.eye(self.n_in)[0], "response": np.zeros(self.n_in)}

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        variants = {"temporal_x2": self.with_params(delay_min=2 * p["delay_min"], delay_max=2 * p["delay_max"])}
        f1 = np.unique(p["f1_values"])
        if len(f1) >= 2:  # f1 halfway between trained values, so every pair is new
            variants["new_pairs"] = self.with_params(f1_values=list((f1[1:] + f1[:-1]) / 2))
        variants["noisy"] = self.with_params(input_noise=2 * p["input_noise"] or 0.1)
        return variants

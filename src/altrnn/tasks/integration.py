"""Context-dependent integration (Mante et al. 2013): report the sign of the cued of two noisy streams."""

from __future__ import annotations

import numpy as np

from .base import Batch, Task


class Integration(Task):
    """Two noisy evidence streams and a one-hot context cue; answer +-1 for the cued stream.

    Epochs: fixation (T_fix), stimulus (T_stim, streams on), response (T_resp,
    the only scored steps). Each stream's coherence is drawn from +-`coherences`.

    OOD variants: `noisy` (noise_std x2), `temporal_x2` (T_stim x2).
    """

    name = "integration"
    defaults = {
        "T_fix": 5,
        "T_stim": 50,
        "T_resp": 10,
        "coherences": [0.05, 0.1, 0.2, 0.4],
        "noise_std": 0.5,
    }

    @property
    def n_in(self) -> int:
        return 4

    @property
    def n_out(self) -> int:
        return 1

    @property
    def T(self) -> int:
        p = self.params
        return p["T_fix"] + p["T_stim"] + p["T_resp"]

    def _validate(self) -> None:
        for key in ("T_fix", "T_stim", "T_resp"):
            self._int(key)
        self._real("noise_std")
        c = self.params["coherences"]
        try:
            c = [float(x) for x in c]
        except (TypeError, ValueError):
            c = []
        if not c or not all(np.isfinite(x) and x > 0 for x in c):
            raise ValueError(f"{self.name}: 'coherences' must be a non-empty list of positive numbers")
        self.params["coherences"] = c

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        B = n_trials
        coherence = rng.choice(p["coherences"], size=(B, 2)) * np.where(rng.random((B, 2)) < 0.5, -1.0, 1.0)
        context = rng.integers(0, 2, size=B)
        noise = rng.standard_normal((p["T_stim"], B, 2))
        choice = np.sign(coherence[np.arange(B), context])

        stim = slice(p["T_fix"], p["T_fix"] + p["T_stim"])
        resp = slice(p["T_fix"] + p["T_stim"], self.T)
        inputs = np.zeros((self.T, B, 4))
        inputs[stim, :, :2] = coherence + p["noise_std"] * noise
        inputs[:, np.arange(B), 2 + context] = 1.0
        targets = np.zeros((self.T, B, 1))
        targets[resp, :, 0] = choice
        mask = np.zeros((self.T, B, 1))
        mask[resp] = 1.0
        return Batch(inputs, targets, mask, {"coherence": coherence, "context": context, "choice": choice})

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Fraction of trials whose mean response-epoch output has the sign of the correct choice."""
        outputs = self._check_outputs(outputs, batch)
        p = self.params
        mean = outputs[p["T_fix"] + p["T_stim"] :, :, 0].mean(axis=0)
        return float(np.mean(np.sign(mean) == batch.meta["choice"]))

    def task_variables(self, batch: Batch) -> dict[str, np.ndarray]:
        """context (-1: stream 1 cued, +1: stream 2) at every step; evidence1, evidence2: the sum of each
        stream's input from stimulus onset up to the step (held after the stimulus), undefined before it."""
        p = self.params
        evidence = np.cumsum(batch.inputs[..., :2], axis=0)
        evidence[: p["T_fix"]] = np.nan
        context = np.where(batch.meta["context"] == 1, 1.0, -1.0)
        return {"context": np.broadcast_to(context, (batch.T, batch.n_trials)).copy(),
                "evidence1": evidence[..., 0], "evidence2": evidence[..., 1]}

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """Constant inputs for fixed-point analysis: each context cue alone, streams off."""
        return {f"context{c + 1}": np.eye(4)[2 + c] for c in range(2)}

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        return {
            "noisy": self.with_params(noise_std=2 * p["noise_std"]),
            "temporal_x2": self.with_params(T_stim=2 * p["T_stim"]),
        }

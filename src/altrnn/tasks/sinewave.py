"""Sine-wave generation (Sussillo & Barak 2013): a static input level sets the frequency of an oscillating output."""

from __future__ import annotations

import numpy as np

from .base import Batch, Task


class SineWave(Task):
    """Hold still during fixation, then generate sin(2 pi f k) for T_gen steps after the go cue.

    Frequencies f are in cycles per step (one step is 20 ms: f = 0.05 is a
    period of 20 steps, 2.5 Hz). Inputs: channel 0 is the frequency level
    `input_offset + input_gain * f`, on for the whole trial; channel 1 is a
    fixation signal, 1 until the go cue. The fixation lasts a random
    fix_min..fix_max steps, so the network must wait for the cue rather than
    count steps. Target: 0 during fixation, then sin(2 pi f k) with k = 0, 1, ...
    counted from the first step without fixation (amplitude 1, phase 0, so the
    target is continuous at the cue). Trials are padded to the longest
    fixation; steps after a trial's generation are zero and masked.

    f is drawn from `n_freqs` equally spaced values in [f_min, f_max], or
    uniformly from that interval if n_freqs is 0. The input encoding does not
    depend on the range, so variants with other frequencies ask the trained map
    to interpolate or extrapolate.

    With `n_channels` C > 1 the trial holds C independent generators that share
    the fixation and its cue: inputs are [level_1..level_C, fixation], outputs
    one wave per channel, and each channel draws its own f. The metadata
    `frequency` is (B, C), or (B,) when C = 1 as before. Accuracy and the
    frequency error count every (trial, channel).

    OOD variants: `interpolated` (midpoints of the frequency grid, if it has two
    or more values), `extrapolated_low` and `extrapolated_high` (frequencies
    drawn uniformly below f_min and above f_max), `temporal_x2` (T_gen x2).
    """

    name = "sinewave"
    defaults = {
        "fix_min": 5,
        "fix_max": 15,
        "T_gen": 100,
        "f_min": 0.02,
        "f_max": 0.06,
        "n_freqs": 11,
        "input_gain": 10.0,
        "input_offset": 0.2,
        "min_correlation": 0.9,
        "n_channels": 1,
    }

    @property
    def n_in(self) -> int:
        return self.params["n_channels"] + 1

    @property
    def n_out(self) -> int:
        return self.params["n_channels"]

    @property
    def T(self) -> int:
        return self.params["fix_max"] + self.params["T_gen"]

    def _validate(self) -> None:
        self._int("fix_min", minimum=0)
        self._int("fix_max", minimum=0)
        self._int("T_gen", minimum=2)
        self._int("n_freqs", minimum=0)
        self._int("n_channels")
        p = self.params
        if p["fix_min"] > p["fix_max"]:
            raise ValueError(f"{self.name}: 'fix_min' ({p['fix_min']}) > 'fix_max' ({p['fix_max']})")
        self._real("f_min", 0.0, 0.5, lo_open=True)
        self._real("f_max", 0.0, 0.5, lo_open=True)
        if p["f_min"] > p["f_max"]:
            raise ValueError(f"{self.name}: 'f_min' ({p['f_min']}) > 'f_max' ({p['f_max']})")
        if p["n_freqs"] == 1 and p["f_min"] != p["f_max"]:
            raise ValueError(f"{self.name}: 'n_freqs' = 1 needs f_min == f_max")
        self._real("input_gain", -np.inf, np.inf)
        if p["input_gain"] == 0:
            raise ValueError(f"{self.name}: 'input_gain' must be non-zero, or the input does not encode f")
        self._real("input_offset", -np.inf, np.inf)
        self._real("min_correlation", -1.0, 1.0)

    def frequencies(self) -> np.ndarray | None:
        """The grid frequencies are drawn from, or None when they are drawn uniformly."""
        p = self.params
        return np.linspace(p["f_min"], p["f_max"], p["n_freqs"]) if p["n_freqs"] else None

    def level(self, f) -> np.ndarray:
        """Input level encoding frequency f."""
        return self.params["input_offset"] + self.params["input_gain"] * np.asarray(f, dtype=float)

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        B, C = n_trials, p["n_channels"]
        grid = self.frequencies()
        # Drawn as (B, C): for C = 1 the same numbers as the one-channel task.
        freq = rng.choice(grid, size=(B, C)) if grid is not None else rng.uniform(p["f_min"], p["f_max"], size=(B, C))
        onset = rng.integers(p["fix_min"], p["fix_max"] + 1, size=B)
        end = onset + p["T_gen"]

        t = np.arange(self.T)[:, None]
        alive = (t < end)[..., None]
        generating = ((t >= onset)[..., None] & alive)
        inputs = np.zeros((self.T, B, C + 1))
        inputs[..., :C] = alive * self.level(freq)
        inputs[..., C] = t < onset
        targets = generating * np.sin(2 * np.pi * freq * (t - onset)[..., None])
        mask = np.repeat(alive, C, axis=-1).astype(float)
        return Batch(inputs, targets, mask, {"frequency": freq[:, 0] if C == 1 else freq, "onset": onset})

    def _generation(self, outputs: np.ndarray, batch: Batch) -> np.ndarray:
        """The outputs over each trial's generation epoch, aligned at the cue, one column per (trial, channel):
        (T_gen, B * C), trial-major."""
        k = np.arange(self.params["T_gen"])[:, None, None]
        y = np.take_along_axis(outputs, batch.meta["onset"][None, :, None] + k, axis=0)
        return y.reshape(len(k), -1)

    def correlations(self, outputs: np.ndarray, batch: Batch) -> np.ndarray:
        """Pearson correlation of output and target over the generation epoch (0 if flat), per trial and channel
        (B * C, trial-major)."""
        outputs = self._check_outputs(outputs, batch)
        y = self._generation(outputs, batch)
        z = self._generation(batch.targets, batch)
        y = y - y.mean(axis=0)
        z = z - z.mean(axis=0)
        norm = np.sqrt((y**2).sum(axis=0) * (z**2).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (y * z).sum(axis=0) / norm
        return np.where(norm > 0, r, 0.0)

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Fraction of trials whose generated output correlates with the target at >= min_correlation.

        Correlation needs the right frequency and phase (a frequency error of
        dlt cycles/step drifts by 2 pi dlt T_gen), not the right amplitude; the
        loss checks amplitude.
        """
        return float(np.mean(self.correlations(outputs, batch) >= self.params["min_correlation"]))

    def extra_metrics(self, outputs: np.ndarray, batch: Batch) -> dict[str, float]:
        """Median relative error of the output's fitted frequency (see fit_frequency)."""
        outputs = self._check_outputs(outputs, batch)
        f_hat = fit_frequency(self._generation(outputs, batch))
        f = batch.meta["frequency"].ravel()
        return {"frequency_error": float(np.median(np.abs(f_hat - f) / f))}

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """Constant inputs for fixed-point analysis: the lowest, middle and highest trained frequency on every
        channel, cue given."""
        p = self.params
        freqs = {"f_min": p["f_min"], "f_mid": (p["f_min"] + p["f_max"]) / 2, "f_max": p["f_max"]}
        return {name: np.r_[np.full(p["n_channels"], float(self.level(f))), 0.0] for name, f in freqs.items()}

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        width = p["f_max"] - p["f_min"]
        variants = {}
        if p["n_freqs"] >= 2:
            half = width / (p["n_freqs"] - 1) / 2  # midpoints of the training grid
            variants["interpolated"] = self.with_params(f_min=p["f_min"] + half, f_max=p["f_max"] - half,
                                                        n_freqs=p["n_freqs"] - 1)
        low = max(p["f_min"] - width / 2, p["f_min"] / 2)
        high = min(p["f_max"] + width / 2, 0.5)
        variants["extrapolated_low"] = self.with_params(f_min=low, f_max=p["f_min"], n_freqs=0)
        variants["extrapolated_high"] = self.with_params(f_min=p["f_max"], f_max=high, n_freqs=0)
        variants["temporal_x2"] = self.with_params(T_gen=2 * p["T_gen"])
        return variants


def fit_frequency(y: np.ndarray, n_refine: int = 2) -> np.ndarray:
    """Least-squares frequency (cycles/step) of each column of y (T, B): the best fit of a + b cos + c sin.

    A coarse grid from half a cycle per window to Nyquist (step a quarter of
    1/T) is searched, then refined `n_refine` times on 21-point grids ten times
    finer around each column's best. Unlike the periodogram peak, the fit is
    exact (up to the final grid step) for a noiseless sinusoid, even with only
    one or two cycles in the window.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2 or y.shape[0] < 4:
        raise ValueError(f"y must be (T, B) with T >= 4, got shape {y.shape}")
    T, B = y.shape
    step = 0.25 / T
    grid = np.arange(0.5 / T, 0.5, step)
    best = grid[np.argmax(_fit_power(grid[:, None], y), axis=0)]
    for _ in range(n_refine):
        cand = np.clip(best[None, :] + np.linspace(-step, step, 21)[:, None], 0.5 / T, 0.5)
        best = cand[np.argmax(_fit_power(cand, y), axis=0), np.arange(B)]
        step /= 10
    return best


def _fit_power(freqs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Explained sum of squares of y (T, B) by [1, cos, sin] at frequencies freqs (F, 1) or (F, B): (F, B)."""
    k = np.arange(y.shape[0])[None, :, None]
    phase = 2 * np.pi * freqs[:, None, :] * k  # (F, T, 1 or B)
    X = np.stack([np.ones_like(phase), np.cos(phase), np.sin(phase)], axis=-1)  # (F, T, 1 or B, 3)
    if X.shape[2] == 1:  # one grid for all columns
        c = np.einsum("fti,tb->fbi", X[:, :, 0], y)
    else:
        c = np.einsum("ftbi,tb->fbi", X, y)
    G = np.einsum("ftbi,ftbj->fbij", X, X)  # (F, 1 or B, 3, 3)
    Gc = np.linalg.solve(G + 1e-12 * np.eye(3), c[..., None])[..., 0]
    return np.einsum("fbi,fbi->fb", c, Gc)

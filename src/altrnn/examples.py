"""Small example files for the "bring your own" entry points, written deterministically from a fixed seed.

    python -m altrnn.examples OUTDIR

writes three files (config/examples/ ships them; the default config's task
entry `own_data` uses all three):

- task.npz: an arrays task (tasks.arrays), a delayed perceptual decision:
  a noisy stimulus of coherence c in {+-0.05, +-0.1, +-0.2, +-0.4} for 25
  steps, a 10-step delay, then a go cue; the target is sign(c) during the 10
  response steps (the only scored steps). T = 50, 128 trials: 8 conditions x
  16 repeats, each with its own stimulus noise. Variables var_coherence and
  var_choice (the target sign), decoded by the decoding stage.
- lab_rnn.npz: a "lab model" in PyTorch nn.RNN names (rnn.weight_ih_l0,
  rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, fc.weight, fc.bias), built
  by hand, no training: a rank-one feedback loop W = lam m m^T / N (m_i = +-1,
  lam slightly above 1: a slowly growing integrator that settles in one of two
  attractors) plus a weak random part, the stimulus fed along m, the go cue
  along a random direction; its readout is the ridge least-squares fit of the
  targets from its own rates on the scored steps (closed form). It runs as an
  imported network (alpha 1, tanh, no noise) and solves the task roughly
  (as well as the noisy low-coherence trials allow).
- recording.npz: "recorded" spike counts of 24 units on the task's 128 trials:
  the lab model's rates from this project's own forward pass of the imported
  network (model.imports.read_network + model.forward, exactly what the
  recordings stage runs), mixed by a random matrix into positive firing rates,
  then Poisson counts (uint8) as trial-to-trial noise; with the trials'
  `inputs` and integer `condition` labels, as analysis.recordings expects.

Everything comes from SEED through numpy's default generator, so rerunning
gives equal arrays (tests/test_examples.py checks the shipped files against
it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

SEED = 20260101
COHERENCES = (-0.4, -0.2, -0.1, -0.05, 0.05, 0.1, 0.2, 0.4)
REPEATS = 16
T_FIX, T_STIM, T_DELAY, T_RESP = 5, 25, 10, 10
NOISE_STD = 0.2
N_LAB = 32
N_UNITS = 24
FILES = {"task": "task.npz", "lab": "lab_rnn.npz", "recording": "recording.npz"}


def task_arrays(rng: np.random.Generator) -> dict:
    """The arrays task: inputs (T, B, 2) [stimulus, go], targets (T, B, 1), mask (T, B), per-trial variables."""
    T = T_FIX + T_STIM + T_DELAY + T_RESP
    condition = np.repeat(np.arange(len(COHERENCES)), REPEATS)
    B = condition.size
    coherence = np.asarray(COHERENCES)[condition]
    inputs = np.zeros((T, B, 2))
    stim = slice(T_FIX, T_FIX + T_STIM)
    inputs[stim, :, 0] = coherence + NOISE_STD * rng.standard_normal((T_STIM, B))
    go = T - T_RESP
    inputs[go:, :, 1] = 1.0
    targets = np.zeros((T, B, 1))
    targets[go:, :, 0] = np.sign(coherence)
    mask = np.zeros((T, B))
    mask[go:] = 1.0
    return {"inputs": inputs.astype(np.float32), "targets": targets.astype(np.float32),
            "mask": mask.astype(np.float32), "var_coherence": coherence.astype(np.float32),
            "var_choice": np.sign(coherence).astype(np.float32)}


def _rates(W_in, W, b, inputs) -> np.ndarray:
    """nn.RNN's h_1..h_T (T, B, N) from h_0 = 0 (used only to fit the readout; the recording uses model.forward)."""
    h = np.zeros((inputs.shape[1], W.shape[0]))
    out = np.empty((inputs.shape[0], *h.shape))
    for t in range(inputs.shape[0]):
        h = np.tanh(inputs[t] @ W_in.T + h @ W.T + b)
        out[t] = h
    return out


def lab_network(rng: np.random.Generator, task: dict, lam: float = 1.08, g_random: float = 0.25,
                gain_stim: float = 0.3, ridge: float = 1e-3) -> dict:
    """A hand-built integrator / two-attractor memory in nn.RNN names, its readout fitted in closed form."""
    N = N_LAB
    m = rng.choice([-1.0, 1.0], size=N)
    W = lam * np.outer(m, m) / N + g_random * rng.standard_normal((N, N)) / np.sqrt(N)
    w_stim = gain_stim * m * (1.0 + 0.5 * rng.random(N))  # heterogeneous input gains, all along m's signs
    w_go = 0.5 * rng.standard_normal(N)
    W_in = np.stack([w_stim, w_go], axis=1)
    b_ih = 0.1 * rng.standard_normal(N)
    b_hh = np.zeros(N)
    arrays = {k: v.astype(np.float32) for k, v in
              {"W_in": W_in, "W": W, "b_ih": b_ih, "b_hh": b_hh}.items()}
    # The readout from the float32 weights as stored: ridge least squares of the targets on the scored steps.
    h = _rates(*(arrays[k].astype(np.float64) for k in ("W_in", "W")),
               arrays["b_ih"].astype(np.float64) + arrays["b_hh"].astype(np.float64),
               task["inputs"].astype(np.float64))
    scored = task["mask"] > 0
    X = np.concatenate([h[scored], np.ones((int(scored.sum()), 1))], axis=1)
    y = task["targets"][scored].astype(np.float64)
    coef = np.linalg.solve(X.T @ X + ridge * X.shape[0] * np.eye(N + 1), X.T @ y)  # (N + 1, 1)
    return {"rnn.weight_ih_l0": arrays["W_in"], "rnn.weight_hh_l0": arrays["W"],
            "rnn.bias_ih_l0": arrays["b_ih"], "rnn.bias_hh_l0": arrays["b_hh"],
            "fc.weight": coef[:N].T.astype(np.float32), "fc.bias": coef[N].astype(np.float32)}


def lab_rates(lab_path, inputs) -> np.ndarray:
    """The imported lab model's noise-free rates r[1..T] on inputs, through this project's import and forward pass
    (as stages.imported and stages.recordings run it: alpha 1, tanh, no noise, float64)."""
    from .model import ModelConfig, forward
    from .model.imports import read_network

    params, _, _ = read_network(lab_path, inputs.shape[2], 1)
    cfg = ModelConfig(n_in=inputs.shape[2], n_rec=params.W.shape[0], n_out=1, activation="tanh", alpha=1.0,
                      sigma_rec=0.0, dtype="float64")
    return forward(params, cfg, np.asarray(inputs, dtype=np.float64)).r[1:]


def recording_arrays(rng: np.random.Generator, task: dict, rates: np.ndarray, mean_count: float = 6.0) -> dict:
    """Poisson spike counts (T, B, N_UNITS) of units whose rates are a random positive mix of the lab rates."""
    N = rates.shape[2]
    M = rng.standard_normal((N, N_UNITS)) / np.sqrt(N)
    drive = rates @ M  # (T, B, U)
    lo, hi = drive.min(axis=(0, 1)), drive.max(axis=(0, 1))
    base = rng.uniform(0.5, 2.0, N_UNITS)  # counts at each unit's lowest drive
    scale = rng.uniform(0.5, 1.5, N_UNITS) * 2 * mean_count / (hi - lo)
    lam = base + scale * (drive - lo)
    counts = rng.poisson(lam)
    return {"activity": np.minimum(counts, 255).astype(np.uint8), "inputs": task["inputs"],
            "condition": condition_labels(task)}


def condition_labels(task: dict) -> np.ndarray:
    """The condition (index into COHERENCES) of each trial, int16 (n_trials,)."""
    return np.searchsorted(np.asarray(COHERENCES, dtype=np.float32), task["var_coherence"]).astype(np.int16)


def write_examples(outdir) -> dict:
    """Write task.npz, lab_rnn.npz and recording.npz into outdir; {role: path}."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    paths = {role: outdir / name for role, name in FILES.items()}
    task = task_arrays(rng)
    _save(paths["task"], task)
    _save(paths["lab"], lab_network(rng, task))
    rates = lab_rates(paths["lab"], task["inputs"])
    _save(paths["recording"], recording_arrays(rng, task, rates))
    return paths


def _save(path: Path, arrays: dict) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m altrnn.examples", description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="directory to write task.npz, lab_rnn.npz and recording.npz into")
    args = parser.parse_args(argv)
    for role, path in write_examples(args.outdir).items():
        print(f"{role}: {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

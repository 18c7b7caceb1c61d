"""Linear decoding of task variables from network states over time, on held-out trials.

A ridge decoder is fitted at each time step on training trials and scored on
the other trials, at the same step (decodability over time) and at every other
step (the cross-temporal matrix: train at t, test at t'). A static code keeps
one encoding direction, so the matrix is high everywhere; a rotating code is
high only near the diagonal.

A variable is an array (T, B) or (T, B, k), NaN where it is undefined (before
the first flip-flop pulse, before a stimulus). Its kind sets the score:
`binary` (two distinct values, coded -1/+1, scored by accuracy: 0.5 is chance),
`angle` (k = 2 unit vectors (cos, sin): r2 of both, and a circular error), or
`continuous` (r2, pooled over the k components). r2 is 1 - SSE / SST with the
test trials' own mean, so a decoder that learnt nothing scores about 0 (or
below), never the inflated in-sample value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["variable_kind", "coded", "fit_decoders", "cross_temporal", "decode"]

MIN_TRIALS = 2  # fewer defined trials at a step (train or test) leaves it undefined (NaN)


def variable_kind(values: np.ndarray) -> str:
    """`binary`, `angle` or `continuous` (see the module docstring), from the defined values."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("the variable is undefined (NaN) everywhere")
    if values.ndim == 3 and values.shape[2] == 2:
        norm = np.hypot(values[..., 0], values[..., 1])
        if np.allclose(norm[np.isfinite(norm)], 1.0):
            return "angle"
    if values.ndim == 2 and np.unique(finite).size == 2:
        return "binary"
    return "continuous"


def coded(values: np.ndarray, kind: str) -> np.ndarray:
    """The variable as regression targets (T, B, k): a binary variable becomes -1 (lower value) / +1."""
    values = np.asarray(values, dtype=np.float64)
    if kind == "binary":
        hi = np.unique(values[np.isfinite(values)])[-1]
        values = np.where(np.isfinite(values), np.where(values == hi, 1.0, -1.0), np.nan)
    return values[..., None] if values.ndim == 2 else values


def _ridge(X, Y, ridge):
    """Weights (N, k) and intercept (k,) of ridge regression Y ~ X; the penalty is `ridge` x the mean
    eigenvalue of the centred X^T X, so it does not depend on the scale of the states."""
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xc = X - x_mean
    G = Xc.T @ Xc
    scale = np.trace(G) / G.shape[0]
    if scale <= 0:  # no variance across trials: the decoder predicts the training mean
        W = np.zeros((X.shape[1], Y.shape[1]))
    else:
        W = np.linalg.solve(G + ridge * scale * np.eye(G.shape[0]), Xc.T @ (Y - y_mean))
    return W, y_mean - x_mean @ W


def fit_decoders(states: np.ndarray, targets: np.ndarray, ridge: float):
    """One ridge decoder per time step from the trials where the target is defined.

    states (T, B, N), targets (T, B, k). Returns weights (T, N, k) and
    intercepts (T, k), NaN where fewer than MIN_TRIALS trials are defined.
    """
    T, _, N = states.shape
    k = targets.shape[2]
    W, b = np.full((T, N, k), np.nan), np.full((T, k), np.nan)
    for t in range(T):
        ok = np.isfinite(targets[t]).all(axis=1)
        if ok.sum() >= MIN_TRIALS:
            W[t], b[t] = _ridge(states[t, ok], targets[t, ok], ridge)
    return W, b


def _scores(pred, true, kind):
    """Score predictions (..., B, k) against true (B, k) with NaN rows undefined; per leading index."""
    ok = np.isfinite(true).all(axis=-1)
    if ok.sum() < MIN_TRIALS:
        return np.full(pred.shape[:-2], np.nan), np.full(pred.shape[:-2], np.nan)
    p, y = pred[..., ok, :], true[ok]
    circular = np.full(pred.shape[:-2], np.nan)
    if kind == "binary":
        return np.mean(np.sign(p[..., 0]) == y[:, 0], axis=-1), circular
    sst = ((y - y.mean(axis=0)) ** 2).sum()
    sse = ((p - y) ** 2).sum(axis=(-2, -1))
    r2 = 1.0 - sse / sst if sst > 0 else np.full(pred.shape[:-2], np.nan)
    if kind == "angle":
        error = np.angle(np.exp(1j * (np.arctan2(p[..., 1], p[..., 0]) - np.arctan2(y[:, 1], y[:, 0]))))
        circular = np.abs(error).mean(axis=-1)
    return r2, circular


def cross_temporal(W, b, states: np.ndarray, targets: np.ndarray, kind: str):
    """Scores of the decoder of step t applied to the states at step t' (rows t, columns t').

    states (T, B, N) and targets (T, B, k) are the test trials. Returns the
    score matrix (T, T) (accuracy for binary, else r2) and the circular error
    (T, T) of an angle (NaN otherwise). The diagonal is decodability over time.
    """
    T = states.shape[0]
    score, circular = np.full((T, T), np.nan), np.full((T, T), np.nan)
    for s in range(T):  # test step: predictions of every decoder at once
        pred = np.einsum("bn,tnk->tbk", states[s], W) + b[:, None, :]
        score[:, s], circular[:, s] = _scores(pred, targets[s], kind)
    undefined = ~np.isfinite(b).all(axis=1)  # no decoder at these training steps
    score[undefined], circular[undefined] = np.nan, np.nan
    return score, circular


def decode(states: np.ndarray, values: np.ndarray, ridge: float, test_fraction: float = 0.5):
    """Decode one variable: (kind, score matrix, circular-error matrix, n_test (T,): the held-out trials on
    which the variable is defined at each step).

    states (T, B, N) on B trials; values (T, B) or (T, B, k) NaN where undefined.
    The last round(B * test_fraction) trials are held out (trials come from a
    random batch, so a fixed split is a random one).
    """
    states = np.asarray(states, dtype=np.float64)
    if values.shape[:2] != states.shape[:2]:
        raise ValueError(f"variable of shape {values.shape} does not match states of shape {states.shape}")
    B = states.shape[1]
    n_test = int(round(B * test_fraction))
    if n_test < MIN_TRIALS or B - n_test < MIN_TRIALS:
        raise ValueError(f"decoding: {B} trials with test_fraction={test_fraction} leave fewer than "
                         f"{MIN_TRIALS} training or test trials")
    kind = variable_kind(values)
    targets = coded(values, kind)
    W, b = fit_decoders(states[:, :-n_test], targets[:, :-n_test], ridge)
    score, circular = cross_temporal(W, b, states[:, -n_test:], targets[:, -n_test:], kind)
    return kind, score, circular, np.isfinite(targets[:, -n_test:]).all(axis=2).sum(axis=1)

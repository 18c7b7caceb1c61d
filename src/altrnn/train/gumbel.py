"""Gumbel-softmax: differentiable samples of symbols from a network's output logits.

    s = softmax((logits + G) / tau),  G ~ Gumbel(0, 1) i.i.d.

argmax(logits + G) is an exact sample from softmax(logits) (the Gumbel-max
trick); s is its relaxation, a soft one-hot vector that tends to that sample
as the temperature tau -> 0. The noise G is drawn once and passed in, so a
sample is a deterministic, differentiable function of the logits.
"""

from __future__ import annotations

import numpy as np


def gumbel_noise(shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """Standard Gumbel noise -log(-log U), U uniform on (0, 1)."""
    u = rng.random(shape)
    u = np.clip(u, np.finfo(np.float64).tiny, None)  # U = 0 would give -inf
    return (-np.log(-np.log(u))).astype(dtype, copy=False)


def gumbel_softmax(logits: np.ndarray, gumbel: np.ndarray, tau: float) -> np.ndarray:
    """Soft one-hot samples softmax((logits + gumbel) / tau) along the last axis."""
    if not tau > 0:
        raise ValueError(f"Gumbel-softmax temperature must be > 0, got {tau}")
    z = (np.asarray(logits) + gumbel) / tau
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def gumbel_softmax_backward(samples: np.ndarray, tau: float, d_samples: np.ndarray) -> np.ndarray:
    """dL/dlogits from dL/dsamples: the Jacobian of softmax(z / tau) applied to d_samples.

    d s_k / d logit_j = s_k (delta_kj - s_j) / tau, so dL/dlogit_j = s_j (d_j - <d, s>) / tau.
    """
    inner = (samples * d_samples).sum(axis=-1, keepdims=True)
    return samples * (d_samples - inner) / tau


def hard_samples(logits: np.ndarray, gumbel: np.ndarray) -> np.ndarray:
    """The exact symbol samples argmax(logits + gumbel) (integers, the last axis removed)."""
    return np.argmax(np.asarray(logits) + gumbel, axis=-1)

"""A moment term for generative HMM training: run and lagged-pair probabilities against the HMM's own.

A distributional loss on whole sequences (train.sinkhorn) sees a sequence's
long runs of one symbol only weakly: the dwell-time tail is a small part of
the mass of a batch of short sequences. This term compares two families of
moments of the emitted symbols o_t with their exact stationary values:

    run probabilities  R_k(a) = P(o_t = ... = o_{t+k-1} = a)          = pi D_a (P D_a)^(k-1) 1
    lagged pairs       C_l(a, b) = P(o_t = a, o_{t+l} = b)            = pi D_a P^l D_b 1

for k = 1..K and the given lags l, with pi the stationary state distribution,
P the transition matrix and D_a = diag(emission[:, a]). Given the network's
trajectory (its input and recurrent noise), the symbols at different steps
are independent draws from p_t = softmax(logits_t), so the network's
moments are estimated without the Gumbel noise and without bias:

    R_k(a) ~ mean over sequences and t of prod_{j<k} p_{t+j}(a),   C_l(a, b) ~ mean of p_t(a) p_{t+l}(b).

The term is the Pearson-weighted squared error sum (m_hat - m)^2 / m over
every moment m (m at least MIN_MOMENT: an HMM may emit a symbol never), so that
rare long runs weigh as much, relative to their size, as the common short ones. It is 0 where the network's moments equal the HMM's
and is added to the divergence with generative.moment_weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tasks.hmm import stationary_distribution

MIN_MOMENT = 1e-3  # the smallest denominator of the Pearson weights


@dataclass(frozen=True)
class MomentTargets:
    """The HMM's run probabilities runs (K, n_symbols) (row k - 1: runs of k) and lagged pair
    probabilities pairs (len(lags), n_symbols, n_symbols)."""

    runs: np.ndarray
    lags: tuple
    pairs: np.ndarray


def hmm_moments(transition, emission, max_run: int, lags=()) -> MomentTargets:
    """The stationary moments of the module docstring for runs of 1..max_run and the given lags."""
    P, E = np.asarray(transition, dtype=float), np.asarray(emission, dtype=float)
    pi = stationary_distribution(P)
    runs = np.zeros((max_run, E.shape[1]))
    for a in range(E.shape[1]):
        v = pi * E[:, a]  # P(state, o_t = a)
        for k in range(max_run):
            runs[k, a] = v.sum()
            v = (v @ P) * E[:, a]
    pairs = np.array([np.einsum("s,sa,st,tb->ab", pi, E, np.linalg.matrix_power(P, lag), E) for lag in lags])
    return MomentTargets(runs, tuple(int(lag) for lag in lags), pairs.reshape(len(lags), E.shape[1], E.shape[1]))


def moment_loss(probs: np.ndarray, targets: MomentTargets) -> tuple[float, np.ndarray]:
    """(the term, its gradient with respect to probs) for symbol probabilities probs (n_steps, B, n_symbols)."""
    p = np.asarray(probs, dtype=np.float64)
    n, B, _ = p.shape
    if len(targets.runs) > n or any(not 1 <= lag < n for lag in targets.lags):
        raise ValueError(f"moments need runs of at most {n} symbols and lags from 1 to {n - 1}, got runs up to "
                         f"{len(targets.runs)} and lags {list(targets.lags)}")
    value, grad = 0.0, np.zeros_like(p)
    for k, target in enumerate(targets.runs, start=1):
        m = n - k + 1  # windows of k steps in a sequence
        windows = np.stack([p[j:j + m] for j in range(k)])  # (k, m, B, S)
        before = np.concatenate([np.ones_like(windows[:1]), np.cumprod(windows[:-1], axis=0)])
        after = np.concatenate([np.cumprod(windows[:0:-1], axis=0)[::-1], np.ones_like(windows[:1])])
        estimate = (before[-1] * windows[-1]).mean(axis=(0, 1))
        value, coef = _pearson(value, estimate, target, m * B)
        for j in range(k):
            grad[j:j + m] += coef * before[j] * after[j]
    for lag, target in zip(targets.lags, targets.pairs):
        m = n - lag
        estimate = np.einsum("tba,tbc->ac", p[:m], p[lag:]) / (m * B)
        value, coef = _pearson(value, estimate, target, m * B)
        grad[:m] += np.einsum("tbc,ac->tba", p[lag:], coef)
        grad[lag:] += np.einsum("tba,ac->tbc", p[:m], coef)
    return value, grad


def _pearson(value: float, estimate: np.ndarray, target: np.ndarray, count: int) -> tuple[float, np.ndarray]:
    """(value plus sum (estimate - target)^2 / target, its gradient per term of the count-term mean)."""
    weight = 1.0 / np.maximum(target, MIN_MOMENT)
    return value + float((weight * (estimate - target) ** 2).sum()), 2 * weight * (estimate - target) / count

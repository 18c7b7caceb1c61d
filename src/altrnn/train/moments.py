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
every moment m (m at least MIN_MOMENT: an HMM may emit a symbol never), so
that rare long runs weigh as much, relative to their size, as the common
short ones. It is 0 where the network's moments equal the HMM's and is added
to the divergence with generative.moment_weight. What it buys and what it
costs (with lags 1 and 2 only, symbol pairs many steps apart fit worse; lags
up to 16 fit them too): config/README.md, "The HMM study".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tasks.hmm import lagged_pairs, stationary_distribution

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
    return MomentTargets(runs, tuple(int(lag) for lag in lags), lagged_pairs(P, E, lags))


def moment_loss(probs: np.ndarray, targets: MomentTargets) -> tuple[float, np.ndarray]:
    """(the term, its gradient with respect to probs) for symbol probabilities probs (n_steps, B, n_symbols)."""
    p = np.asarray(probs, dtype=np.float64)
    n, B, _ = p.shape
    if len(targets.runs) > n or any(not 1 <= lag < n for lag in targets.lags):
        raise ValueError(f"moments need runs of at most {n} symbols and lags from 1 to {n - 1}, got runs up to "
                         f"{len(targets.runs)} and lags {list(targets.lags)}")
    value, grad = 0.0, np.zeros_like(p)
    # products of k consecutive probabilities, Q_k[t] = Q_{k-1}[t] p[t + k - 1], (n - k + 1, B, S) each
    products = [p] if len(targets.runs) else []
    for k in range(2, len(targets.runs) + 1):
        products.append(products[-1][:-1] * p[k - 1:])
    coefs = []
    for q, target in zip(products, targets.runs):
        value, coef = _pearson(value, q.mean(axis=(0, 1)), target, q.shape[0] * B)
        coefs.append(coef)
    # reverse mode through the recursion: d/dQ_k flows to p[t + k - 1] (times Q_{k-1}) and to Q_{k-1} (times p)
    d_q = np.zeros_like(products[-1]) if products else None
    for k in range(len(products), 1, -1):
        d_q = d_q + coefs[k - 1]
        m = products[k - 1].shape[0]
        grad[k - 1:] += d_q * products[k - 2][:m]
        d_prev = np.zeros_like(products[k - 2])
        d_prev[:m] = d_q * p[k - 1:]
        d_q = d_prev
    if products:
        grad += d_q + coefs[0]
    for lag, target in zip(targets.lags, targets.pairs):
        m = n - lag
        first, second = p[:m].reshape(m * B, -1), p[lag:].reshape(m * B, -1)
        value, coef = _pearson(value, first.T @ second / (m * B), target, m * B)
        grad[:m] += (second @ coef.T).reshape(m, B, -1)
        grad[lag:] += (first @ coef).reshape(m, B, -1)
    return value, grad


def _pearson(value: float, estimate: np.ndarray, target: np.ndarray, count: int) -> tuple[float, np.ndarray]:
    """(value plus sum (estimate - target)^2 / target, its gradient per term of the count-term mean)."""
    weight = 1.0 / np.maximum(target, MIN_MOMENT)
    return value + float((weight * (estimate - target) ** 2).sum()), 2 * weight * (estimate - target) / count

"""Lyapunov exponents of trajectories: how fast nearby states separate (chaos) or merge (attractors).

For a map x -> F(x) the largest Lyapunov exponent of a trajectory x_0, x_1, ... is

    lambda_1 = lim (1/n) ln |J(x_{n-1}) ... J(x_1) J(x_0) v|,   J = dF/dx,

for almost every tangent vector v. lambda_1 > 0 means chaos, < 0 convergence to a
stable fixed point (lambda_1 = ln of the leading eigenvalue modulus of its
Jacobian), ~0 a marginal direction (line attractor, limit cycle).

Method (Benettin et al. 1980): tangent vectors are pushed through the exact
Jacobian each step and re-orthonormalised by QR; the logs of |diag(R)| are
summed. With one vector QR is just renormalisation. With k vectors the sums give
the k leading exponents, whose total is the mean of ln |det J| when k = N.
A transient of n_transient steps first brings the state and the tangent vectors
onto the attractor; it is not counted.

Exponents are per map step. The network's step is dt = a tau, so the rate per
time constant tau is lambda / a (`LyapunovResult.per_tau`).

`lyapunov_exponents` takes any map and Jacobian (the tests use the tent, logistic,
Lozi and linear maps); `largest_lyapunov` runs the network's noise-free map
F(x) = (1 - a) x + a (W phi(x) + W_in u + b) (tanh or ReLU, see `stability.rnn_map`)
with the Jacobian-vector product (1 - a) V + a W (phi'(x) V), never forming J.
Everything runs in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..model.network import ModelConfig, Params, activation
from .stability import activation_slope

TABLE_COLUMNS = ("trajectory", "exponent", "exponent_per_tau", "exponent_first_half", "exponent_second_half")


@dataclass
class LyapunovResult:
    """Lyapunov exponents of S trajectories, per map step.

    exponents (S, k): the k leading exponents of each trajectory, largest first.
    first_half, second_half (S, k): the same from the two halves of the counted steps;
    their difference is a finite-time error estimate (large when not converged).
    final_states (S, d): where the trajectories ended. alpha: the step in units of tau
    (1 for a generic map), so exponents / alpha is the rate per tau.
    """

    exponents: np.ndarray
    first_half: np.ndarray
    second_half: np.ndarray
    final_states: np.ndarray
    n_steps: int
    n_transient: int
    alpha: float = 1.0

    @property
    def largest(self) -> np.ndarray:
        """The largest exponent of each trajectory, (S,)."""
        return self.exponents[:, 0]

    @property
    def per_tau(self) -> np.ndarray:
        """The largest exponent of each trajectory per time constant tau, (S,)."""
        return self.largest / self.alpha

    def summary(self) -> dict:
        """Spread of the largest exponent across initial states: mean, sd, min, median, max, n."""
        lam = self.largest
        return {"mean": float(np.mean(lam)), "sd": float(np.std(lam, ddof=1)) if len(lam) > 1 else 0.0,
                "min": float(np.min(lam)), "median": float(np.median(lam)), "max": float(np.max(lam)),
                "n": int(len(lam))}

    def table(self) -> pd.DataFrame:
        """One row per trajectory, with the columns TABLE_COLUMNS (largest exponent only)."""
        return pd.DataFrame({"trajectory": np.arange(len(self.largest)), "exponent": self.largest,
                             "exponent_per_tau": self.per_tau, "exponent_first_half": self.first_half[:, 0],
                             "exponent_second_half": self.second_half[:, 0]}, columns=list(TABLE_COLUMNS))


def _check_counts(n_steps, n_transient, n_exponents, dim):
    for name, val, low in (("n_steps", n_steps, 2), ("n_transient", n_transient, 0),
                           ("n_exponents", n_exponents, 1)):
        if not isinstance(val, (int, np.integer)) or isinstance(val, bool) or val < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {val!r}")
    if n_exponents > dim:
        raise ValueError(f"n_exponents must be <= the state dimension {dim}, got {n_exponents}")


def _initial_tangents(S, d, k, rng) -> np.ndarray:
    """Random orthonormal tangent vectors, (S, d, k)."""
    q, _ = np.linalg.qr(rng.standard_normal((S, d, k)))
    return q


def _iterate(step, tangent_step, x, n_steps, n_transient, k, rng):
    """The shared loop: x (S, d) states, tangent_step(x, V) -> J(x) V for V (S, d, k)."""
    S, d = x.shape
    V = _initial_tangents(S, d, k, rng)
    sums = np.zeros((2, S, k))
    half = n_steps // 2
    for t in range(n_transient + n_steps):
        V = tangent_step(x, V, t)
        x = step(x, t)
        if k == 1:
            norm = np.linalg.norm(V[:, :, 0], axis=1)
            growth = norm[:, None]
            V = V / np.where(norm > 0, norm, 1.0)[:, None, None]  # J V = 0 (e.g. all ReLUs off, a = 1): -inf
        else:
            V, R = np.linalg.qr(V)
            growth = np.abs(np.diagonal(R, axis1=1, axis2=2))
        if not np.all(np.isfinite(x)):
            raise FloatingPointError(f"a trajectory became non-finite at step {t}: the map diverges from x0")
        if t >= n_transient:
            with np.errstate(divide="ignore"):  # a tangent vector mapped to 0 has exponent -inf
                sums[int(t - n_transient >= half)] += np.log(growth)
    exps = sums.sum(axis=0) / n_steps
    first, second = sums[0] / half, sums[1] / (n_steps - half)
    # QR leaves the order of the diagonal to the data; the exponents' order is by size
    order = np.argsort(-exps, axis=1, kind="stable")
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    return take(exps), take(first), take(second), x


def lyapunov_exponents(step, jacobian, x0, n_steps: int, n_transient: int = 0, n_exponents: int = 1,
                       rng=None) -> LyapunovResult:
    """The n_exponents leading Lyapunov exponents of a map from each initial state.

    step(x) -> F(x) and jacobian(x) -> dF/dx work on a batch: x (S, d) gives (S, d) and
    (S, d, d). x0: (d,) or (S, d) initial states. n_transient steps are run first and not
    counted; then n_steps are. rng seeds the random initial tangent vectors.
    """
    x = np.array(x0, dtype=np.float64, ndmin=2)
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (d,) or (S, d), got {np.shape(x0)}")
    _check_counts(n_steps, n_transient, n_exponents, x.shape[1])
    rng = np.random.default_rng(rng)
    exps, first, second, x = _iterate(lambda x, t: step(x), lambda x, V, t: jacobian(x) @ V, x, n_steps,
                                      n_transient, n_exponents, rng)
    return LyapunovResult(exps, first, second, x, n_steps, n_transient)


def _inputs_per_step(u, n_in: int, n_total: int) -> np.ndarray:
    """u as (n_total, n_in): a constant input (n_in,) repeated, or one input per step."""
    u = np.asarray(u, dtype=np.float64)
    if u.shape == (n_in,):
        return np.broadcast_to(u, (n_total, n_in))
    if u.shape == (n_total, n_in):
        return u
    raise ValueError(f"u must have shape ({n_in},) (constant input) or (n_transient + n_steps, {n_in}) = "
                     f"({n_total}, {n_in}) (one input per step), got {u.shape}")


def largest_lyapunov(params: Params, cfg: ModelConfig, u, x0, n_steps: int, n_transient: int = 0,
                     n_exponents: int = 1, rng=None) -> LyapunovResult:
    """Lyapunov exponents of the network's noise-free trajectories from initial states x0.

    u: a constant input (n_in,) (a task condition's stimulus or fixation input), or inputs per
    step (n_transient + n_steps, n_in), the same for every trajectory. x0: (N,) or (S, N),
    e.g. states the network visited. Returns a LyapunovResult with alpha = cfg.alpha:
    `.largest` the largest exponent per trajectory (per step), `.per_tau` per time constant,
    `.summary()` its spread across initial states, `.table()` one row per trajectory.
    n_exponents > 1 gives the leading exponents too (QR); the Jacobian is exact, also for
    ReLU (phi' is the step function, 0 at x = 0). rng seeds the initial tangent vectors.
    """
    N = cfg.n_rec
    x = np.array(x0, dtype=np.float64, ndmin=2)
    if x.ndim != 2 or x.shape[1] != N:
        raise ValueError(f"x0 must have shape ({N},) or (S, {N}) with n_rec = {N}, got {np.shape(x0)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x0 contains NaN or infinite values")
    _check_counts(n_steps, n_transient, n_exponents, N)
    a = float(cfg.alpha)
    W = np.asarray(params.W, dtype=np.float64)
    W_in, b = np.asarray(params.W_in, dtype=np.float64), np.asarray(params.b, dtype=np.float64)
    drive = _inputs_per_step(u, cfg.n_in, n_transient + n_steps) @ W_in.T + b  # (T, N)
    aWT = a * W.T

    def step(x, t):
        return (1 - a) * x + activation(x, cfg.activation) @ aWT + a * drive[t]

    def tangent_step(x, V, t):  # J V = (1 - a) V + a W (phi'(x) V), batched over trajectories
        S, _, k = V.shape
        SV = (activation_slope(x, cfg.activation)[:, None, :] * V.transpose(0, 2, 1)).reshape(S * k, N)
        return (1 - a) * V + (SV @ aWT).reshape(S, k, N).transpose(0, 2, 1)  # one GEMM for all

    exps, first, second, x = _iterate(step, tangent_step, x, n_steps, n_transient, n_exponents,
                                      np.random.default_rng(rng))
    return LyapunovResult(exps, first, second, x, n_steps, n_transient, alpha=a)

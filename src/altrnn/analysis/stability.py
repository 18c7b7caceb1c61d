"""The network as a map, its Jacobian, and the stability class of a fixed point.

A trained network without noise is the discrete map

    F(x) = (1 - a) x + a (W phi(x) + W_in u + b)

with Jacobian J = (1 - a) I + a W diag(phi'(x)). The continuous-time system it
discretises, tau dx/dt = -x + W phi(x) + W_in u + b, has Jacobian (in units of
1/tau) J_c = (J - I) / a, with the same eigenvectors. Stability is judged on the
map, which is what the network runs; both spectra are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.network import ModelConfig, Params, activation

STABILITY_KINDS = ("stable", "marginal", "saddle", "unstable")


def rnn_map(params: Params, cfg: ModelConfig, x, u) -> np.ndarray:
    """F(x) for states x (..., N) under a constant input u (n_in,), in float64."""
    x = np.asarray(x, dtype=np.float64)
    W, W_in, b = (np.asarray(a, dtype=np.float64) for a in (params.W, params.W_in, params.b))
    drive = activation(x, cfg.activation, cfg.n_relu) @ W.T + (W_in @ np.asarray(u, dtype=np.float64) + b)
    return (1 - cfg.alpha) * x + cfg.alpha * drive


def activation_slope(x, name, n_relu=None) -> np.ndarray:
    """phi'(x): 1 - tanh^2 for tanh, the step function for relu (0 at x = 0); alrnn: the step on units
    < n_relu, 1 on the others."""
    x = np.asarray(x, dtype=np.float64)
    if name == "alrnn":
        if n_relu is None:
            raise ValueError("activation alrnn needs n_relu")
        slope = np.ones_like(x)
        slope[..., :n_relu] = x[..., :n_relu] > 0
        return slope
    return 1 - np.tanh(x) ** 2 if name == "tanh" else (x > 0).astype(np.float64)


def jacobian(params: Params, cfg: ModelConfig, x) -> np.ndarray:
    """dF/dx at one state x (N,): (1 - a) I + a W diag(phi'(x))."""
    W = np.asarray(params.W, dtype=np.float64)
    J = cfg.alpha * W * activation_slope(x, cfg.activation, cfg.n_relu)[None, :]
    J[np.diag_indices_from(J)] += 1 - cfg.alpha
    return J


@dataclass
class Stability:
    """Spectrum and class of one fixed point (or of a cycle's product Jacobian).

    eigvals are the map's eigenvalues sorted by decreasing modulus; eigvecs
    holds the matching eigenvectors of the `n_dominant` leading ones as columns.
    """

    eigvals: np.ndarray
    cont_eigvals: np.ndarray
    eigvecs: np.ndarray
    kind: str
    n_unstable: int
    spiral: bool

    @property
    def max_modulus(self) -> float:
        return float(np.abs(self.eigvals[0]))


def classify(J, alpha: float | None = None, marginal_tol: float = 1e-3, n_dominant: int = 3) -> Stability:
    """Stability of a map's fixed point from its Jacobian J (N, N).

    |lambda| > 1 + tol counts as unstable, |lambda| >= 1 - tol as marginal.
    kind is `stable` (all inside), `marginal` (none outside, some on the unit
    circle), `saddle` (some outside, some inside or on it) or `unstable` (all
    outside). `spiral` means the leading eigenvalue is complex. With `alpha`,
    cont_eigvals are those of the continuous-time system, (lambda - 1) / alpha;
    without it (e.g. a cycle's product Jacobian) they are empty.
    """
    J = np.asarray(J, dtype=np.float64)
    if J.ndim != 2 or J.shape[0] != J.shape[1]:
        raise ValueError(f"Jacobian must be square, got shape {J.shape}")
    vals, vecs = np.linalg.eig(J)
    order = np.argsort(-np.abs(vals), kind="stable")
    vals, vecs = vals[order], vecs[:, order]
    modulus = np.abs(vals)
    n_unstable = int(np.sum(modulus > 1 + marginal_tol))
    n_marginal = int(np.sum(np.abs(modulus - 1) <= marginal_tol))
    if n_unstable == 0:
        kind = "marginal" if n_marginal else "stable"
    else:
        kind = "unstable" if n_unstable == len(vals) else "saddle"
    cont = (vals - 1) / alpha if alpha is not None else np.empty(0, dtype=complex)
    return Stability(eigvals=vals, cont_eigvals=cont, eigvecs=vecs[:, :n_dominant], kind=kind,
                     n_unstable=n_unstable, spiral=bool(abs(vals[0].imag) > 1e-12))

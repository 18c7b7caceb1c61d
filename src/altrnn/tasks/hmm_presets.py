"""Hidden Markov models to emulate, by name or by explicit matrices, and samples of their emissions.

Presets (Torre et al. 2025 use these architectures; PAPERS.md gives no
emission structure, so the one here is this project's choice):

    linear2 .. linear5   states 0 - 1 - ... - K-1 in a line; a state moves to each
                         neighbour with probability (1 - stay) / 2, an end state to
                         its one neighbour with probability 1 - stay
    full3                3 states, each moving to each other with probability (1 - stay) / 2
    cyclic4              4 states on a one-way cycle: i -> i+1 (mod 4) with probability 1 - stay

Every preset has one symbol per state: a state emits its own symbol with
probability `own` and each other symbol with (1 - own) / (K - 1). Defaults
stay = 0.9 (mean dwell 10 steps), own = 0.8. Stationary state distributions:
uniform for full3 and cyclic4; (1, 2, ..., 2, 1) / (2K - 2) for the chains
(detailed balance: an end state leaves twice as often toward the middle).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hmm import analytic_statistics, inverse_cdf, stationary_distribution

PRESETS = ("linear2", "linear3", "linear4", "linear5", "full3", "cyclic4")


@dataclass(frozen=True)
class HMMSpec:
    """An HMM: transition (K, K) and emission (K, n_symbols), both row-stochastic."""

    name: str
    transition: np.ndarray
    emission: np.ndarray

    @property
    def n_states(self) -> int:
        return self.transition.shape[0]

    @property
    def n_symbols(self) -> int:
        return self.emission.shape[1]

    def stationary(self) -> np.ndarray:
        return stationary_distribution(self.transition)

    def analytic_statistics(self, max_dwell: int = 20, lags=()) -> dict:
        """Stationary occupancy, symbol transitions, dwell times (and pairs at lags) of the emissions (tasks.hmm)."""
        return analytic_statistics(self.transition, self.emission, max_dwell, lags)

    def sample(self, n_steps: int, n_trials: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(states, symbols), integer arrays (n_steps, n_trials), the chain started from its stationary distribution."""
        trans_cdf, emit_cdf = np.cumsum(self.transition, axis=1), np.cumsum(self.emission, axis=1)
        u = rng.random((n_steps, n_trials, 2))
        states = np.empty((n_steps, n_trials), dtype=np.int64)
        s = inverse_cdf(np.broadcast_to(np.cumsum(self.stationary()), (n_trials, self.n_states)), u[0, :, 0])
        for t in range(n_steps):
            if t:
                s = inverse_cdf(trans_cdf[s], u[t, :, 0])
            states[t] = s
        symbols = inverse_cdf(emit_cdf[states.ravel()], u[:, :, 1].ravel()).reshape(n_steps, n_trials)
        return states, symbols


def own_symbol_emission(n: int, own: float) -> np.ndarray:
    """State i emits symbol i with probability own, every other with (1 - own) / (n - 1)."""
    if n == 1:
        return np.ones((1, 1))
    return own * np.eye(n) + (1 - own) / (n - 1) * (1 - np.eye(n))


def preset(name: str, stay: float = 0.9, own: float = 0.8) -> HMMSpec:
    """The named preset (module docstring) with self-transition probability stay and emission accuracy own."""
    if not 0 <= stay <= 1:
        raise ValueError(f"hmm preset {name!r}: 'stay' must be in [0, 1], got {stay}")
    if not 0 <= own <= 1:
        raise ValueError(f"hmm preset {name!r}: 'own' must be in [0, 1], got {own}")
    move = 1 - stay
    if name.startswith("linear") and name in PRESETS:
        K = int(name[len("linear"):])
        P = stay * np.eye(K)
        for i in range(K):
            neighbours = [j for j in (i - 1, i + 1) if 0 <= j < K]
            for j in neighbours:
                P[i, j] = move / len(neighbours)
    elif name == "full3":
        K = 3
        P = stay * np.eye(K) + move / 2 * (1 - np.eye(K))
    elif name == "cyclic4":
        K = 4
        P = stay * np.eye(K) + move * np.roll(np.eye(K), 1, axis=1)
    else:
        raise ValueError(f"unknown hmm preset {name!r}; known presets: {list(PRESETS)}")
    return HMMSpec(name, P, own_symbol_emission(K, own))


def validate_matrices(transition, emission, name: str = "hmm") -> tuple[np.ndarray, np.ndarray]:
    """Check explicit matrices: transition square, emission with as many rows, both row-stochastic.

    Errors name the matrix, the row and the sizes involved.
    """
    P = _matrix(transition, f"{name}: 'transition'")
    E = _matrix(emission, f"{name}: 'emission'")
    if P.shape[0] != P.shape[1]:
        raise ValueError(f"{name}: 'transition' must be square (n_states x n_states), got {P.shape[0]} x {P.shape[1]}")
    if E.shape[0] != P.shape[0]:
        raise ValueError(f"{name}: 'emission' must have one row per state: 'transition' has {P.shape[0]} states, "
                         f"'emission' has {E.shape[0]} rows")
    for key, M in (("transition", P), ("emission", E)):
        for i, row in enumerate(M):
            if np.any(row < 0):
                raise ValueError(f"{name}: {key!r} row {i} has a negative entry: {row.tolist()}")
            if not abs(row.sum() - 1.0) <= 1e-8:
                raise ValueError(f"{name}: {key!r} row {i} sums to {row.sum():.10g}, not 1: {row.tolist()}")
    return P / P.sum(axis=1, keepdims=True), E / E.sum(axis=1, keepdims=True)


def _matrix(value, what: str) -> np.ndarray:
    try:
        M = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a matrix of numbers (a list of equal-length rows), got {value!r}") from None
    if M.ndim != 2 or M.size == 0:
        raise ValueError(f"{what} must be a non-empty matrix (a list of equal-length rows), got {value!r}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{what} has non-finite entries: {value!r}")
    return M


def hmm_from_config(spec, where: str = "hmm") -> HMMSpec:
    """An HMM from a config value: a preset name, {'preset': name, 'stay': .., 'own': ..},
    or {'transition': [[..]], 'emission': [[..]]} (optionally 'name'). Errors start with `where`."""
    if isinstance(spec, str):
        try:
            return preset(spec)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: expected a preset name {list(PRESETS)} or a mapping, got {spec!r}")
    if "preset" in spec:
        extra = set(spec) - {"preset", "stay", "own"}
        if extra:
            raise ValueError(f"{where}: unknown keys {sorted(extra)} beside 'preset' (allowed: 'stay', 'own')")
        try:
            return preset(spec["preset"], **{k: float(spec[k]) for k in ("stay", "own") if k in spec})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
    missing = {"transition", "emission"} - set(spec)
    if missing:
        raise ValueError(f"{where}: give 'preset' or both 'transition' and 'emission'; missing {sorted(missing)}")
    extra = set(spec) - {"transition", "emission", "name"}
    if extra:
        raise ValueError(f"{where}: unknown keys {sorted(extra)} (allowed: 'transition', 'emission', 'name')")
    P, E = validate_matrices(spec["transition"], spec["emission"], where)
    return HMMSpec(str(spec.get("name", "custom")), P, E)

"""HMM emulation: a network turns input noise into the emissions of a given hidden Markov model.

Each HMM step, two noise inputs are mapped to uniforms u; the next hidden
state is the inverse CDF of the current state's transition row at u_0, the
emission the inverse CDF of the new state's emission row at u_1. The target
is thus a deterministic function of the inputs that the network can learn,
and a network that learns it emits sequences with the HMM's statistics.
Networks are judged by those statistics (occupancy, symbol transitions,
dwell times), compared as total-variation distances.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import ndtr

from .base import Batch, Task

NOISES = ("uniform", "gaussian")


class HMM(Task):
    """Emulate an HMM; the target is the one-hot emission, one HMM step every `hold` network steps.

    Inputs (2 channels): z = noise_scale * xi, held for `hold` steps, with xi
    uniform on [-1, 1] (noise "uniform", u = clip((z + 1) / 2, 0, 1)) or
    standard normal (noise "gaussian", u = Phi(z)). The map z -> u is fixed,
    so at noise_scale 1 the u are exactly uniform and the targets follow the
    HMM; at other scales the network sees inputs outside the trained range
    while the targets still come from the same map (the HMM driven by
    non-uniform u), which tests whether it learned the map. The first HMM step
    draws the state from `initial` (None: the stationary distribution) at u_0.
    The first `grace` network steps of each HMM step are not scored.

    `transition` (n_states x n_states) and `emission` (n_states x n_symbols,
    n_out = n_symbols) are row-stochastic lists of lists. If None: states stay
    with probability 0.9 (else move uniformly) and emit their own symbol with
    probability 0.8 (else uniformly another).
    For this chain, applying a transition twice with the same u gives the same
    state as applying it once, so a network may simply settle under the held
    input; for other matrices it must apply each transition once per HMM step.

    OOD variants: `temporal_x2` (n_steps x2), `long` (n_steps x4), `wide_noise`
    (noise_scale x1.5).
    """

    name = "hmm"
    defaults = {
        "n_states": 3,
        "transition": None,
        "emission": None,
        "initial": None,
        "n_steps": 20,
        "hold": 10,
        "grace": 3,
        "noise": "uniform",
        "noise_scale": 1.0,
        "max_dwell": 20,
    }

    @property
    def n_in(self) -> int:
        return 2

    @property
    def n_out(self) -> int:
        return self.emission.shape[1]

    @property
    def T(self) -> int:
        return self.params["n_steps"] * self.params["hold"]

    def _validate(self) -> None:
        self._int("n_states")
        self._int("n_steps", minimum=2)
        self._int("hold")
        self._int("grace", minimum=0)
        self._int("max_dwell", minimum=2)
        p = self.params
        if p["grace"] >= p["hold"]:
            raise ValueError(f"{self.name}: 'grace' must be < hold so some steps are scored")
        if p["noise"] not in NOISES:
            raise ValueError(f"{self.name}: 'noise' must be one of {NOISES}, got {p['noise']!r}")
        self._real("noise_scale", lo_open=True)
        n = p["n_states"]
        off = 1.0 / (n - 1) if n > 1 else 0.0
        if p["transition"] is None:
            p["transition"] = (0.9 * np.eye(n) + 0.1 * off * (1 - np.eye(n)) if n > 1 else np.eye(1)).tolist()
        if p["emission"] is None:
            p["emission"] = (0.8 * np.eye(n) + 0.2 * off * (1 - np.eye(n)) if n > 1 else np.eye(1)).tolist()
        self.transition = self._stochastic("transition", (n, n))
        self.emission = self._stochastic("emission", (n, None))
        if p["initial"] is None:
            self.initial = stationary_distribution(self.transition)
        else:
            self.initial = self._stochastic("initial", (n,))

    def _stochastic(self, key: str, shape: tuple) -> np.ndarray:
        """Check that params[key] is a (row-)stochastic array of `shape` (None: any size >= 1)."""
        try:
            a = np.array(self.params[key], dtype=float)
        except (TypeError, ValueError):
            a = np.empty(0)
        good_shape = a.ndim == len(shape) and a.size and all(s in (None, d) for s, d in zip(shape, a.shape))
        if not good_shape:
            want = " x ".join("any" if s is None else str(s) for s in shape)
            raise ValueError(f"{self.name}: {key!r} must be an array of shape {want} (n_states = "
                             f"{self.params['n_states']}), got {self.params[key]!r}")
        if not np.all(np.isfinite(a)) or np.any(a < 0) or not np.allclose(a.sum(axis=-1), 1.0, atol=1e-8):
            raise ValueError(f"{self.name}: {key!r} must have non-negative entries and rows summing to 1")
        a = a / a.sum(axis=-1, keepdims=True)
        self.params[key] = a.tolist()
        return a

    def uniforms(self, z: np.ndarray) -> np.ndarray:
        """The fixed map from input noise to the uniforms that drive the HMM."""
        return np.clip((z + 1) / 2, 0.0, 1.0) if self.params["noise"] == "uniform" else ndtr(z)

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        p = self.params
        B, S = n_trials, p["n_steps"]
        shape = (S, B, 2)
        xi = rng.uniform(-1.0, 1.0, shape) if p["noise"] == "uniform" else rng.standard_normal(shape)
        z = p["noise_scale"] * xi
        u = self.uniforms(z)
        states = np.empty((S, B), dtype=np.int64)
        symbols = np.empty((S, B), dtype=np.int64)
        trans_cdf, emit_cdf = np.cumsum(self.transition, axis=1), np.cumsum(self.emission, axis=1)
        s = inverse_cdf(np.broadcast_to(np.cumsum(self.initial), (B, len(self.initial))), u[0, :, 0])
        for k in range(S):
            if k:
                s = inverse_cdf(trans_cdf[s], u[k, :, 0])
            states[k] = s
            symbols[k] = inverse_cdf(emit_cdf[s], u[k, :, 1])

        hold = p["hold"]
        inputs = np.repeat(z, hold, axis=0)
        targets = np.repeat(np.eye(self.n_out)[symbols], hold, axis=0)
        scored = np.arange(self.T) % hold >= p["grace"]
        mask = np.broadcast_to(scored[:, None, None], targets.shape).astype(float)
        return Batch(inputs, targets, mask, {"states": states.T.copy(), "symbols": symbols.T.copy()})

    def symbols(self, outputs: np.ndarray, batch: Batch) -> np.ndarray:
        """The network's emission at each HMM step: argmax of the mean output over its scored steps, (n_steps, B)."""
        outputs = self._check_outputs(outputs, batch)
        p = self.params
        blocks = outputs.reshape(p["n_steps"], p["hold"], batch.n_trials, self.n_out)[:, p["grace"]:]
        return np.argmax(blocks.mean(axis=1), axis=2)

    def emission_statistics(self, symbols: np.ndarray) -> dict:
        """Statistics of symbol sequences (T, B) with this HMM's alphabet (see emission_statistics)."""
        return emission_statistics(symbols, self.n_out, self.params["max_dwell"])

    def analytic_statistics(self) -> dict:
        """The stationary emission statistics of this HMM (see analytic_statistics)."""
        return analytic_statistics(self.transition, self.emission, self.params["max_dwell"])

    def distances(self, outputs: np.ndarray, batch: Batch) -> dict[str, float]:
        """Distances between the statistics of the network's emissions and of the target emissions.

        The targets are the HMM's own emissions on the same noise (see compare_statistics).
        """
        reference = self.emission_statistics(batch.meta["symbols"].T)
        return compare_statistics(self.emission_statistics(self.symbols(outputs, batch)), reference)

    def extra_metrics(self, outputs: np.ndarray, batch: Batch) -> dict[str, float]:
        """The three distances, and symbol_match: the fraction of HMM steps emitting the target symbol.

        symbol_match tells a network that computes the map from noise to emission
        (near 1) from one that only reproduces the statistics (near chance).
        """
        match = float(np.mean(self.symbols(outputs, batch) == batch.meta["symbols"].T))
        return {**self.distances(outputs, batch), "symbol_match": match}

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """1 - mean of the three total-variation distances (1: the same statistics as the targets).

        A distance that is undefined (nan: e.g. no complete run in the targets) is left out.
        """
        return float(1.0 - np.nanmean(list(self.distances(outputs, batch).values())))

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        return {
            "temporal_x2": self.with_params(n_steps=2 * p["n_steps"]),
            "long": self.with_params(n_steps=4 * p["n_steps"]),
            "wide_noise": self.with_params(noise_scale=1.5 * p["noise_scale"]),
        }


def inverse_cdf(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index j with cdf[b, j-1] <= u[b] < cdf[b, j] for each row b (the last index if u >= the total)."""
    return np.minimum((u[:, None] >= cdf[:, :-1]).sum(axis=1), cdf.shape[1] - 1)


def stationary_distribution(transition: np.ndarray) -> np.ndarray:
    """A probability vector pi with pi P = pi (least squares; unique for an irreducible chain)."""
    n = transition.shape[0]
    A = np.vstack([transition.T - np.eye(n), np.ones((1, n))])
    pi = np.linalg.lstsq(A, np.r_[np.zeros(n), 1.0], rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def emission_statistics(symbols: np.ndarray, n_symbols: int, max_dwell: int = 20, lags=()) -> dict:
    """Occupancy, transition matrix and dwell-time distribution of integer sequences symbols (T, B).

    occupancy (n,): fraction of all steps on each symbol. transition (n, n):
    row a is the distribution of the symbol following a (nan if a is never
    followed). dwell (n, max_dwell): distribution of the lengths 1, 2, ... of
    runs of each symbol, the last bin holding lengths >= max_dwell (nan if
    there are none). Runs cut by a sequence's ends are left out; each complete
    run of length k is weighted 1 / (T - 1 - k), the number of places such a
    run fits, which makes the estimate unbiased. counts, pair_counts and runs
    give the sample sizes. With lags, also pairs (L, n, n): for each lag l the
    joint distribution of the symbols (o_t, o_{t+l}) over every t of every
    sequence, and lag_counts, its counts.
    """
    per_sequence = sequence_counts(symbols, n_symbols, max_dwell, lags)
    return statistics_from_counts(**{k: v.sum(axis=0) for k, v in per_sequence.items()})


def sequence_counts(symbols: np.ndarray, n_symbols: int, max_dwell: int = 20, lags=()) -> dict[str, np.ndarray]:
    """Each sequence's share of emission_statistics' sums: counts (B, n), pair_counts (B, n, n), dwell
    (B, n, max_dwell) (weighted runs), runs (B, n) and, with lags, lag_counts (B, L, n, n) of symbols
    (T, B). Summed over sequences they give emission_statistics; resampled, its bootstrap
    (bootstrap_distances)."""
    s = np.asarray(symbols)
    if s.ndim != 2 or s.shape[0] < 2:
        raise ValueError(f"symbols must be (T, B) with T >= 2, got shape {s.shape}")
    if any(not 1 <= int(lag) < s.shape[0] for lag in lags):
        raise ValueError(f"lags must be in [1, {s.shape[0] - 1}] for sequences of {s.shape[0]} symbols, "
                         f"got {list(lags)}")
    if not np.issubdtype(s.dtype, np.integer) or s.min() < 0 or s.max() >= n_symbols:
        raise ValueError(f"symbols must be integers in [0, {n_symbols})")
    T, B = s.shape
    column = np.broadcast_to(np.arange(B), s.shape)
    counts = np.zeros((B, n_symbols))
    np.add.at(counts, (column, s), 1.0)
    pairs = np.zeros((B, n_symbols * n_symbols))
    np.add.at(pairs, (column[1:], s[:-1] * n_symbols + s[1:]), 1.0)
    dwell = np.zeros((B, n_symbols, max_dwell))
    runs = np.zeros((B, n_symbols))
    for b in range(B):
        edges = np.flatnonzero(s[1:, b] != s[:-1, b]) + 1  # first step of each new run
        starts, ends = edges[:-1], edges[1:]  # complete runs: between two changes
        length = ends - starts
        sym = s[starts, b]
        np.add.at(dwell[b], (sym, np.minimum(length, max_dwell) - 1), 1.0 / (T - 1 - length))
        np.add.at(runs[b], sym, 1.0)
    out = {"counts": counts, "pair_counts": pairs.reshape(B, n_symbols, n_symbols), "dwell": dwell, "runs": runs}
    if len(lags):
        lagged = np.zeros((B, len(lags), n_symbols * n_symbols))
        for i, lag in enumerate(int(lag) for lag in lags):
            np.add.at(lagged[:, i], (column[lag:], s[:-lag] * n_symbols + s[lag:]), 1.0)
        out["lag_counts"] = lagged.reshape(B, len(lags), n_symbols, n_symbols)
    return out


def statistics_from_counts(counts, pair_counts, dwell, runs, lag_counts=None) -> dict:
    """emission_statistics' result from its summed counts (sequence_counts summed over sequences)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "occupancy": counts / counts.sum(),
            "transition": pair_counts / pair_counts.sum(axis=1, keepdims=True),
            "dwell": dwell / dwell.sum(axis=1, keepdims=True),
            "counts": counts,
            "pair_counts": pair_counts,
            "runs": np.rint(runs).astype(np.int64),
        }
        if lag_counts is not None:
            out["pairs"] = lag_counts / lag_counts.sum(axis=(-2, -1), keepdims=True)
            out["lag_counts"] = lag_counts
    return out


def bootstrap_distances(per_sequence: dict, reference: dict, n_boot: int, rng: np.random.Generator,
                        level: float = 0.95) -> dict[str, float]:
    """Basic bootstrap intervals of the distances compare_statistics(statistics, reference).

    per_sequence: sequence_counts of B sequences, the independent units (the
    symbols within one are correlated). Each of n_boot resamples draws B
    sequences with replacement. Sampling noise moves a distance away from 0,
    so a resample's distance d* exceeds the sample's d about as much as d
    exceeds the population's: the interval for the population's distance is
    [2 d - q_hi, 2 d - q_lo] with q the (1 -+ level) / 2 quantiles of d*,
    clipped at 0 (the percentile interval [q_lo, q_hi] would carry that bias
    twice). Returns {distance}_lo and {distance}_hi (nan where d is nan).
    """
    B = len(per_sequence["counts"])
    sample = compare_statistics(statistics_from_counts(**{k: v.sum(axis=0) for k, v in per_sequence.items()}),
                                reference)
    weights = rng.multinomial(B, np.full(B, 1.0 / B), size=n_boot).astype(float)  # (n_boot, B): draws per sequence
    summed = {k: np.tensordot(weights, v, axes=1) for k, v in per_sequence.items()}
    rows = [compare_statistics(statistics_from_counts(**{k: v[r] for k, v in summed.items()}), reference)
            for r in range(n_boot)]
    out = {}
    for key, d in sample.items():
        values = np.array([row[key] for row in rows])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # every resample nan: nan
            q_lo, q_hi = np.nanquantile(values, [(1 - level) / 2, (1 + level) / 2])
        out[f"{key}_lo"], out[f"{key}_hi"] = float(max(2 * d - q_hi, 0.0)), float(max(2 * d - q_lo, 0.0))
    return out


def lagged_pairs(transition, emission, lags) -> np.ndarray:
    """(L, m, m): for each lag l the stationary joint distribution of the symbols (o_t, o_{t+l}) of an HMM,
    pi D_a P^l D_b 1 with pi the stationary state distribution and D_a = diag(emission[:, a])."""
    P, E = np.asarray(transition, dtype=float), np.asarray(emission, dtype=float)
    pi = stationary_distribution(P)
    pairs = [np.einsum("s,sa,st,tb->ab", pi, E, np.linalg.matrix_power(P, int(lag)), E) for lag in lags]
    return np.array(pairs).reshape(len(pairs), E.shape[1], E.shape[1])


def analytic_statistics(transition, emission, max_dwell: int = 20, lags=()) -> dict:
    """The stationary occupancy, transition matrix and dwell distribution of an HMM's emissions (and, with
    lags, the joint distributions of symbol pairs at those lags: lagged_pairs).

    With pi the stationary state distribution and D_a = diag(emission[:, a]):
    occupancy = pi E; P(next = b | a) = pi D_a P D_b 1 / occupancy_a; a run of
    a of length exactly k starts (after a step not on a) at a given step with
    probability pi (I - D_a) (P D_a)^k P (1 - E[:, a]), normalised over k.
    With emission = I these are the states' own statistics (geometric dwell times).
    """
    P, E = np.asarray(transition, dtype=float), np.asarray(emission, dtype=float)
    n, m = E.shape
    pi = stationary_distribution(P)
    occupancy = pi @ E
    joint = lagged_pairs(P, E, [1])[0]
    dwell = np.zeros((m, max_dwell))
    for a in range(m):
        PD = P * E[:, a][None, :]
        v = (pi * (1 - E[:, a])) @ PD  # a run of a starts: state distribution at its first step
        end = P @ (1 - E[:, a])  # then the next step is not on a
        for k in range(1, max_dwell):
            dwell[a, k - 1] = v @ end
            v = v @ PD
        dwell[a, -1] = v @ np.linalg.solve(np.eye(n) - PD, end)  # lengths >= max_dwell
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "occupancy": occupancy,
            "transition": joint / occupancy[:, None],
            "dwell": dwell / dwell.sum(axis=1, keepdims=True),
        }
    if len(lags):
        out["pairs"] = lagged_pairs(P, E, lags)
    return out


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Total-variation distance 0.5 sum |p - q| along the last axis."""
    return 0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(axis=-1)


def compare_statistics(stats: dict, reference: dict) -> dict[str, float]:
    """Total-variation distances between two sets of statistics, each in [0, 1].

    occupancy_tv: between the occupancies. transition_tv and dwell_tv: between
    each symbol's row, averaged with the reference occupancy as weights over
    the symbols whose reference row is defined; a row missing from `stats`
    (e.g. a symbol the network never emits) counts as distance 1. nan if no
    reference row is defined. pairs_tv, when both hold pairs (the same lags):
    the largest over the lags of the TV between the joint distributions of
    the symbol pairs at that lag.
    """
    out = {"occupancy_tv": float(total_variation(stats["occupancy"], reference["occupancy"]))}
    weight = np.asarray(reference["occupancy"], dtype=float)
    for key in ("transition", "dwell"):
        ref, got = np.asarray(reference[key]), np.asarray(stats[key])
        defined = ~np.isnan(ref).any(axis=1) & (weight > 0)
        d = np.where(np.isnan(got).any(axis=1), 1.0, total_variation(np.nan_to_num(got), ref))
        w = weight * defined
        out[f"{key}_tv"] = float((w * np.nan_to_num(d)).sum() / w.sum()) if w.sum() > 0 else float("nan")
    if "pairs" in stats and "pairs" in reference:
        got, ref = np.asarray(stats["pairs"]), np.asarray(reference["pairs"])
        out["pairs_tv"] = float(total_variation(got.reshape(len(got), -1), ref.reshape(len(ref), -1)).max())
    return out

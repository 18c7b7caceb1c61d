"""Symbolic dynamics of piecewise-linear networks (ReLU RNNs and AL-RNNs): regions as symbols.

A ReLU network or AL-RNN is affine on each linear region, the set of states
with one on/off pattern of its P switching units (P = N for relu, n_relu for
alrnn; analysis.plrnn). Naming each region by a symbol turns a trajectory into
a symbol sequence, the coarse description of the dynamics that Brenner et al.
(2024) read off AL-RNNs:

* symbol: the integer sum_i d_i 2^i over the switching units i < P, with
  d_i = (x_i > 0); written as a bit string, unit 0 first ("10" is unit 0 on,
  unit 1 off). A state exactly on a boundary (x_i = 0) counts as off, as in
  the network (relu(0) = 0, slope 0).
* topological graph: an edge s -> s' whenever s' follows s somewhere in the
  trajectories (self-loops included); its adjacency matrix is 0/1.
* geometric graph: the same edges weighted by how often each transition
  occurs, row-normalised to transition probabilities, with each region's
  occupancy (fraction of time steps spent in it).
* topological entropy: log of the spectral radius of the topological graph's
  adjacency matrix, the growth rate of the number of allowed symbol words
  (the vertex shift the graph defines): ln 2 for the full 2-shift, ln of the
  golden ratio for the golden-mean shift (no two 1s in a row). 0 when the
  graph has no cycle (the number of words does not grow).

Transitions are counted within each trial only; states come time-major as the
network's forward pass returns them, (T, N) or (T, B, N).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REGION_COLUMNS = ("symbol", "pattern", "occupancy", "n_visits", "n_successors", "p_stay", "fixed_points", "cycles")


MAX_INT64_SWITCH = 62  # up to this many switching units a symbol is an int64; beyond, a Python int (object array)


def region_symbols(states, n_switch: int) -> np.ndarray:
    """The symbol of each state (..., N): sum over units i < n_switch of (x_i > 0) 2^i.

    int64 for n_switch <= 62; for wider networks (a 64-unit ReLU network) the symbols are Python ints in an
    object array, so that every region keeps its own symbol.
    """
    x = np.asarray(states)
    if not 0 <= n_switch <= x.shape[-1]:
        raise ValueError(f"n_switch must be between 0 and N = {x.shape[-1]}, got {n_switch}")
    bits = x[..., :n_switch] > 0
    if n_switch <= MAX_INT64_SWITCH:
        return bits.astype(np.int64) @ (np.int64(1) << np.arange(n_switch, dtype=np.int64))
    packed = np.packbits(bits, axis=-1, bitorder="little")
    out = np.empty(bits.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = int.from_bytes(packed[idx].tobytes(), "little")
    return out


def _symbol_array(symbols) -> np.ndarray:
    """Symbols as int64, or as Python ints (object) when they are wider than int64."""
    a = np.asarray(symbols)
    return a if a.dtype == object else a.astype(np.int64)


def symbol_names(symbols, n_switch: int) -> list[str]:
    """Bit strings of symbols, unit 0 first: symbol 1 with n_switch = 3 is "100"."""
    return ["".join("1" if (int(s) >> i) & 1 else "0" for i in range(n_switch)) for s in np.ravel(symbols)]


def symbol_sequences(states, n_switch: int) -> np.ndarray:
    """Symbol sequences (B, T) of trajectories (T, N) or (T, B, N), time-major."""
    x = np.asarray(states)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3:
        raise ValueError(f"states must have shape (T, N) or (T, B, N), got {x.shape}")
    return region_symbols(x, n_switch).T


@dataclass
class SymbolicGraph:
    """Regions visited and the transitions between them.

    symbols (K,) sorted region symbols; counts (K, K) how often symbols[j] follows symbols[i];
    visits (K,) how many time steps were spent in each region.
    """

    symbols: np.ndarray
    counts: np.ndarray
    visits: np.ndarray
    n_switch: int

    @property
    def adjacency(self) -> np.ndarray:
        """The topological graph: 1 where a transition occurs at least once."""
        return (self.counts > 0).astype(np.int64)

    @property
    def transition_probabilities(self) -> np.ndarray:
        """The geometric graph: counts row-normalised (a row without outgoing transitions stays 0)."""
        out = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, out, out=np.zeros(self.counts.shape), where=out > 0)

    @property
    def occupancy(self) -> np.ndarray:
        """Fraction of all time steps spent in each region."""
        return self.visits / max(1, self.visits.sum())

    @property
    def names(self) -> list[str]:
        return symbol_names(self.symbols, self.n_switch)

    def index(self, symbol) -> int:
        """Position of a symbol in `symbols`, -1 when the region was not visited."""
        i = int(np.searchsorted(self.symbols, symbol))
        return i if i < len(self.symbols) and self.symbols[i] == symbol else -1

    def entropy(self) -> float:
        """Topological entropy of the topological graph (see the module doc)."""
        return topological_entropy(self.adjacency)

    def edges(self) -> pd.DataFrame:
        """One row per edge: source, target (symbols), their bit strings, count, probability."""
        i, j = np.nonzero(self.counts)
        names, P = self.names, self.transition_probabilities
        return pd.DataFrame({"source": self.symbols[i], "target": self.symbols[j],
                             "source_pattern": [names[a] for a in i], "target_pattern": [names[b] for b in j],
                             "count": self.counts[i, j].astype(np.int64), "probability": P[i, j]})


def symbolic_graph(sequences, n_switch: int) -> SymbolicGraph:
    """Topological and geometric graph of symbol sequences (B, T) or (T,) (one trial)."""
    seq = np.atleast_2d(_symbol_array(sequences))
    symbols, inverse = np.unique(seq, return_inverse=True)
    idx = inverse.reshape(seq.shape)
    K = len(symbols)
    counts = np.zeros((K, K), dtype=np.int64)
    np.add.at(counts, (idx[:, :-1].ravel(), idx[:, 1:].ravel()), 1)
    return SymbolicGraph(symbols=symbols, counts=counts, visits=np.bincount(idx.ravel(), minlength=K),
                         n_switch=n_switch)


def topological_entropy(adjacency) -> float:
    """log of the spectral radius of a 0/1 (or non-negative) adjacency matrix; 0 when it is nilpotent."""
    A = np.asarray(adjacency, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"adjacency must be a square matrix, got shape {A.shape}")
    if A.size == 0:
        return 0.0
    # The spectral radius of a non-negative matrix is the largest over its strongly connected components
    # (block-triangular form), so a wide network's thousands of transient regions cost no eigenvalues.
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n, labels = connected_components(csr_matrix(A), directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=n)
    single = sizes[labels] == 1
    rho = float(np.max(np.diag(A)[single], initial=0.0))  # a lone region: its self-loop
    for c in np.flatnonzero(sizes > 1):
        idx = np.flatnonzero(labels == c)
        rho = max(rho, float(np.max(np.abs(np.linalg.eigvals(A[np.ix_(idx, idx)])))))
    return float(np.log(rho)) if rho > 1e-9 else 0.0


def orbit_symbols(orbits, n_switch: int) -> list[np.ndarray]:
    """The symbol sequence (k,) of each orbit (k, N): a fixed point (k = 1) or cycle, e.g. plrnn.PLResult.orbits."""
    return [region_symbols(np.atleast_2d(orbit), n_switch) for orbit in orbits]


def region_table(graph: SymbolicGraph, orbits=(), labels=None) -> pd.DataFrame:
    """One row per region visited or holding a fixed point or cycle point, with the columns REGION_COLUMNS.

    orbits: fixed points (1, N) or (N,) and cycles (k, N), e.g. plrnn.PLResult.orbits; labels name them
    (default: their positions). fixed_points and cycles list, as text ("0;3", "" for none), the labels of
    those with a point in the region; p_stay is the probability of staying in the region for one more step.
    """
    labels = list(range(len(orbits))) if labels is None else list(labels)
    if len(labels) != len(orbits):
        raise ValueError(f"got {len(labels)} labels for {len(orbits)} orbits")
    fixed, cycles = {}, {}
    for label, seq in zip(labels, orbit_symbols(orbits, graph.n_switch)):
        target = fixed if len(seq) == 1 else cycles
        for sym in np.unique(seq):
            target.setdefault(int(sym), []).append(label)
    symbols = sorted(set(graph.symbols.tolist()) | set(fixed) | set(cycles))
    P = graph.transition_probabilities
    successors = graph.adjacency.sum(axis=1)
    rows = []
    for sym in symbols:
        i = graph.index(sym)
        rows.append({"symbol": sym, "pattern": symbol_names([sym], graph.n_switch)[0],
                     "occupancy": float(graph.occupancy[i]) if i >= 0 else 0.0,
                     "n_visits": int(graph.visits[i]) if i >= 0 else 0,
                     "n_successors": int(successors[i]) if i >= 0 else 0,
                     "p_stay": float(P[i, i]) if i >= 0 else 0.0,
                     "fixed_points": ";".join(map(str, fixed.get(sym, []))),
                     "cycles": ";".join(map(str, cycles.get(sym, [])))})
    return pd.DataFrame(rows, columns=list(REGION_COLUMNS)).astype(
        {"symbol": np.int64 if graph.n_switch <= MAX_INT64_SWITCH else object, "pattern": object, "occupancy": float, "n_visits": np.int64, "n_successors": np.int64,
         "p_stay": float, "fixed_points": object, "cycles": object})

"""Shared pieces of the tasks: the Batch container, the Task base class, the loss.

Arrays are time-major, (T, B, channels), float64. One step is dt = 20 ms of a
network with tau = 100 ms, so all durations are counted in steps.
"""

from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no scalar truth value
class Batch:
    """One batch of trials: inputs, targets, loss mask and per-trial metadata."""

    inputs: np.ndarray  # (T, B, n_in)
    targets: np.ndarray  # (T, B, n_out)
    mask: np.ndarray  # (T, B, n_out), 1.0 where the loss counts the target
    meta: dict  # name -> array with leading dim B

    def __post_init__(self):
        if self.inputs.ndim != 3 or self.targets.shape[:2] != self.inputs.shape[:2]:
            raise ValueError("inputs and targets must be (T, B, channels) with equal T, B")
        if self.mask.shape != self.targets.shape:
            raise ValueError("mask must have the shape of targets")

    @property
    def T(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_trials(self) -> int:
        return self.inputs.shape[1]


def masked_mse(outputs: np.ndarray, batch: Batch) -> float:
    """Mean squared error over the masked entries (the trainer's loss); 0 if none."""
    n = batch.mask.sum()
    if n == 0:
        return 0.0
    return float((batch.mask * (outputs - batch.targets) ** 2).sum() / n)


class Task:
    """Base class: parameter handling, validation helpers and the batch contract.

    Subclasses set `name` and `defaults`, and implement `n_in`, `n_out`,
    `_validate`, `_batch`, `accuracy` and `ood_variants`.
    """

    name: str = ""
    defaults: dict = {}

    def __init__(self, **params):
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(
                f"unknown parameter {unknown[0]!r} for task {self.name!r}; "
                f"valid keys: {sorted(self.defaults)}"
            )
        self.params = {**copy.deepcopy(self.defaults), **params}
        self._validate()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    # --- to implement -------------------------------------------------------
    @property
    def n_in(self) -> int:
        raise NotImplementedError

    @property
    def n_out(self) -> int:
        raise NotImplementedError

    def _validate(self) -> None:
        raise NotImplementedError

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        raise NotImplementedError

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        raise NotImplementedError

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """Named constant inputs (n_in,) under which to analyse fixed points; by default zero input."""
        return {"zero": np.zeros(self.n_in)}

    def ood_variants(self) -> dict[str, Task]:
        raise NotImplementedError

    def task_variables(self, batch: Batch) -> dict[str, np.ndarray]:
        """Variables to decode from the network over time: name -> (T, B) or (T, B, k), NaN where undefined.

        The states at step t have seen the inputs up to and including step t
        (analysis.decoding). None by default.
        """
        return {}

    def extra_metrics(self, outputs: np.ndarray, batch: Batch) -> dict[str, float]:
        """Task-specific scores beyond `accuracy` (name -> value); none by default."""
        return {}

    # --- shared -------------------------------------------------------------
    def batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        """Draw `n_trials` trials; all randomness comes from `rng`."""
        if not _is_int(n_trials) or n_trials < 1:
            raise ValueError(f"n_trials must be a positive int, got {n_trials!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        return self._batch(int(n_trials), rng)

    def with_params(self, **changes) -> Task:
        """A new task of the same class with some parameters changed."""
        return type(self)(**{**self.params, **changes})

    def _check_outputs(self, outputs: np.ndarray, batch: Batch) -> np.ndarray:
        outputs = np.asarray(outputs)
        if outputs.shape != batch.targets.shape:
            raise ValueError(f"outputs shape {outputs.shape} != targets shape {batch.targets.shape}")
        return outputs

    # Validation helpers: each names the offending key in its error.
    def _int(self, key: str, minimum: int = 1) -> None:
        v = self.params[key]
        if not _is_int(v) or v < minimum:
            raise ValueError(f"{self.name}: {key!r} must be an int >= {minimum}, got {v!r}")
        self.params[key] = int(v)

    def _real(self, key: str, lo: float = 0.0, hi: float = np.inf, lo_open: bool = False) -> None:
        v = self.params[key]
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)
        if not ok or not (lo < v if lo_open else lo <= v) or v > hi:
            bound = f"{'(' if lo_open else '['}{lo}, {hi}]"
            raise ValueError(f"{self.name}: {key!r} must be a finite number in {bound}, got {v!r}")
        self.params[key] = float(v)


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)

"""Shared checks of task batches (used by the task tests)."""

import numpy as np

from altrnn.tasks import Batch, Task


def rng(seed=0):
    return np.random.default_rng(seed)


def same(a: Batch, b: Batch) -> bool:
    return (
        np.array_equal(a.inputs, b.inputs)
        and np.array_equal(a.targets, b.targets)
        and np.array_equal(a.mask, b.mask)
        and a.meta.keys() == b.meta.keys()
        and all(np.array_equal(a.meta[k], b.meta[k]) for k in a.meta)
    )


def check_valid(task: Task, batch: Batch, n_trials: int) -> None:
    T = batch.inputs.shape[0]
    assert batch.inputs.shape == (T, n_trials, task.n_in)
    assert batch.targets.shape == batch.mask.shape == (T, n_trials, task.n_out)
    for a in (batch.inputs, batch.targets, batch.mask):
        assert a.dtype == np.float64
        assert np.all(np.isfinite(a))
    assert set(np.unique(batch.mask)) <= {0.0, 1.0}
    assert batch.mask.sum() > 0
    for v in batch.meta.values():
        assert len(v) == n_trials

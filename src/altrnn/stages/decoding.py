"""Stage `decoding`: how linearly decodable each task variable is over time, in every network of a unit.

All networks run noise-free on one shared batch of trials; each variable the
task declares (Task.task_variables) is decoded from the rates at every
`stride`-th step, on held-out trials (analysis.decoding). One table over time
for all networks, and one npz of cross-temporal matrices.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..analysis import decoding
from ..io import load_model, write_csv, write_npz
from ..netids import net_of
from ..tasks import make_task

log = logging.getLogger("altrnn.stages.decoding")

COLUMNS = ["net_id", "variable", "kind", "measure", "time", "value", "n_test"]
SEPARATOR = "__"  # npz key of a matrix: {net_id}__{variable}


def decode_networks(models: dict, task, n_trials: int, seed: int, ridge: float, stride: int,
                    test_fraction: float) -> tuple[pd.DataFrame, dict]:
    """The decoding table (COLUMNS) and arrays: `times` and one cross-temporal score matrix per network and
    variable. measure is accuracy (binary variables) or r2, plus circular_error (radians) for an angle;
    n_test is the number of held-out trials on which the variable is defined at that step."""
    from ..model import forward  # here, so that the figure job reading these files never loads numba

    batch = task.batch(n_trials, np.random.default_rng(seed))
    variables = task.task_variables(batch)
    if not variables:
        raise ValueError(f"task {task.name!r} declares no variables to decode (Task.task_variables)")
    times = np.arange(0, batch.T, stride)
    rows, arrays = [], {"times": times}
    for name, model in models.items():
        rates = forward(model.params, model.config, batch.inputs).r[1:][times]
        for var, values in variables.items():
            kind, score, circular, n_test = decoding.decode(rates, values[times], ridge, test_fraction)
            arrays[f"{name}{SEPARATOR}{var}"] = score
            measures = {"accuracy" if kind == "binary" else "r2": np.diag(score)}
            if kind == "angle":
                measures["circular_error"] = np.diag(circular)
            for measure, values_t in measures.items():
                rows += [{"net_id": name, "variable": var, "kind": kind, "measure": measure, "time": int(t),
                          "value": float(v), "n_test": int(n)} for t, v, n in zip(times, values_t, n_test)]
        log.info("%s: peak decodability %s", name, ", ".join(
            f"{v} {np.nanmax(np.diag(arrays[f'{name}{SEPARATOR}{v}'])):.2f}" for v in variables))
    return pd.DataFrame(rows, columns=COLUMNS), arrays


def matrices(arrays: dict) -> dict:
    """{(net_id, variable): cross-temporal matrix} from a decoding npz."""
    return {tuple(k.split(SEPARATOR, 1)): v for k, v in arrays.items() if SEPARATOR in k}




def decoding_job(kind: str, params: dict, settings: dict, model_paths, out_csv, out_npz):
    """The workflow's decoding job; settings: n_trials, seed, ridge, stride, test_fraction."""
    models = {net_of(f): load_model(f) for f in model_paths}
    table, arrays = decode_networks(models, make_task(kind, params), **settings)
    write_npz(out_npz, **arrays)
    write_csv(table, out_csv)

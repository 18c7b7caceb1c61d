"""Stage `gaming`: could a network game a similarity measure by padding a copy of an earlier one with noise?

The unit's reference network runs noise-free on the similarity batch; its
rates are compared with the same rates plus k noise units, for k a growing
multiple of N, by linear CKA, RSA and held-out predictability in both
directions (analysis.gaming). One table per unit: each measure's mean over
noise draws with its 95% bootstrap interval, and its large-sample value.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..analysis import gaming
from ..io import load_model, read_table, write_csv
from ..tasks import make_task

log = logging.getLogger("altrnn.stages.gaming")


def gaming_table(model, task, batch: dict, settings: dict) -> pd.DataFrame:
    """The summary table (analysis.gaming.SUMMARY_COLUMNS) for one network.

    batch: n_trials, seed, test_fraction, rho, rsa (the similarity stage's batch,
    ridge and RSA options); settings: the gaming section (paddings, n_draws,
    noise, seed, n_boot).
    """
    from .similarity import shared_rates  # here, so that the figure job reading the table never loads numba

    rates = shared_rates({"net": model}, task, batch["n_trials"], batch["seed"])["net"]
    draws = gaming.padding_table(rates, settings["paddings"], settings["n_draws"], settings["seed"],
                                 settings["noise"], batch["test_fraction"], batch["rho"], batch["rsa"])
    table = gaming.summarise(draws, n_boot=settings["n_boot"], seed=settings["seed"])
    widest = table[table["padding"] == table["padding"].max()].set_index("measure")["mean"]
    log.info("padding %g x N: %s", table["padding"].max(), ", ".join(f"{m} {v:.3f}" for m, v in widest.items()))
    return table


def read_gaming_table(path) -> pd.DataFrame:
    """A metric_gaming.csv, checked: an unreadable file or a missing column raises ResultFileError naming it."""
    return read_table(path, gaming.SUMMARY_COLUMNS)


def gaming_job(kind: str, params: dict, batch: dict, settings: dict, model_path, out_csv):
    """The workflow's metric_gaming job: the table of one network (the unit's ref)."""
    write_csv(gaming_table(load_model(model_path), make_task(kind, params), batch, settings), out_csv)

"""Stage `insd_distance`: how far INSD moves each non-standard network (ref, alt1, ...) of a unit, in units
of the standard group's natural degeneracy, at the behaviour, dynamics and weight levels."""

from __future__ import annotations

import logging

import pandas as pd

from ..analysis.insd_distance import COLUMNS, insd_distance_table
from ..io import load_model, read_table, write_csv
from ..netids import net_of

log = logging.getLogger("altrnn.stages.insd_distance")

N_BOOT = 1000  # bootstrap resamples of the standard networks (as the degeneracy stage)




def insd_distance_job(standard_ids: list, eval_paths, model_paths, dsa_csv, out_csv):
    """The workflow's insd_distance job: every network's eval.csv and model.npz, the unit's dsa.csv."""
    evals = pd.concat([read_table(f).assign(net_id=net_of(f)) for f in eval_paths], ignore_index=True)
    weights = {net_of(f): load_model(f).params.W for f in model_paths}
    others = [n for n in weights if n not in standard_ids]
    table = insd_distance_table(list(standard_ids), others, evals, read_table(dsa_csv), weights, n_boot=N_BOOT)
    for r in table.itertuples():
        log.info("%s %s: %.3g natural degeneracies [%.3g, %.3g]", r.net_id, r.level, r.ratio, r.ci_low, r.ci_high)
    write_csv(table, out_csv)

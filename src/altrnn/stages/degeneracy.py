"""Stage `degeneracy`: how degenerate the standard networks of a unit are, at three levels."""

from __future__ import annotations

import pandas as pd

from ..analysis import degeneracy
from ..io import load_model, read_table, write_csv
from ..netids import net_of


def degeneracy_table(evals: dict[str, pd.DataFrame], dsa_table: pd.DataFrame, weights: dict,
                     **bootstrap) -> pd.DataFrame:
    """Behaviour, dynamics and weight degeneracy over the given (standard) networks, with bootstrap intervals."""
    nets = list(evals)
    eval_table = pd.concat([e.assign(net_id=n) for n, e in evals.items()], ignore_index=True)
    dsa_sub = dsa_table[dsa_table["net_a"].isin(nets) & dsa_table["net_b"].isin(nets)]
    return degeneracy.degeneracy_table(eval_table=eval_table, dsa=dsa_sub, weights=weights, **bootstrap)


def degeneracy_job(eval_paths, model_paths, dsa_csv, out_csv):
    """The workflow's degeneracy job."""
    evals = {net_of(f): read_table(f) for f in eval_paths}
    weights = {net_of(f): load_model(f).params.W for f in model_paths}
    write_csv(degeneracy_table(evals, read_table(dsa_csv), weights), out_csv)

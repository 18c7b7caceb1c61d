"""Stage `hmm_mechanism`: the mechanism tools (analysis.hmm_mechanism) on every HMM-emulating network.

Per network, beside its model.npz (results/hmm/{hmm}/nets/{net_id}/): the
tables of TABLES, from the model, the HMM and GenerativeConfig stored in its
metadata, and its weight snapshots (snapshots.npz) for training_phase.csv.
Per HMM, one figure per tool (plots.hmm_mechanism).
"""

from __future__ import annotations

import logging
from dataclasses import asdict

import pandas as pd

from ..config import ConfigError, HmmMechanismConfig, parse_section
from ..errors import ResultFileError
from ..io import load_model, read_npz, write_csv
from ..netids import net_of
from ..tasks.hmm_presets import HMMSpec, validate_matrices

log = logging.getLogger("altrnn.stages.hmm_mechanism")

TABLES = {"fixed_points": "mechanism_fixed_points.csv", "orbit_radius": "orbit_radius.csv",
          "residency": "residency.csv", "ablation": "ablation.csv", "kick_units": "kick_units.csv",
          "training_phase": "training_phase.csv"}
SNAPSHOT_ARRAYS = ("iteration", "W_in", "W", "b", "W_out", "b_out")
FIGURES = ("fixed_points", "orbit_radius", "residency", "kick_units", "training_phase")  # kick_units: with ablation


def settings_of(values: dict) -> HmmMechanismConfig:
    """The section from a plain mapping (the rule's params), checked; errors name the key."""
    try:
        return parse_section(HmmMechanismConfig, values, "hmm_mechanism")
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


def load_network(model_path):
    """(SavedModel, HMMSpec, GenerativeConfig) of a network of the hmm stage; errors name the file."""
    from ..train.generative import GenerativeConfig  # numerics imported by the jobs only, not by the workflow

    saved = load_model(model_path)
    meta = saved.metadata
    if not isinstance(meta.get("hmm"), dict) or not isinstance(meta.get("generative"), dict):
        raise ValueError(f"{model_path}: not a network of the hmm stage (metadata needs 'hmm' and 'generative')")
    try:
        P, E = validate_matrices(meta["hmm"]["transition"], meta["hmm"]["emission"], str(meta["hmm"].get("name")))
        gen = GenerativeConfig.from_dict(meta["generative"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{model_path}: bad hmm or generative metadata: {exc}") from None
    return saved, HMMSpec(str(meta["hmm"].get("name", "hmm")), P, E), gen


def mechanism_job(settings: dict, model_path, snapshots_path, paths: dict):
    """The workflow's per-network job: every table of TABLES (snapshots_path None: no training_phase)."""
    from ..analysis import hmm_mechanism

    settings = settings_of(settings)
    saved, hmm, gen = load_network(model_path)
    snapshots = read_npz(snapshots_path) if snapshots_path is not None else None
    missing = [k for k in SNAPSHOT_ARRAYS if snapshots is not None and k not in snapshots]
    if missing:
        raise ValueError(f"{snapshots_path}: not a snapshots file of the hmm stage, missing arrays {missing}")
    log.info("%s: HMM %s, %d units, settings %s", model_path, hmm.name, saved.config.n_rec, asdict(settings))
    tables = hmm_mechanism.mechanism_tables(saved.params, saved.config, gen, hmm, settings, snapshots)
    for key, table in tables.items():
        write_csv(table, paths[key])
    kicks = tables["kick_units"]
    log.info("%d zero-input fixed points; %d kick units of %d", (tables["fixed_points"]["kind"] == "fixed").sum(),
             int(kicks["kick"].sum()), len(kicks))


def read_csv(path) -> pd.DataFrame:
    """One of this stage's tables (an empty fixed-point table is valid); a damaged file raises naming it."""
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise ResultFileError(f"{path}: file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ResultFileError(f"{path}: not a readable table: {exc}") from None


def figure_job(label: str, tables: dict, outputs: dict):
    """The per-HMM figures: tables {key of TABLES: [paths, one per network]}, outputs {figure: (pdf, png)}."""
    from ..plots import hmm_mechanism as plot
    from ..plots.common import save_figure

    frames = {key: {net_of(f): read_csv(f) for f in files} for key, files in tables.items()}
    for name, (pdf, png) in outputs.items():
        save_figure(plot.FIGURES[name](frames, label), pdf, png)

"""Reading and writing result files: atomic writes, model.npz, clear errors on bad files.

The model package (and so numba) is imported only by the functions that read or
write models, so that jobs which only read tables and arrays (figures, study
tables) start fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .errors import ResultFileError  # noqa: F401  (re-exported: altrnn.io.ResultFileError)




@contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it owner-only; results follow the umask
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Columns every result table must have, by file name (see README, Outputs).
TABLE_COLUMNS = {
    "eval.csv": ["condition", "loss", "accuracy"],
    "train_log.csv": ["iteration", "loss", "task_loss", "penalty", "grad_norm"],
    "train_time.csv": ["iterations", "seconds"],
    "diagnostics.csv": ["weight_change", "kernel_alignment", "iterations", "converged"],
    "linear_predictability.csv": ["net_a", "net_b", "space", "value"],
    "fixed_points.csv": ["condition", "method", "point", "kind", "stability"],
    "manifolds.csv": ["condition", "kind", "point", "branch", "reaches", "stopped"],
    "degeneracy.csv": ["level", "measure", "value", "n_networks"],
    "trends.csv": ["measure", "x", "family"],  # a study's trends (panel and facet may be empty)
    "decoding.csv": ["net_id", "variable", "kind", "measure", "time", "value", "n_test"],  # value NaN: undefined
    "insd_distance.csv": ["net_id", "level", "distance", "within", "n_standard"],  # ratio NaN: no spread
    "bifurcations.csv": ["iteration", "condition", "n_fixed", "n_cycles"],  # counts per training snapshot
    "symbolic.csv": ["symbol", "occupancy", "n_visits", "n_switching", "entropy"],  # regions of a PL network
    "symbolic_edges.csv": ["source", "target", "count", "probability"],  # transitions between its regions
}
EMPTY_ALLOWED = {"fixed_points.csv", "manifolds.csv"}  # a network may have no points or manifolds


def _table_columns(name: str):
    if name in TABLE_COLUMNS:
        return TABLE_COLUMNS[name]
    if name.endswith("_mds.csv"):
        return ["net_id", "dim1", "dim2"]
    return ["net_a", "net_b", "value"]  # a similarity metric's table


def read_table(path, columns=None, *, allow_empty=None, complete=None, **read_csv_options) -> pd.DataFrame:
    """A result table, checked: a missing, empty, truncated or foreign file raises ResultFileError naming it.

    columns: the columns it must have, by default those its file name calls for
    (TABLE_COLUMNS). allow_empty: whether no rows is a valid result (default:
    the file names in EMPTY_ALLOWED). complete: no missing value in those
    columns (default: true for the tables of TABLE_COLUMNS, whose `value` and
    `reaches` may be missing; false for explicit columns). read_csv_options go
    to pandas.read_csv.
    """
    name = Path(path).name
    try:
        table = pd.read_csv(path, **read_csv_options)
    except FileNotFoundError:
        raise ResultFileError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise ResultFileError(f"{path}: empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise ResultFileError(f"{path}: not a readable table (truncated or corrupted?): {exc}") from None
    required = _table_columns(name) if columns is None else list(columns)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ResultFileError(f"{path}: missing column(s) {missing}; found {list(table.columns)}")
    if table.empty and not (name in EMPTY_ALLOWED if allow_empty is None else allow_empty):
        raise ResultFileError(f"{path}: no rows (truncated?)")
    if complete if complete is not None else columns is None:
        holes = [c for c in required if table[c].isna().any() and c not in ("value", "reaches")]
        if holes:
            raise ResultFileError(f"{path}: missing values in column(s) {holes} (truncated or edited?)")
    return table


def write_csv(df: pd.DataFrame, path):
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def write_npz(path, **arrays):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def read_npz(path) -> dict:
    """Load every array of an .npz file, with an error naming the file if it is unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise ResultFileError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ResultFileError(f"{path}: not a readable .npz file (truncated or corrupted?): {exc}") from None


def source_version() -> str:
    """Package version plus the git commit of the source tree when there is one, `.dirty` if the package has
    uncommitted changes."""
    here = Path(__file__).parent
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                             timeout=5, check=True)
        status = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=here, capture_output=True,
                                text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return __version__
    dirty = ".dirty" if status.stdout.strip() else ""  # uncommitted changes to the package
    return f"{__version__}+g{out.stdout.strip()}{dirty}"


@dataclass
class SavedModel:
    """A trained network as stored in model.npz: effective weights (the ones the network runs with)."""

    params: Params
    config: ModelConfig
    metadata: dict
    init: Params | None = None  # the initial effective weights (W_0, ...), when stored


INIT_SUFFIX = "_0"  # model.npz holds the initial weights as W_in_0, W_0, b_0, W_out_0, b_out_0


def save_model(path, params: Params, config: ModelConfig, metadata: dict, init: Params | None = None):
    """Write weights, optionally the initial weights, and metadata (model config, settings, version) to
    model.npz atomically."""
    meta = {"model": asdict(config), **metadata,
            "version": source_version()}
    initial = {} if init is None else {name + INIT_SUFFIX: a for name, a in init.as_dict().items()}
    write_npz(path, metadata=np.array(json.dumps(meta, sort_keys=True)), **params.as_dict(), **initial)


def load_model(path) -> SavedModel:
    """Load model.npz written by save_model; a damaged or foreign file raises ResultFileError naming it."""
    from .model import PARAM_NAMES, ModelConfig, Params

    data = read_npz(path)
    missing = [k for k in (*PARAM_NAMES, "metadata") if k not in data]
    if missing:
        raise ResultFileError(f"{path}: not a model file, missing arrays {missing}")
    try:
        meta = json.loads(str(data["metadata"]))
        config = ModelConfig(**meta["model"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ResultFileError(f"{path}: unreadable model metadata: {exc}") from None
    bad = [k for k in PARAM_NAMES if not np.all(np.isfinite(data[k]))]
    if bad:
        raise ResultFileError(f"{path}: non-finite (NaN or infinite) weights in {bad}")
    params = Params(*(data[k] for k in PARAM_NAMES)).astype(config.np_dtype)
    N = config.n_rec
    if params.W.shape != (N, N) or params.W_out.shape != (config.n_out, N) or params.W_in.shape != (N, config.n_in):
        raise ResultFileError(f"{path}: weight shapes do not match the stored model config")
    init = None
    if all(k + INIT_SUFFIX in data for k in PARAM_NAMES):  # files written before the initial weights were kept
        init = Params(*(data[k + INIT_SUFFIX] for k in PARAM_NAMES)).astype(config.np_dtype)
        if any(a.shape != b.shape for a, b in zip(init.arrays(), params.arrays())):
            raise ResultFileError(f"{path}: initial weight shapes do not match the weights")
    return SavedModel(params=params, config=config, metadata=meta, init=init)

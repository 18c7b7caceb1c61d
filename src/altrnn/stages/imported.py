"""Stage `import_network`: a network trained elsewhere, written as this project's model.npz.

The weights file (npz or safetensors, PyTorch nn.RNN names or this project's)
is converted exactly (altrnn.model.imports) and checked against the task
entry's n_in and n_out; its dynamics (alpha, activation, sigma_rec, dtype) come
from the config entry. From then on every analysis stage reads it like a
trained network; it has no train_log.csv or diagnostics.csv.
"""

from __future__ import annotations

import hashlib
import logging

from ..config import ImportedNetwork, parse_section
from ..io import save_model
from ..model import ModelConfig
from ..model.imports import read_network
from ..netids import imported_id
from ..tasks import make_task

log = logging.getLogger("altrnn.stages.imported")


def _sha256(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def import_network(kind: str, task_params: dict, name: str, settings: dict, weights_path, model_path):
    """The workflow's import_network job; settings: the entry's `imported.<name>` in canonical form."""
    net = parse_section(ImportedNetwork, settings, f"imported.{name}")
    task = make_task(kind, task_params)
    params, naming, sources = read_network(weights_path, task.n_in, task.n_out, net.naming, f"task {kind!r}")
    cfg = ModelConfig(n_in=task.n_in, n_rec=params.W.shape[0], n_out=task.n_out, activation=net.activation,
                      alpha=net.alpha, sigma_rec=net.sigma_rec, dtype=net.dtype)
    metadata = {"task": task.name, "task_params": task.params, "net_id": imported_id(name),
                "imported": {"path": str(weights_path), "sha256": _sha256(weights_path), "naming": naming,
                             "arrays": sources}}
    log.info("%s: %s naming, N = %d, %s, alpha %g, sigma_rec %g; arrays %s", weights_path, naming, cfg.n_rec,
             cfg.activation, cfg.alpha, cfg.sigma_rec, sources)
    save_model(model_path, params.astype(cfg.np_dtype), cfg, metadata)

"""A task defined by arrays in an .npz file: trials recorded or generated elsewhere, trained on as they are.

The file holds `inputs` (T, B, n_in), `targets` (T, B, n_out), optionally
`mask` (T, B, n_out) or (T, B) (default: every entry scored) and per-trial
variables `var_<name>`, (B,) or (T, B) (NaN where undefined), to decode from
the networks (without any, the decoding stage decodes the targets). A batch is a random selection of the file's B trials.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from .base import Batch, Task

DRAWS = ("permutation", "replacement")
ACCURACIES = ("auto", "argmax", "tolerance")
VARIABLE_PREFIX = "var_"

_cache: dict = {}  # (resolved path, mtime_ns, size) -> (sha256, arrays)


class ArrayTask(Task):
    """Trials from an .npz file (`path`, relative to the working directory).

    Batches: `draw` "permutation" takes n distinct trials in random order
    (n > B repeats the file: whole shuffled passes, then a partial one);
    "replacement" draws each trial independently and uniformly. Training,
    evaluation and every analysis draw their batches this way from their own
    seeded generator. batch.meta["trial"] is the file's index of each trial.

    `checksum`: the sha256 of the file (and of the `ood` files), filled in when
    the task is built; a given value must match, so a changed file is an error,
    and in the workflow a changed file changes the jobs' parameters and reruns
    them.

    Accuracy (`accuracy` "auto"): "argmax" if every scored step's target is
    one-hot (one 1, zeros elsewhere): the share of scored steps whose largest
    output is the target's 1; otherwise "tolerance": the share of scored
    entries with |output - target| <= `tolerance`.

    `stretch` k holds each step of the file for k network steps (inputs,
    targets, mask and (T, B) variables alike): the same trials k times slower.

    Analysis inputs: zero, and the mean input over time and trials ("mean",
    unless it is zero). OOD variants: `temporal_x2`, the trials twice as slow
    (stretch x2; the condition the behavioural degeneracy reads), and `ood`,
    name -> another .npz with the same channels (a file named `temporal_x2`
    replaces the stretched trials).
    """

    name = "arrays"
    defaults = {
        "path": None,
        "inputs": "inputs",
        "targets": "targets",
        "mask": None,  # None: the array "mask" if present, else every entry scored
        "draw": "permutation",
        "accuracy": "auto",
        "tolerance": 0.1,
        "stretch": 1,  # each step of the file held for this many network steps
        "ood": {},
        "checksum": None,
    }

    @property
    def n_in(self) -> int:
        return self._data["inputs"].shape[2]

    @property
    def n_out(self) -> int:
        return self._data["targets"].shape[2]

    @property
    def n_file_trials(self) -> int:
        return self._data["inputs"].shape[1]

    def _validate(self) -> None:
        p = self.params
        if not isinstance(p["path"], str) or not p["path"]:
            raise ValueError(f"{self.name}: 'path' must be the path of an .npz file, got {p['path']!r}")
        for key in ("inputs", "targets"):
            if not isinstance(p[key], str) or not p[key]:
                raise ValueError(f"{self.name}: {key!r} must be an array name, got {p[key]!r}")
        if p["mask"] is not None and (not isinstance(p["mask"], str) or not p["mask"]):
            raise ValueError(f"{self.name}: 'mask' must be an array name or null, got {p['mask']!r}")
        for key, options in (("draw", DRAWS), ("accuracy", ACCURACIES)):
            if p[key] not in options:
                raise ValueError(f"{self.name}: {key!r} must be one of {list(options)}, got {p[key]!r}")
        self._real("tolerance", 0.0, lo_open=True)
        self._int("stretch")
        ood = p["ood"] if p["ood"] is not None else {}
        if not isinstance(ood, dict) or not all(isinstance(k, str) and k and isinstance(v, str) and v
                                                for k, v in ood.items()):
            raise ValueError(f"{self.name}: 'ood' must map condition names to .npz paths, got {p['ood']!r}")
        if "in_distribution" in ood:
            raise ValueError(f"{self.name}: 'ood' cannot name a condition 'in_distribution'")
        p["ood"] = dict(ood)
        if p["checksum"] is not None and not isinstance(p["checksum"], str):
            raise ValueError(f"{self.name}: 'checksum' must be a sha256 hex string or null, got {p['checksum']!r}")

        digest, data = self._load(p["path"])
        self._data = _stretched(data, p["stretch"])
        shapes = {"n_in": self.n_in, "n_out": self.n_out}
        digests = [digest]
        for cond, path in sorted(p["ood"].items()):
            d, data = self._load(path)
            digests.append(d)
            got = {"n_in": data["inputs"].shape[2], "n_out": data["targets"].shape[2]}
            if got != shapes:
                raise ValueError(f"{self.name}: {path}: OOD condition {cond!r} has {got}, but {p['path']} has "
                                 f"{shapes}; the networks need the same channels")
        checksum = digest if len(digests) == 1 else hashlib.sha256(" ".join(digests).encode()).hexdigest()
        if p["checksum"] is not None and p["checksum"] != checksum:
            raise ValueError(f"{self.name}: {p['path']}: the content's sha256 is {checksum}, not the given "
                             f"checksum {p['checksum']}: the file changed (remove `checksum` to accept it)")
        p["checksum"] = checksum
        self._one_hot = self._targets_one_hot()

    def _load(self, path: str):
        """(sha256, checked float64 arrays) of one file, cached while the file is unchanged."""
        file = Path(path)
        try:
            stat = file.resolve().stat()
        except OSError:
            raise ValueError(f"{self.name}: {path}: file not found (relative paths are relative to "
                             f"{Path.cwd()})") from None
        key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size, self.params["inputs"],
               self.params["targets"], self.params["mask"])
        if key not in _cache:
            raw = file.read_bytes()
            _cache[key] = (hashlib.sha256(raw).hexdigest(), self._check(path, raw))
        return _cache[key]

    def _check(self, path: str, raw: bytes) -> dict:
        """The file's arrays as float64, after checking names, shapes, dtypes and NaNs (errors name them)."""
        import io

        p = self.params
        if not zipfile.is_zipfile(io.BytesIO(raw)):  # np.load would try to unpickle it
            raise ValueError(f"{self.name}: {path}: not a readable .npz file (not a zip archive)")
        arrays = {}
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
                for k in npz.files:
                    try:
                        arrays[k] = npz[k]
                    except ValueError:  # pickled: object dtype
                        raise ValueError(f"{self.name}: {path}: array {k!r} holds Python objects (dtype object); "
                                         "expected a real numeric dtype (bool, int or float)") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ValueError(f"{self.name}: {path}: not a readable .npz file: {exc}") from None
        mask_name = p["mask"] or "mask"
        names = {"inputs": p["inputs"], "targets": p["targets"]}
        for role, name in names.items():
            if name not in arrays:
                raise ValueError(f"{self.name}: {path}: no array {name!r} for the {role}; arrays in the file: "
                                 f"{sorted(arrays)}")
        if p["mask"] is not None and mask_name not in arrays:
            raise ValueError(f"{self.name}: {path}: no array {mask_name!r} for the mask; arrays in the file: "
                             f"{sorted(arrays)}")
        known = {*names.values(), mask_name}
        stray = sorted(k for k in arrays if k not in known and not k.startswith(VARIABLE_PREFIX))
        if stray:
            raise ValueError(f"{self.name}: {path}: unexpected array {stray[0]!r}; expected {names['inputs']!r}, "
                             f"{names['targets']!r}, optionally {mask_name!r} and per-trial variables "
                             f"{VARIABLE_PREFIX}<name>")

        def numeric(name, shapes, allow_nan=False):
            a = arrays[name]
            if a.dtype.kind not in "biuf":
                raise ValueError(f"{self.name}: {path}: array {name!r} has dtype {a.dtype}; expected a real "
                                 "numeric dtype (bool, int or float)")
            if a.shape not in shapes:
                raise ValueError(f"{self.name}: {path}: array {name!r} has shape {a.shape}, expected "
                                 f"{' or '.join(map(str, shapes))} (T, B from {names['inputs']!r} {u.shape})")
            a = a.astype(np.float64)
            bad = np.isinf(a) if allow_nan else ~np.isfinite(a)
            if bad.any():
                where = tuple(int(i[0]) for i in np.nonzero(bad))
                counts = f"{int(np.isinf(a).sum())} infinite" + ("" if allow_nan else f", {int(np.isnan(a).sum())} NaN")
                raise ValueError(f"{self.name}: {path}: array {name!r} {a.shape} has {counts} value(s), the first "
                                 f"at index {where}")
            return a

        u = arrays[names["inputs"]]
        if u.ndim != 3 or 0 in u.shape:
            raise ValueError(f"{self.name}: {path}: array {names['inputs']!r} has shape {u.shape}, expected "
                             "(T, B, n_in) with T, B, n_in >= 1 (time-major)")
        T, B, _ = u.shape
        y = arrays[names["targets"]]
        if y.ndim != 3 or y.shape[:2] != (T, B) or y.shape[2] == 0:
            raise ValueError(f"{self.name}: {path}: array {names['targets']!r} has shape {y.shape}, expected "
                             f"(T, B, n_out) = ({T}, {B}, n_out >= 1), the T and B of {names['inputs']!r} "
                             f"{u.shape}")
        out = {"inputs": numeric(names["inputs"], [u.shape]), "targets": numeric(names["targets"], [y.shape])}
        if mask_name in arrays:
            m = numeric(mask_name, [y.shape, (T, B)])
            m = np.broadcast_to(m[..., None], y.shape).copy() if m.ndim == 2 else m
            if (m < 0).any() or m.sum() == 0:
                raise ValueError(f"{self.name}: {path}: array {mask_name!r} must be >= 0 with some entry > 0 "
                                 f"(1 = scored, 0 = not), got min {m.min()} and sum {m.sum()}")
        else:
            m = np.ones(y.shape)
        out["mask"] = m
        out["variables"] = {k[len(VARIABLE_PREFIX):]: numeric(k, [(B,), (T, B)], allow_nan=True)
                            for k in sorted(arrays) if k.startswith(VARIABLE_PREFIX)}
        for k, v in out["variables"].items():
            if not k or np.isnan(v).all():
                raise ValueError(f"{self.name}: {path}: per-trial variable {VARIABLE_PREFIX + k!r} needs a name "
                                 "after the prefix and some defined (non-NaN) value")
        for a in (out["inputs"], out["targets"], out["mask"], *out["variables"].values()):
            a.flags.writeable = False  # shared through the cache
        return out

    def _targets_one_hot(self) -> bool:
        d = self._data
        scored = d["mask"].sum(axis=2) > 0
        t = d["targets"][scored]
        return self.n_out > 1 and bool(np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1))

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        B = self.n_file_trials
        if self.params["draw"] == "replacement":
            trials = rng.integers(0, B, n_trials)
        else:
            passes = -(-n_trials // B)
            trials = np.concatenate([rng.permutation(B) for _ in range(passes)])[:n_trials]
        d = self._data
        meta = {"trial": trials}
        meta.update({k: v[trials] for k, v in d["variables"].items() if v.ndim == 1})
        return Batch(inputs=d["inputs"][:, trials], targets=d["targets"][:, trials], mask=d["mask"][:, trials],
                     meta=meta)

    def accuracy_mode(self) -> str:
        """"argmax" or "tolerance": the `accuracy` parameter, with "auto" resolved from the file's targets."""
        mode = self.params["accuracy"]
        return ("argmax" if self._one_hot else "tolerance") if mode == "auto" else mode

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Share of scored steps (argmax) or scored entries (tolerance) that are right; nan if none is scored."""
        outputs = self._check_outputs(outputs, batch)
        if self.accuracy_mode() == "argmax":
            scored = batch.mask.sum(axis=2) > 0
            if not scored.any():
                return float("nan")
            return float(np.mean(outputs[scored].argmax(axis=1) == batch.targets[scored].argmax(axis=1)))
        scored = batch.mask > 0
        if not scored.any():
            return float("nan")
        return float(np.mean(np.abs(outputs[scored] - batch.targets[scored]) <= self.params["tolerance"]))

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """zero, and the mean input over time and trials ("mean") unless it is zero."""
        mean = self._data["inputs"].mean(axis=(0, 1))
        return {"zero": np.zeros(self.n_in), **({"mean": mean} if np.any(mean != 0) else {})}

    def task_variables(self, batch: Batch) -> dict[str, np.ndarray]:
        """Each var_<name> of the drawn trials as (T, B) (a (B,) variable is constant over the trial); a file
        without variables gives its targets instead, target1..target<n_out>, NaN where not scored."""
        trials = batch.meta["trial"]
        if not self._data["variables"]:
            return {f"target{i + 1}": np.where(batch.mask[..., i] > 0, batch.targets[..., i], np.nan)
                    for i in range(self.n_out)}
        out = {}
        for k, v in self._data["variables"].items():
            picked = v[trials] if v.ndim == 1 else v[:, trials]
            out[k] = np.broadcast_to(picked, (batch.T, len(trials))).copy()
        return out

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        return {"temporal_x2": self.with_params(stretch=2 * p["stretch"], ood={}, checksum=None),
                **{cond: self.with_params(path=path, ood={}, checksum=None) for cond, path in p["ood"].items()}}


def _stretched(data: dict, k: int) -> dict:
    """The arrays with each time step repeated k times (per-trial (B,) variables unchanged)."""
    if k == 1:
        return data
    return {"inputs": np.repeat(data["inputs"], k, axis=0), "targets": np.repeat(data["targets"], k, axis=0),
            "mask": np.repeat(data["mask"], k, axis=0),
            "variables": {n: v if v.ndim == 1 else np.repeat(v, k, axis=0) for n, v in data["variables"].items()}}

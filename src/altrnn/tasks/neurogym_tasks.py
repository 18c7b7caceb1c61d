"""neurogym environments as supervised tasks: a trial's observations, ground truth and periods become a batch.

neurogym (Molano-Mazon et al.) defines many cognitive tasks as trial-based
environments. Its trials are used here without an agent loop: for each trial,
`env.new_trial()` fills `env.ob` (T_i, n_obs), the ground-truth actions
`env.gt` (T_i,) and the periods `env.start_ind` / `env.end_ind`. One env step is
one network step (the env's `dt`, 100 ms by default; set `kwargs: {dt: ...}`).

neurogym is an optional dependency (`pip install 'altrnn[neurogym]'`), imported
only when this task is built.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import types
import warnings

import numpy as np

from .base import Batch, Task

MASKS = ("trial", "decision")


def import_neurogym():
    """The neurogym module, with a clear error if it is missing.

    neurogym 2.3 imports torch when it loads its Monitor wrapper (for recording
    torch networks), though torch is not among its dependencies; without torch
    a placeholder Monitor is put in its place (this package never uses it).
    """
    if "neurogym" not in sys.modules and importlib.util.find_spec("neurogym") is None:
        raise ValueError("task 'neurogym' needs the neurogym package: pip install 'altrnn[neurogym]'")
    if "neurogym" not in sys.modules and importlib.util.find_spec("torch") is None:
        stub = types.ModuleType("neurogym.wrappers.monitor")

        class Monitor:  # noqa: D401 - placeholder
            def __init__(self, *args, **kwargs):
                raise ImportError("neurogym's Monitor wrapper needs torch, which is not installed")

        stub.Monitor = Monitor
        sys.modules["neurogym.wrappers.monitor"] = stub
    import neurogym

    return neurogym


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


class NeurogymTask(Task):
    """The neurogym environment `name` (e.g. PerceptualDecisionMaking-v0), built with `kwargs`.

    Mapping: inputs are the observations; targets the one-hot ground-truth
    action over the env's discrete action space (n_out = number of actions;
    action 0 is fixation in neurogym's tasks); the mask scores, with `mask`
    "trial" (default), every step of the trial (neurogym's supervised
    convention: hold fixation, then answer) or, with "decision", only the
    steps of the period `decision_period`. Trials differ in length: a batch
    lasts as long as its longest trial, and shorter trials end with zero input
    and an unscored tail.

    A batch seeds the env from the generator (`env.seed(rng.integers(2**32))`),
    so batches are reproducible. Accuracy: the share of trials whose mean
    output over the decision period has its largest value at the period's
    ground-truth action. Per-trial variables: the numeric scalars of
    neurogym's trial record (e.g. ground_truth, coh), in batch.meta and, held
    over the trial (NaN after its end), in task_variables (without any: the
    ground-truth action at each step). Analysis inputs:
    zero, and the mean observation of the first period (usually fixation) and
    of the decision period. OOD variants: `temporal_x2`, the env at half its
    dt (the same trials in milliseconds, twice the network steps; the noise of
    observations follows neurogym's dt scaling), and `ood`, condition name ->
    kwargs merged over `kwargs` (e.g. `long_delay: {timing: {delay: 2000}}`; a
    condition named `temporal_x2` replaces the built-in one).
    """

    name = "neurogym"
    defaults = {
        "name": None,
        "kwargs": {},
        "mask": "trial",
        "decision_period": "decision",
        "ood": {},
    }

    @property
    def n_in(self) -> int:
        return self._n_in

    @property
    def n_out(self) -> int:
        return self._n_out

    def _validate(self) -> None:
        p = self.params
        if not isinstance(p["name"], str) or not p["name"]:
            raise ValueError(f"{self.name}: 'name' must be a neurogym environment id such as "
                             f"'PerceptualDecisionMaking-v0', got {p['name']!r}")
        for key in ("kwargs", "ood"):
            if p[key] is None:
                p[key] = {}
            if not isinstance(p[key], dict):
                raise ValueError(f"{self.name}: {key!r} must be a mapping, got {p[key]!r}")
        if not all(isinstance(v, dict) for v in p["ood"].values()) or "in_distribution" in p["ood"]:
            raise ValueError(f"{self.name}: 'ood' must map condition names (not in_distribution) to mappings of "
                             f"env kwargs, got {p['ood']!r}")
        if p["mask"] not in MASKS:
            raise ValueError(f"{self.name}: 'mask' must be one of {list(MASKS)}, got {p['mask']!r}")
        if not isinstance(p["decision_period"], str):
            raise ValueError(f"{self.name}: 'decision_period' must be a period name, got {p['decision_period']!r}")
        self._env = self._make(p["kwargs"])
        env = self._env
        obs, act = env.observation_space, env.action_space
        if getattr(obs, "shape", None) is None or len(obs.shape) != 1:
            raise ValueError(f"{self.name}: {p['name']}: observations must be vectors, the env's space is {obs}")
        if not hasattr(act, "n"):
            raise ValueError(f"{self.name}: {p['name']}: only discrete action spaces map to targets, the env's "
                             f"is {act}")
        self._n_in, self._n_out = int(obs.shape[0]), int(act.n)
        env.seed(0)
        env.new_trial()
        if p["decision_period"] not in env.start_ind:
            raise ValueError(f"{self.name}: {p['name']} has no period {p['decision_period']!r}; its periods: "
                             f"{list(env.start_ind)} (set decision_period)")
        for cond, over in p["ood"].items():
            self._make(_merge(p["kwargs"], over), f"ood condition {cond!r}")

    def _make(self, kwargs: dict, what: str = "kwargs"):
        ngym = import_neurogym()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # gymnasium's notes on env metadata
                return ngym.make(self.params["name"], **kwargs).unwrapped
        except Exception as exc:  # gymnasium raises its own error types for unknown ids and bad kwargs
            raise ValueError(f"{self.name}: cannot make neurogym environment {self.params['name']!r} with "
                             f"{what} {kwargs!r}: {type(exc).__name__}: {exc}") from None

    def _trials(self, n_trials: int, rng: np.random.Generator) -> list[dict]:
        env, period = self._env, self.params["decision_period"]
        env.seed(int(rng.integers(2**32)))
        out = []
        for _ in range(n_trials):
            record = env.new_trial()
            ob, gt = np.asarray(env.ob, dtype=np.float64), np.asarray(env.gt)
            if ob.ndim != 2 or gt.shape != ob.shape[:1]:
                raise ValueError(f"{self.name}: {self.params['name']}: a trial has observations {ob.shape} and "
                                 f"ground truth {gt.shape}; expected (T, {self.n_in}) and (T,)")
            if period not in env.start_ind:
                raise ValueError(f"{self.name}: {self.params['name']}: a trial without period {period!r}")
            out.append({"ob": ob, "gt": gt.astype(int), "record": record or {},
                        "decision": (env.start_ind[period], env.end_ind[period])})
        return out

    def _batch(self, n_trials: int, rng: np.random.Generator) -> Batch:
        trials = self._trials(n_trials, rng)
        T = max(len(t["gt"]) for t in trials)
        inputs = np.zeros((T, n_trials, self.n_in))
        targets = np.zeros((T, n_trials, self.n_out))
        mask = np.zeros((T, n_trials, self.n_out))
        for b, t in enumerate(trials):
            n = len(t["gt"])
            inputs[:n, b] = t["ob"]
            targets[np.arange(n), b, t["gt"]] = 1.0
            start, end = t["decision"] if self.params["mask"] == "decision" else (0, n)
            mask[start:end, b] = 1.0
        meta = {"length": np.array([len(t["gt"]) for t in trials]),
                "decision_start": np.array([t["decision"][0] for t in trials]),
                "decision_end": np.array([t["decision"][1] for t in trials])}
        for key in trials[0]["record"]:
            values = [t["record"].get(key) for t in trials]
            if all(isinstance(v, (int, float, bool, np.number, np.bool_)) for v in values) and key not in meta:
                meta[key] = np.asarray(values, dtype=np.float64)
        return Batch(inputs=inputs, targets=targets, mask=mask, meta=meta)

    def accuracy(self, outputs: np.ndarray, batch: Batch) -> float:
        """Share of trials whose mean output over the decision period peaks at the period's last ground truth."""
        outputs = self._check_outputs(outputs, batch)
        correct = []
        for b, (start, end) in enumerate(zip(batch.meta["decision_start"], batch.meta["decision_end"])):
            if end <= start:
                continue
            answer = batch.targets[end - 1, b].argmax()
            correct.append(outputs[start:end, b].mean(axis=0).argmax() == answer)
        return float(np.mean(correct)) if correct else float("nan")

    def task_variables(self, batch: Batch) -> dict[str, np.ndarray]:
        """The trial record's numeric scalars, held over each trial's steps (NaN after its end); without any,
        the ground-truth action at each step (`action`)."""
        within = np.arange(batch.T)[:, None] < batch.meta["length"][None, :]
        skip = {"length", "decision_start", "decision_end"}
        out = {k: np.where(within, v[None, :], np.nan) for k, v in batch.meta.items() if k not in skip}
        return out or {"action": np.where(within, batch.targets.argmax(axis=2), np.nan)}

    def analysis_inputs(self) -> dict[str, np.ndarray]:
        """zero, and the mean observation of the first period that lasts (usually fixation) and of the decision
        period, over 64 trials (seed 0); a mean equal to an earlier input is left out."""
        env, period = self._env, self.params["decision_period"]
        env.seed(0)
        sums: dict[str, list] = {}
        for _ in range(64):
            env.new_trial()
            lasting = [k for k in env.start_ind if env.end_ind[k] > env.start_ind[k]]
            first = min(lasting, key=lambda k: env.start_ind[k]) if lasting else period
            for name in dict.fromkeys([first, period]):
                s, e = env.start_ind[name], env.end_ind[name]
                acc = sums.setdefault(name, [np.zeros(self.n_in), 0])
                acc[0] += np.asarray(env.ob[s:e], dtype=np.float64).sum(axis=0)
                acc[1] += e - s
        inputs = {"zero": np.zeros(self.n_in)}
        for name, (total, count) in sums.items():
            mean = total / max(count, 1)
            if not any(np.array_equal(mean, u) for u in inputs.values()):
                inputs[name] = mean
        return inputs

    def ood_variants(self) -> dict[str, Task]:
        p = self.params
        half = self._env.dt / 2
        half = int(half) if float(half).is_integer() else half
        return {"temporal_x2": self.with_params(kwargs={**p["kwargs"], "dt": half}, ood={}),
                **{cond: self.with_params(kwargs=_merge(p["kwargs"], over), ood={}) for cond, over in p["ood"].items()}}

"""Stage `dsr`: AL-RNNs fitted to trajectories (dynamical-systems reconstruction), scored and read symbolically.

Per system (config.DsrConfig, one entry of dsr.systems):

* data.npz: training and held-out trajectories (T, n_traj, D), simulated (dsr.systems: n_trajectories
  of n_steps and n_test of test_steps, seeds data_seed + i and data_seed + 1000 + i) or read from a
  file (`trajectories`, optional `inputs`; the last test_fraction of the trajectories held out, or of the
  time steps when there is one trajectory), standardised with the training data's mean and std.

Per network (alrnn-P{P}-s{seed}): the fit (dsr.training.fit_trajectories) -> model.npz, train_log.csv;
free-running predictions from each trajectory's first observation over its whole length ->
dsr_metrics.csv, one row per split (train, test): D_stsp and D_H (analysis.dsr_metrics; averaged over
trajectories), the regions visited and the topological entropy of the symbolic graph of the latent
states (analysis.symbolic; a prediction that diverges scores D_stsp = inf and D_H = 1, its regions
counted up to the divergence), the published minimal P beside the network's; symbolic.csv and
symbolic_edges.csv (held-out split; regions placed at their mean predicted observation, projected on the
held-out data's first two principal axes); generated.npz (the held-out predictions, for the figure).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import dsr_metrics, symbolic
from ..io import ResultFileError, read_npz, read_table, save_model, write_csv, write_npz

log = logging.getLogger("altrnn.stages.dsr")

METRIC_COLUMNS = ["system", "net_id", "n_relu", "split", "d_stsp", "d_h", "n_regions", "entropy", "final_loss",
                  "published_min_n_relu"]
PUBLISHED_MIN_P = {"lorenz63": 2, "rossler": 1}  # Brenner et al. (2024): the fewest ReLU units reconstructing it


# --- data ------------------------------------------------------------------------------------------------------


def _file_data(path: str, test_fraction: float):
    """(train, test, train inputs, test inputs) from an .npz of trajectories; errors name the file."""
    if not Path(path).is_file():
        raise ValueError(f"dsr path {path}: file not found (paths are relative to the directory Snakemake runs in)")
    arrays = read_npz(path)
    if "trajectories" not in arrays:
        raise ValueError(f"{path}: needs an array `trajectories` (T, n_traj, D), has {sorted(arrays)}")
    x = np.asarray(arrays["trajectories"], dtype=np.float64)
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[0] < 4 or not np.all(np.isfinite(x)):
        raise ValueError(f"{path}: `trajectories` must be finite with shape (T >= 4, n_traj, D), got {x.shape}")
    u = arrays.get("inputs")
    if u is not None:
        u = np.asarray(u, dtype=np.float64)
        if u.ndim == 2:
            u = u[:, None, :]
        if u.ndim != 3 or u.shape[1] != x.shape[1] or u.shape[0] < x.shape[0] - 1 or not np.all(np.isfinite(u)):
            raise ValueError(f"{path}: `inputs` must be finite with shape (T or T-1, n_traj, n_in) = "
                             f"({x.shape[0]}, {x.shape[1]}, n_in), got {u.shape}")
        u = np.concatenate([u, np.zeros_like(u[:1])])[:x.shape[0]]  # pad to T rows (the last one is never used)
    n = x.shape[1]
    if n >= 2:
        k = min(n - 1, max(1, int(round(test_fraction * n))))
        split = lambda a: (a[:, :n - k], a[:, n - k:])  # noqa: E731
    else:
        k = max(2, int(round(test_fraction * x.shape[0])))
        split = lambda a: (a[:-k], a[-k:])  # noqa: E731
    (train, test), (ut, us) = split(x), split(u) if u is not None else (None, None)
    return train, test, ut, us


def data_job(spec: dict, out_path):
    """data.npz of one system: train, test (T, n, D) standardised, mean, std, dt, optional train/test inputs."""
    from ..dsr.systems import SYSTEMS, simulate

    if spec.get("path"):
        train, test, ut, us = _file_data(spec["path"], spec["test_fraction"])
        dt = 1.0 if spec.get("dt") is None else spec["dt"]
    else:
        kind = spec["system"]
        dt = SYSTEMS[kind][2] if spec.get("dt") is None else spec["dt"]
        seed = int(spec["data_seed"])
        train = np.stack([simulate(kind, spec["n_steps"], dt=dt, seed=seed + i)
                          for i in range(spec["n_trajectories"])], axis=1)
        test = np.stack([simulate(kind, spec["test_steps"], dt=dt, seed=seed + 1000 + i)
                         for i in range(spec["n_test"])], axis=1)
        ut = us = None
    mean, std = train.mean(axis=(0, 1)), train.std(axis=(0, 1))
    if not spec.get("standardise", True):
        mean, std = np.zeros_like(mean), np.ones_like(std)
    std = np.where(std > 0, std, 1.0)
    out = {"train": (train - mean) / std, "test": (test - mean) / std, "mean": mean, "std": std,
           "dt": np.array(float(dt))}
    if ut is not None:
        out.update(train_inputs=ut, test_inputs=us)
    log.info("data: train %s, held out %s, dt %g", train.shape, test.shape, dt)
    write_npz(out_path, **out)


# --- fit and evaluation ------------------------------------------------------------------------------------------


def model_config(n_obs: int, n_in: int, settings: dict):
    from ..model import ModelConfig

    return ModelConfig(n_in=max(n_in, 1), n_rec=int(settings["n_latent"]), n_out=n_obs, activation="alrnn",
                       n_relu=int(settings["n_relu"]), alpha=1.0, sigma_rec=0.0, dtype=settings["dtype"])


def evaluate(params, cfg, data: dict, n_bins: int, sigma: float):
    """Free-running predictions per split: ({split: measures}, test predictions (T, n, D), test latent
    states (T, n, M))."""
    from ..dsr.training import free_run, observe

    out, keep = {}, None
    for split in ("train", "test"):
        x = data[split]
        u = data.get(f"{split}_inputs")
        z = free_run(params, cfg, x[0], len(x), inputs=u)
        gen = observe(z, cfg).astype(np.float64)
        method = "bins" if x.shape[2] <= 3 else "gmm"
        d_stsp, d_h = [], []
        for i in range(x.shape[1]):
            if not np.all(np.isfinite(gen[:, i])):
                d_stsp.append(np.inf)
                d_h.append(1.0)
                continue
            d_stsp.append(dsr_metrics.state_space_divergence(x[:, i], gen[:, i], method=method, n_bins=n_bins))
            d_h.append(dsr_metrics.hellinger_distance(x[:, i], gen[:, i], sigma=sigma))
        # a prediction that diverges counts the regions it visits until its first non-finite state
        steps = int(np.argmin(np.all(np.isfinite(z), axis=(1, 2)))) if not np.all(np.isfinite(z)) else len(z)
        graph = symbolic.symbolic_graph(symbolic.symbol_sequences(z[:max(steps, 1)], cfg.n_relu), cfg.n_relu)
        out[split] = {"d_stsp": float(np.mean(d_stsp)), "d_h": float(np.mean(d_h)),
                      "n_regions": len(graph.symbols), "entropy": graph.entropy()}
        if split == "test":
            keep = (gen, z, graph)
    return out, keep


def region_graph(gen, z, graph, P: int, data):
    """(symbolic.csv, symbolic_edges.csv) of the held-out predictions gen (T, n, D) with latent states z: the
    regions with their occupancy, placed at their mean predicted observation projected on the first two
    principal axes of the held-out data (T, n, D)."""
    table = symbolic.region_table(graph)
    obs = gen.reshape(-1, gen.shape[-1])
    finite = np.all(np.isfinite(obs), axis=1)
    obs, sym = obs[finite], symbolic.region_symbols(z.reshape(-1, z.shape[-1])[finite], P)
    x = data.reshape(-1, data.shape[-1])
    mean = x.mean(axis=0)
    axes = np.linalg.svd(x - mean, full_matrices=False)[2][:2]
    axes = np.vstack([axes, np.zeros((2 - len(axes), x.shape[1]))])  # one observed variable: PC 2 = 0
    pcs = np.array([(obs[sym == s].mean(axis=0) - mean) @ axes.T if np.any(sym == s) else [np.nan, np.nan]
                    for s in table["symbol"]]).reshape(-1, 2)
    table = table.assign(pc1=pcs[:, 0], pc2=pcs[:, 1], stable_fixed_points="", n_switching=P,
                         entropy=graph.entropy())
    return table, graph.edges()


def fit_job(system: str, data_path, settings: dict, tf: dict, seed: int, net_id: str, model_path, log_path,
            metrics_path, table_path, edges_path, generated_path):
    """The workflow's per-network job: fit, save, score (see the module doc); checkpoint.npz beside model.npz
    while it runs."""
    from ..dsr.training import TeacherForcingConfig, fit_trajectories

    data = read_npz(data_path)
    for key in ("train", "test", "mean", "std"):
        if key not in data:
            raise ResultFileError(f"{data_path}: not a dsr data file, missing {key!r}")
    n_in = data["train_inputs"].shape[2] if "train_inputs" in data else 0
    cfg = model_config(data["train"].shape[2], n_in, settings)
    tf_cfg = TeacherForcingConfig.from_dict(tf, f"dsr.systems.{system}.teacher_forcing")
    res = fit_trajectories(data["train"], cfg, tf_cfg, seed=seed, inputs=data.get("train_inputs"),
                           g=float(settings["g"]), checkpoint=Path(model_path).parent / "checkpoint.npz")
    meta = {"net_id": net_id, "system": system, "dsr": settings, "teacher_forcing": tf, "seed": seed,
            "observation": {"units": [cfg.n_relu, cfg.n_relu + cfg.n_out], "mean": data["mean"].tolist(),
                            "std": data["std"].tolist()}}
    save_model(model_path, res.params, cfg, meta, init=res.init)
    write_csv(res.log, log_path)
    scores, (gen, z, graph) = evaluate(res.params, cfg, data, int(settings["n_bins"]),
                                       float(settings["spectrum_sigma"]))
    rows = [{"system": system, "net_id": net_id, "n_relu": cfg.n_relu, "split": split, **m,
             "final_loss": res.final_loss, "published_min_n_relu": PUBLISHED_MIN_P.get(settings.get("system"))}
            for split, m in scores.items()]
    write_csv(pd.DataFrame(rows, columns=METRIC_COLUMNS), metrics_path)
    table, edges = region_graph(gen, z, graph, cfg.n_relu, data["test"])
    write_csv(table, table_path)
    write_csv(edges, edges_path)
    write_npz(generated_path, generated=gen.astype(np.float64), data=data["test"], dt=data["dt"])
    log.info("%s %s: D_stsp %.3f, D_H %.3f on held-out data; %d regions, entropy %.3f", system, net_id,
             scores["test"]["d_stsp"], scores["test"]["d_h"], scores["test"]["n_regions"],
             scores["test"]["entropy"])


def figure_job(system: str, net_id: str, generated_path, metrics_path, table_path, edges_path, pdf_path,
               png_path):
    """The workflow's per-network figure (plots.dsr)."""
    from ..plots import dsr as plot
    from ..plots.common import save_figure

    arrays = read_npz(generated_path)
    metrics = read_metrics(metrics_path)
    fig = plot.dsr_figure(arrays["data"], arrays["generated"], metrics, read_table(table_path),
                          read_table(edges_path), f"{system} {net_id}", float(arrays["dt"]))
    save_figure(fig, pdf_path, png_path)


def read_metrics(path) -> pd.DataFrame:
    """dsr_metrics.csv, checked: a missing or foreign file raises ResultFileError naming it."""
    return read_table(path, METRIC_COLUMNS)



"""Networks trained elsewhere: exact conversion from nn.RNN names (against nn.RNN's equations written out in
numpy), this project's names, every bad file named clearly, config and ids, and a workflow run."""

import shutil
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from altrnn import config, netids
from altrnn.io import load_model, save_model
from altrnn.model import ModelConfig, Params, forward
from altrnn.model.imports import WeightsFileError, read_network
from altrnn.stages.imported import import_network

from tiny import planned_outputs, snakemake, write_config

N, N_IN, N_OUT, T, B = 7, 3, 3, 12, 5  # flipflop's default: 3 inputs, 3 outputs
PHI = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


def nn_rnn(u, W_ih, W_hh, b_ih, b_hh, W_fc, b_fc, phi):
    """PyTorch's nn.RNN (one layer, h_0 = 0) and a Linear readout, step by step: (h_1..h_T, y_1..y_T)."""
    h = np.zeros((u.shape[1], W_hh.shape[0]))
    hs, ys = [], []
    for t in range(u.shape[0]):
        h = phi(u[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        hs.append(h)
        ys.append(h @ W_fc.T + b_fc)
    return np.array(hs), np.array(ys)


def torch_arrays(seed=0, prefix="", readout="fc."):
    rng = np.random.default_rng(seed)
    out = {f"{prefix}weight_ih_l0": rng.normal(size=(N, N_IN)), f"{prefix}weight_hh_l0": rng.normal(size=(N, N)) * 0.6,
           f"{prefix}bias_ih_l0": rng.normal(size=N) * 0.3, f"{prefix}bias_hh_l0": rng.normal(size=N) * 0.3}
    w, b = ("weight_out", "bias_out") if readout == "" else (readout + "weight", readout + "bias")
    out[w], out[b] = rng.normal(size=(N_OUT, N)), rng.normal(size=N_OUT)
    return out


def save(path, arrays):
    if str(path).endswith(".safetensors"):
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(path))
    else:
        np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("ext,prefix,readout", [("npz", "", "fc."), ("npz", "rnn.", ""),
                                                ("safetensors", "rnn.", "readout.")])
def test_torch_weights_run_exactly_as_nn_rnn(tmp_path, activation, ext, prefix, readout):
    if ext == "safetensors":
        pytest.importorskip("safetensors")
    a = torch_arrays(prefix=prefix, readout=readout)
    path = save(tmp_path / f"w.{ext}", a)
    params, naming, _ = read_network(path, N_IN, N_OUT)
    assert naming == "torch"
    u = np.random.default_rng(1).normal(size=(T, B, N_IN))
    h, y = nn_rnn(u, *(a[k] for k in a), PHI[activation])
    assert np.abs(h).max() > 0.1 and (activation == "tanh" or (h == 0).any())  # relu: some units silent
    cfg = ModelConfig(n_in=N_IN, n_rec=N, n_out=N_OUT, activation=activation, alpha=1.0, sigma_rec=0.0,
                      dtype="float64")
    traj = forward(params, cfg, u)
    np.testing.assert_allclose(traj.r[1:], h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(traj.y, y, rtol=0, atol=1e-12)
    assert not traj.r[0].any()  # r[0] = phi(0) = nn.RNN's h_0


def test_a_leaky_reading_runs_the_euler_network(tmp_path):
    a = torch_arrays(seed=3)
    params, _, _ = read_network(save(tmp_path / "w.npz", a), N_IN, N_OUT, naming="torch")
    alpha = 0.3
    u = np.random.default_rng(4).normal(size=(T, B, N_IN))
    x, ys = np.zeros((B, N)), []
    for t in range(T):  # x_{t+1} = (1 - a) x_t + a (W_hh tanh(x_t) + W_ih u_t + b_ih + b_hh)
        x = (1 - alpha) * x + alpha * (np.tanh(x) @ a["weight_hh_l0"].T + u[t] @ a["weight_ih_l0"].T
                                       + a["bias_ih_l0"] + a["bias_hh_l0"])
        ys.append(np.tanh(x) @ a["fc.weight"].T + a["fc.bias"])
    cfg = ModelConfig(n_in=N_IN, n_rec=N, n_out=N_OUT, alpha=alpha, sigma_rec=0.0, dtype="float64")
    np.testing.assert_allclose(forward(params, cfg, u).y, np.array(ys), rtol=0, atol=1e-12)


def test_own_naming_and_a_model_file_round_trip_exactly(tmp_path):
    rng = np.random.default_rng(5)
    p = Params(W_in=rng.normal(size=(N, N_IN)), W=rng.normal(size=(N, N)), b=rng.normal(size=N),
               W_out=rng.normal(size=(N_OUT, N)), b_out=rng.normal(size=N_OUT))
    np.savez(tmp_path / "own.npz", **p.as_dict())
    cfg = ModelConfig(n_in=N_IN, n_rec=N, n_out=N_OUT, dtype="float64")
    save_model(tmp_path / "model.npz", p, cfg, {"net_id": "x"}, init=p.zeros_like())  # metadata and *_0 ignored
    for name in ("own.npz", "model.npz"):
        q, naming, sources = read_network(tmp_path / name, N_IN, N_OUT)
        assert naming == "altrnn" and sources["W"] == ["W"]
        for k, v in p.as_dict().items():
            np.testing.assert_array_equal(getattr(q, k), v)


def test_a_missing_bias_is_zero(tmp_path):
    a = {k: v for k, v in torch_arrays().items() if "bias" not in k}  # nn.RNN(bias=False), Linear(bias=False)
    p, _, sources = read_network(save(tmp_path / "w.npz", a), N_IN, N_OUT)
    assert not p.b.any() and not p.b_out.any() and sources["b"] == [] and sources["b_out"] == []


def _edit(a, **changes):
    out = {**a, **{k.replace("__", "."): v for k, v in changes.items() if v is not None}}
    return {k: v for k, v in out.items() if changes.get(k.replace(".", "__"), 0) is not None}


BASE = torch_arrays()
NAN = BASE["weight_hh_l0"].copy()
NAN[2, 3] = np.nan
BAD = [  # (arrays, naming, what the message must say)
    (_edit(BASE, weight_ih_l0=np.ones((N, N_IN + 1))), "detect", "'weight_ih_l0' has shape (7, 4), expected (7, 3)"),
    (_edit(BASE, fc__weight=np.ones((N_OUT - 1, N))), "detect", "'fc.weight' has shape (2, 7), expected (3, 7)"),
    (_edit(BASE, fc__bias=np.ones(2)), "detect", "'fc.bias' has shape (2,), expected (3,)"),
    (_edit(BASE, bias_hh_l0=np.ones(N - 1)), "detect", "'bias_hh_l0' has shape (6,), expected (7,)"),
    (_edit(BASE, weight_hh_l0=np.ones((N, N - 1))), "detect", "'weight_hh_l0' has shape (7, 6), expected a square"),
    (_edit(BASE, weight_hh_l0=NAN), "detect", "'weight_hh_l0' of shape (7, 7) holds 1 non-finite"),
    (_edit(BASE, fc__bias=np.array([0, np.inf, 0])), "detect", "'fc.bias' of shape (3,) holds 1 non-finite"),
    (_edit(BASE, weight_hh_l0=None), "detect", "missing array 'weight_hh_l0'"),
    (_edit(BASE, bias_hh_l0=None), "detect", "array 'bias_ih_l0' without 'bias_hh_l0'"),
    (_edit(BASE, fc__weight=None, fc__bias=None), "detect", "expected one readout"),
    (_edit(BASE, out__weight=np.ones((N_OUT, N))), "detect", "found ['fc.weight', 'out.weight']"),
    (_edit(BASE, h0=np.zeros(N)), "detect", "unexpected array(s) ['h0']"),
    (_edit(BASE, weight_hh_l1=np.zeros((N, N))), "detect", "one-layer, one-directional nn.RNN"),
    (_edit(BASE, weight_ih_l0=np.ones((N, N_IN), dtype=bool)), "detect", "'weight_ih_l0' has dtype bool"),
    ({"w_in": BASE["weight_ih_l0"], "w_rec": BASE["weight_hh_l0"]}, "detect", "neither PyTorch nn.RNN names"),
    (BASE, "altrnn", "missing array(s) ['W_in', 'W', 'b', 'W_out', 'b_out']"),
    ({"W_in": np.ones((N, N_IN)), "W": np.ones((N, N)), "b": np.ones(N), "W_out": np.ones((N_OUT, N)),
      "b_out": np.ones(N_OUT), "W_fb": np.ones(N)}, "detect", "unexpected array(s) ['W_fb'] in altrnn naming"),
    ({"W_in": np.ones((N, 2)), "W": np.ones((N, N)), "b": np.ones(N), "W_out": np.ones((N_OUT, N)),
      "b_out": np.ones(N_OUT)}, "detect", "'W_in' has shape (7, 2), expected (7, 3) = (N, n_in): 7 units (W), 3 input"),
]


@pytest.mark.parametrize("arrays,naming,message", BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_weights_are_named_with_file_array_and_shape(tmp_path, arrays, naming, message):
    path = save(tmp_path / "bad.npz", arrays)
    with pytest.raises(WeightsFileError) as err:
        read_network(path, N_IN, N_OUT, naming)
    assert str(path) in str(err.value) and message in str(err.value), str(err.value)


def test_unreadable_files_are_named(tmp_path, monkeypatch):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(save(tmp_path / "w.npz", BASE).read_bytes()[:300])
    for path, message in ((broken, "not a readable .npz"), (tmp_path / "none.npz", "file not found")):
        with pytest.raises(WeightsFileError, match=message):
            read_network(path, N_IN, N_OUT)
    (tmp_path / "w.safetensors").write_bytes(b"{}")
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)  # as if the optional extra were not installed
    with pytest.raises(WeightsFileError, match=r"w\.safetensors: .*needs the optional package safetensors"):
        read_network(tmp_path / "w.safetensors", N_IN, N_OUT)


def test_the_stage_writes_a_model_file_and_nothing_on_bad_input(tmp_path):
    settings = config.canonical(config.ImportedNetwork(path="w.npz", alpha=0.5, sigma_rec=0.1, dtype="float32"))
    out = tmp_path / "nets" / "imp-a" / "model.npz"
    import_network("flipflop", {}, "a", settings, save(tmp_path / "w.npz", BASE), out)
    saved = load_model(out)
    assert (saved.config.alpha, saved.config.sigma_rec, saved.config.dtype, saved.config.n_rec) == (0.5, 0.1,
                                                                                                   "float32", N)
    assert saved.metadata["net_id"] == "imp-a" and saved.metadata["imported"]["naming"] == "torch"
    np.testing.assert_array_equal(saved.params.b, (BASE["bias_ih_l0"] + BASE["bias_hh_l0"]).astype(np.float32))
    bad = tmp_path / "nets" / "imp-b" / "model.npz"
    with pytest.raises(WeightsFileError, match="non-finite"):
        import_network("flipflop", {}, "b", settings, save(tmp_path / "nan.npz", _edit(BASE, weight_hh_l0=NAN)), bad)
    assert not bad.parent.exists() or not any(bad.parent.iterdir())


def test_config_and_ids_keep_imported_networks_apart():
    raw = {"tasks": {"flipflop": {"imported": {"mine": {"path": "w.safetensors", "alpha": 0.2}}}},
           "studies": {"s": {"base": "flipflop", "axes": {"train.lr": [0.1]}}}}
    cfg = config.load(raw)
    unit = cfg.units["flipflop"]
    assert unit.net_ids() == unit.trained_ids() + ["imp-mine"] and "imp-mine" not in unit.standard_ids()
    assert unit.imported["mine"].naming == "detect" and unit.imported["mine"].activation == "tanh"
    assert all(not u.imported for u in cfg.units.values() if u.study)  # study conditions: trained networks only
    assert netids.family_of("imp-mine") == netids.group_of("imp-mine") == "imp-mine"
    assert netids.net_order(["imp-b", "alt2", "imp-a", "std-g1-s0", "ref"]) == ["std-g1-s0", "ref", "alt2",
                                                                              "imp-a", "imp-b"]
    for bad, key in (({"x__y": {"path": "a.npz"}}, "imported.x__y"), ({"m": {"alpha": 1}}, "imported.m.path"),
                     ({"m": {"path": "a.pt"}}, "imported.m.path"), ({"m": {"path": "a.npz", "alpha": 2}},
                                                                     "imported.m.alpha")):
        with pytest.raises(config.ConfigError, match=f"tasks.flipflop.{key}"):
            config.load({"tasks": {"flipflop": {"imported": bad}}})


@pytest.mark.slow
def test_workflow_analyses_an_imported_network_beside_the_trained_ones(tiny_run, tmp_path):
    """ref's weights in nn.RNN names, imported with ref's dynamics: planned beside the trained networks
    (nothing retrained, no training figure, no INSD distance), and evaluated exactly as ref."""
    workdir = tmp_path / "copy"
    shutil.copytree(tiny_run, workdir, symlinks=True)
    ref = load_model(workdir / netids.net_file("flipflop", "ref", "model.npz"))
    p = ref.params
    np.savez(workdir / "ref_torch.npz", **{"rnn.weight_ih_l0": p.W_in, "rnn.weight_hh_l0": p.W, "rnn.bias_ih_l0": p.b,
                                           "rnn.bias_hh_l0": np.zeros_like(p.b), "fc.weight": p.W_out,
                                           "fc.bias": p.b_out})
    before = set(planned_outputs(workdir))  # nothing, unless the package changed since tiny_run
    cfg = yaml.safe_load((workdir / "config.yaml").read_text())
    m = ref.config
    cfg["tasks"]["flipflop"]["imported"] = {"copy": {"path": "ref_torch.npz", "alpha": m.alpha,
                                                     "sigma_rec": m.sigma_rec, "dtype": m.dtype}}
    write_config(workdir, cfg)
    planned = set(planned_outputs(workdir)) - before
    imp = "results/flipflop/nets/imp-copy"
    assert {f"{imp}/model.npz", f"{imp}/eval.csv", f"{imp}/fixed_points.csv", f"{imp}/manifolds.csv",
            "results/flipflop/similarity/dsa.csv", "results/flipflop/similarity/linear_predictability.csv",
            "results/figures/flipflop_ood.png", "results/figures/flipflop_spectra.png",
            "results/figures/flipflop_dsa_mds.png"} <= planned
    # degeneracy and insd_distance read the unit's dsa.csv, so they rerun too, still on the trained networks alone
    assert all(f.startswith(("results/flipflop/", "results/figures/flipflop_", "results/figures/degeneracy."))
               for f in planned), planned
    assert not any(f.endswith(("train_log.csv", "training.png")) or "nets/imp-copy" not in f
                   and f.endswith("model.npz") for f in planned), planned
    snakemake(workdir, f"{imp}/eval.csv", "results/flipflop/similarity/linear_predictability.csv",
              "results/figures/flipflop_ood.png")
    own = pd.read_csv(workdir / netids.net_file("flipflop", "ref", "eval.csv"))
    pd.testing.assert_frame_equal(pd.read_csv(workdir / f"{imp}/eval.csv"), own)  # same weights, noise, trials
    lp = pd.read_csv(workdir / "results/flipflop/similarity/linear_predictability.csv")
    pair = lp[(lp["net_a"] == "ref") & (lp["net_b"] == "imp-copy") & (lp["space"] == "full")]
    assert len(pair) == 1 and pair["value"].iloc[0] > 0.99

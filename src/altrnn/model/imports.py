"""Networks trained elsewhere: a weights file in PyTorch's nn.RNN names or this project's, read as Params.

A one-layer nn.RNN with a linear readout computes, from h_0 = 0 and inputs u_1..u_T,

    h_t = phi(W_ih u_t + b_ih + W_hh h_{t-1} + b_hh),    y_t = W_fc h_t + b_fc

which is this project's network (model.network) at alpha = 1 without noise,
exactly: W_in = W_ih, W = W_hh, b = b_ih + b_hh, W_out = W_fc, b_out = b_fc.
Inputs and outputs keep their index (y[t] is read from r[t+1] = h_t, the state
after input u[t]), and r[0] = phi(x[0]) = phi(0) = 0 is nn.RNN's h_0, for tanh
and relu alike. No transposes: both store W[i, j] as the weight from unit j to
unit i. With alpha < 1 the same arrays are the weights of the leaky network
x[t+1] = (1 - a) x[t] + a (W phi(x[t]) + W_in u[t] + b), which is nn.RNN's
only at a = 1.

Accepted names (torch): `[prefix.]weight_ih_l0`, `weight_hh_l0`, and both or
neither of `bias_ih_l0`, `bias_hh_l0` (nn.RNN(bias=False)); the readout as
`weight_out` [+ `bias_out`] or one module's `<name>.weight` [+ `<name>.bias`]
(e.g. fc.weight, readout.weight); a missing readout bias is zero. Own names:
W_in, W, b, W_out, b_out (a model.npz's metadata and initial weights *_0 are
ignored). Any other array is an error, so that a misnamed readout is never
silently dropped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .network import PARAM_NAMES, Params

NAMINGS = ("torch", "altrnn")
RNN_ARRAY = re.compile(r"^(?P<prefix>(?:.+\.)?)(?P<kind>weight|bias)_(?P<which>ih|hh)_l(?P<layer>\d+)(?P<rev>_reverse)?$")
OWN_EXTRAS = re.compile(r"^(metadata|(W_in|W|b|W_out|b_out)_0)$")  # what a model.npz holds besides the weights


class WeightsFileError(ValueError):
    """A weights file cannot be imported; the message names the file and the array."""


def read_arrays(path) -> dict[str, np.ndarray]:
    """Every array of an .npz or .safetensors file (safetensors through safetensors.numpy, an optional extra)."""
    path = Path(path)
    if path.suffix == ".safetensors":
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise WeightsFileError(f"{path}: reading .safetensors files needs the optional package safetensors "
                                   "(pip install 'altrnn[safetensors]')") from None
        try:
            return dict(load_file(str(path)))
        except FileNotFoundError:
            raise WeightsFileError(f"{path}: file not found") from None
        except Exception as exc:  # safetensors raises its own error types (and TypeError for bfloat16)
            raise WeightsFileError(f"{path}: not a readable .safetensors file: {exc}") from None
    if path.suffix != ".npz":
        raise WeightsFileError(f"{path}: not an .npz or .safetensors file")
    from ..errors import ResultFileError
    from ..io import read_npz

    try:
        return read_npz(path)
    except ResultFileError as exc:  # the same message, as this module's error
        raise WeightsFileError(str(exc)) from None


def detect_naming(arrays: dict, path) -> str:
    """`torch` if the file holds an nn.RNN's weight_hh_l0, `altrnn` if it holds W and W_in, else an error."""
    if any(RNN_ARRAY.match(k) for k in arrays):
        return "torch"
    if "W" in arrays and "W_in" in arrays:
        return "altrnn"
    raise WeightsFileError(f"{path}: neither PyTorch nn.RNN names (weight_ih_l0, weight_hh_l0, bias_ih_l0, "
                           f"bias_hh_l0, fc.weight, fc.bias) nor this project's ({', '.join(PARAM_NAMES)}); "
                           f"found arrays {sorted(arrays)}")


def _torch_arrays(arrays: dict, path) -> dict[str, list[str]]:
    """{our name: the source arrays it is built from} for a file in nn.RNN names."""
    rnn = {k: RNN_ARRAY.match(k) for k in arrays if RNN_ARRAY.match(k)}
    deeper = sorted(k for k, m in rnn.items() if m["layer"] != "0" or m["rev"])
    if deeper:
        raise WeightsFileError(f"{path}: only a one-layer, one-directional nn.RNN can be imported; found {deeper}")
    prefixes = sorted({m["prefix"] for m in rnn.values()})
    if len(prefixes) > 1:
        raise WeightsFileError(f"{path}: arrays of more than one nn.RNN ({[p.rstrip('.') for p in prefixes]})")
    p = prefixes[0]
    for k in ("weight_ih_l0", "weight_hh_l0"):
        if p + k not in arrays:
            raise WeightsFileError(f"{path}: missing array {p + k!r} of the nn.RNN; found arrays {sorted(arrays)}")
    biases = [p + k for k in ("bias_ih_l0", "bias_hh_l0") if p + k in arrays]
    if len(biases) == 1:
        other = ({p + "bias_ih_l0", p + "bias_hh_l0"} - set(biases)).pop()
        raise WeightsFileError(f"{path}: array {biases[0]!r} without {other!r} (nn.RNN has both biases or neither)")
    if "weight_out" in arrays:
        readouts = [""]
    else:
        readouts = sorted({k[: -len("weight")] for k in arrays if k.endswith(".weight") and k not in rnn})
    if len(readouts) != 1:
        found = "none" if not readouts else [r + "weight" for r in readouts]
        raise WeightsFileError(f"{path}: expected one readout, `weight_out` or `<module>.weight` (e.g. fc.weight); "
                               f"found {found} among arrays {sorted(arrays)}")
    r = readouts[0]
    w_out, b_out = ("weight_out", "bias_out") if r == "" else (r + "weight", r + "bias")
    return {"W_in": [p + "weight_ih_l0"], "W": [p + "weight_hh_l0"], "b": biases,
            "W_out": [w_out], "b_out": [b_out] if b_out in arrays else []}


def _own_arrays(arrays: dict, path) -> dict[str, list[str]]:
    missing = [k for k in PARAM_NAMES if k not in arrays]
    if missing:
        raise WeightsFileError(f"{path}: missing array(s) {missing} of this project's naming "
                               f"({', '.join(PARAM_NAMES)}); found arrays {sorted(arrays)}")
    return {k: [k] for k in PARAM_NAMES}


def _real(path, name, a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise WeightsFileError(f"{path}: array {name!r} has dtype {a.dtype}, expected real numbers")
    bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
    if bad:
        raise WeightsFileError(f"{path}: array {name!r} of shape {a.shape} holds {bad} non-finite value(s) "
                               "(NaN or infinite)")
    return a.astype(np.float64)


def _shape(path, name, a, expected, meaning):
    if a.shape != expected:
        raise WeightsFileError(f"{path}: array {name!r} has shape {a.shape}, expected {expected} = {meaning}")


def read_network(path, n_in: int, n_out: int, naming: str = "detect", task: str = "the task"):
    """(Params in float64, the naming used, {our name: source arrays}) of a weights file, checked against the
    task's n_in and n_out: names, shapes, dtypes, finiteness; every error names the file and the array."""
    arrays = read_arrays(path)
    if naming == "detect":
        naming = detect_naming(arrays, path)
    if naming not in NAMINGS:
        raise WeightsFileError(f"{path}: unknown naming {naming!r}; one of {['detect', *NAMINGS]}")
    sources = _torch_arrays(arrays, path) if naming == "torch" else _own_arrays(arrays, path)
    used = {k for names in sources.values() for k in names}
    unused = sorted(k for k in arrays if k not in used and not (naming == "altrnn" and OWN_EXTRAS.match(k)))
    if unused:
        raise WeightsFileError(f"{path}: unexpected array(s) {unused} in {naming} naming (see altrnn.model.imports "
                               "for the accepted names)")
    real = {k: _real(path, k, arrays[k]) for k in used}
    w_name = sources["W"][0]
    W = real[w_name]
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] < 1:
        raise WeightsFileError(f"{path}: array {w_name!r} has shape {W.shape}, expected a square (N, N) "
                               "recurrent weight matrix")
    N = W.shape[0]
    units = f"{N} units ({w_name})"
    (w_in_name,), (w_out_name,) = sources["W_in"], sources["W_out"]
    _shape(path, w_in_name, real[w_in_name], (N, n_in), f"(N, n_in): {units}, {n_in} input(s) of {task}")
    _shape(path, w_out_name, real[w_out_name], (n_out, N), f"(n_out, N): {n_out} output(s) of {task}, {units}")
    for k in sources["b"]:
        _shape(path, k, real[k], (N,), f"(N,): {units}")
    for k in sources["b_out"]:
        _shape(path, k, real[k], (n_out,), f"(n_out,): {n_out} output(s) of {task}")
    b = np.zeros(N)
    for k in sources["b"]:
        b = b + real[k]
    b_out = real[sources["b_out"][0]] if sources["b_out"] else np.zeros(n_out)
    params = Params(W_in=real[w_in_name], W=W, b=b, W_out=real[w_out_name], b_out=b_out)
    return params.astype(np.float64), naming, sources

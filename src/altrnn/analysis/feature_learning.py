"""How much a network learned features: weight change and tangent-kernel alignment between init and end.

Huang et al. (2025) measure feature learning by two quantities per network:

    relative weight change   ||W_T - W_0||_F / ||W_0||_F          (recurrent weights, effective)
    kernel alignment         A(K_0, K_T) = <K_0, K_T>_F / (||K_0||_F ||K_T||_F)

with K = J J^T the network's tangent kernel on a fixed probe: J[p, q] =
d y_p / d theta_q, y_p the outputs y[t, b, o] at a few time steps t of a few
noise-free probe trials b (rows in the order b, t, o), theta the trainable
parameters W_in, W, b and W_out (not the readout bias, whose block of K is constant) of the network's
parameterisation, so dy/dtheta = c * dy/dW_eff (model.network). A = 1 means
the kernel only changed in scale (lazy training); lower values mean the
network's features moved. A is in [0, 1] since tangent kernels are positive
semi-definite.
"""

import numpy as np

from ..model import PARAM_NAMES, backward, forward, parameter_scales

PROBE_TRIALS = 4  # trials of the probe batch
PROBE_TIMES = 5  # time steps per trial, evenly spaced over the trial
PROBE_SEED = 7


def relative_weight_change(W0, WT) -> float:
    """||W_T - W_0||_F / ||W_0||_F."""
    W0, WT = np.asarray(W0, dtype=np.float64), np.asarray(WT, dtype=np.float64)
    if W0.shape != WT.shape:
        raise ValueError(f"initial and final weights differ in shape: {W0.shape} vs {WT.shape}")
    norm = np.linalg.norm(W0)
    if norm == 0:
        raise ValueError("the initial weights are all zero: relative weight change undefined")
    return float(np.linalg.norm(WT - W0) / norm)


def probe_times(T: int, n_times: int = PROBE_TIMES) -> np.ndarray:
    """n_times time steps evenly spaced over 0..T-1 (all of them if T is smaller)."""
    return np.unique(np.linspace(0, T - 1, min(n_times, T)).round().astype(int))


def output_jacobian(params, cfg, inputs, times, blocks=False):
    """J (n_trials * len(times) * n_out, n_params) of the noise-free outputs with respect to the trainable
    parameters, one exact backward pass per output entry (see module docstring).

    Runs in the network's own dtype (so a workflow job uses the kernels its training compiled) and
    returns float64. blocks=True returns {name: J restricted to that parameter's columns} instead.
    """
    params = params.astype(cfg.np_dtype)
    scales = parameter_scales(cfg) or dict.fromkeys(PARAM_NAMES, 1.0)
    inputs = np.asarray(inputs, dtype=cfg.np_dtype)
    times = np.asarray(times, dtype=int)
    T, B, _ = inputs.shape
    if times.size == 0 or times.min() < 0 or times.max() >= T:
        raise ValueError(f"probe times must lie in 0..{T - 1}, got {times.tolist()}")
    u_len = times.max() + 1  # later steps do not affect the probed outputs
    rows = {name: [] for name in PARAM_NAMES}
    for b in range(B):
        u = inputs[:u_len, b:b + 1]
        traj = forward(params, cfg, u)
        for t in times:
            for o in range(cfg.n_out):
                dy = np.zeros((u_len, 1, cfg.n_out), dtype=cfg.np_dtype)
                dy[t, 0, o] = 1.0
                grads = backward(params, cfg, u, traj, dy)
                for name in PARAM_NAMES:
                    rows[name].append(scales[name] * getattr(grads, name).ravel().astype(np.float64))
    J = {name: np.array(r) for name, r in rows.items()}
    return J if blocks else np.concatenate([J[n] for n in PARAM_NAMES], axis=1)


KERNEL_PARAMS = ("W_in", "W", "b", "W_out")  # b_out left out: its block of K is the constant delta_oo'


def tangent_kernel(params, cfg, inputs, times) -> np.ndarray:
    """K = J J^T on the probe (inputs (T, B, n_in), time steps `times`), in float64.

    J over every trainable parameter but the readout bias b_out: dy/db_out is the identity whatever
    the weights, so its block of K never changes and, when the readout is scaled down (mean field,
    large gamma), it dominates K and pins the alignment at 1.
    """
    J = output_jacobian(params, cfg, inputs, times, blocks=True)
    return sum(J[name] @ J[name].T for name in KERNEL_PARAMS)


def kernel_alignment(K0, KT) -> float:
    """<K_0, K_T>_F / (||K_0||_F ||K_T||_F): 1 for kernels equal up to a positive factor."""
    K0, KT = np.asarray(K0, dtype=np.float64), np.asarray(KT, dtype=np.float64)
    if K0.shape != KT.shape:
        raise ValueError(f"kernels differ in shape: {K0.shape} vs {KT.shape}")
    n0, nT = np.linalg.norm(K0), np.linalg.norm(KT)
    if n0 == 0 or nT == 0:
        raise ValueError("a tangent kernel is all zero: alignment undefined")
    return float(np.sum(K0 * KT) / (n0 * nT))


def probe_batch(task, n_trials: int = PROBE_TRIALS, seed: int = PROBE_SEED):
    """The fixed probe: inputs of n_trials trials of `task` from a seeded generator, and its time steps."""
    inputs = task.batch(n_trials, np.random.default_rng(seed)).inputs
    return inputs, probe_times(inputs.shape[0])


def diagnostics(init, final, cfg, task) -> dict:
    """weight_change (recurrent, effective) and kernel_alignment of one network between init and final."""
    inputs, times = probe_batch(task)
    return {"weight_change": relative_weight_change(init.W, final.W),
            "kernel_alignment": kernel_alignment(tangent_kernel(init, cfg, inputs, times),
                                                 tangent_kernel(final, cfg, inputs, times))}

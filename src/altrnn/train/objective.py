"""The training objective and its exact gradient.

    L = masked MSE + rate_l2 * mean(r^2) + weight_l2 * (mean(W_in^2) + mean(W^2) + mean(W_out^2))
        + l1 * (mean|W_in| + mean|W| + mean|W_out|) + nuclear * ||W||_* / N + penalty

with ||W||_* the nuclear norm (sum of singular values) of the recurrent weights,
divided by N so that it is the mean singular value (O(g) at init, whatever N).
The structural terms' (sub)gradients: sign(w) / w.size (0 at w = 0) and
U V^T / N from the SVD W = U S V^T (the gradient wherever W has full rank).
All weight terms act on the weights passed in, which the trainer makes the
effective ones (model.network, parameterisations).

The optional penalty (INSD) is a callable of the trajectory and the parameters
returning its value, dL/dr[1..T] and dL/dW_out; it enters BPTT exactly.
"""

from dataclasses import dataclass, field

import numpy as np

from ..model import Params, backward, forward
from ..model.kernels import sum_products, sum_squares

REGULARISED = ("W_in", "W", "W_out")


@dataclass
class LossTerms:
    total: float
    task: float
    rate: float = 0.0
    weight: float = 0.0
    l1: float = 0.0
    nuclear: float = 0.0
    penalty: float = 0.0
    penalty_terms: dict = field(default_factory=dict)


def loss_and_grad(params: Params, cfg, inputs, targets, mask, noise=None, rate_l2=0.0, weight_l2=0.0, penalty=None,
                  workspace=None, l1=0.0, nuclear=0.0):
    """Return (LossTerms, gradient Params, Trajectory) for one batch (see model.Workspace for `workspace`)."""
    traj = forward(params, cfg, inputs, noise, workspace=workspace)
    dt = cfg.np_dtype
    n_masked = float(mask.sum())
    if n_masked == 0:
        raise ValueError("the batch's loss mask is all zero: nothing to train on")
    diff = traj.y - targets
    err = diff * mask
    task = sum_products(err, diff) / n_masked  # sum(mask * diff^2) / sum(mask), as tasks.masked_mse
    dy = (2.0 / n_masked) * err
    terms = LossTerms(total=task, task=task)

    rates = traj.r[1:]
    dr = None
    if rate_l2:
        terms.rate = rate_l2 * sum_squares(rates) / rates.size
        dr = rates * dt.type(2.0 * rate_l2 / rates.size)
    dW_out_extra = None
    if penalty is not None:
        value, dr_pen, dW_out_extra, parts = penalty(traj, params)
        terms.penalty, terms.penalty_terms = value, parts
        dr = dr_pen if dr is None else dr + dr_pen

    grads = backward(params, cfg, inputs, traj, dy.astype(dt, copy=False), dr, workspace=workspace)
    if dW_out_extra is not None:
        grads.W_out += dW_out_extra
    if weight_l2:
        for name in REGULARISED:
            w = getattr(params, name)
            terms.weight += weight_l2 * sum_squares(w) / w.size
            getattr(grads, name)[...] += w * dt.type(2.0 * weight_l2 / w.size)
    if l1:
        for name in REGULARISED:
            w = getattr(params, name)
            terms.l1 += l1 * float(np.abs(w).sum(dtype=np.float64)) / w.size
            getattr(grads, name)[...] += np.sign(w) * dt.type(l1 / w.size)
    if nuclear:
        value, grad = nuclear_norm(params.W)
        N = params.W.shape[0]
        terms.nuclear = nuclear * value / N
        grads.W += grad.astype(dt, copy=False) * dt.type(nuclear / N)
    terms.total = task + terms.rate + terms.weight + terms.l1 + terms.nuclear + terms.penalty
    return terms, grads, traj


def nuclear_norm(W):
    """(sum of singular values of W, its (sub)gradient U V^T), computed in float64."""
    U, S, Vt = np.linalg.svd(np.asarray(W, dtype=np.float64))
    return float(S.sum()), U @ Vt

"""The training objective and its exact gradient.

    L = masked MSE + rate_l2 * mean(r^2) + weight_l2 * (mean(W_in^2) + mean(W^2) + mean(W_out^2)) + penalty

The optional penalty (INSD) is a callable of the trajectory and the parameters
returning its value, dL/dr[1..T] and dL/dW_out; it enters BPTT exactly.
"""

from dataclasses import dataclass, field

from ..model import Params, backward, forward
from ..model.kernels import sum_products, sum_squares

REGULARISED = ("W_in", "W", "W_out")


@dataclass
class LossTerms:
    total: float
    task: float
    rate: float = 0.0
    weight: float = 0.0
    penalty: float = 0.0
    penalty_terms: dict = field(default_factory=dict)


def loss_and_grad(params: Params, cfg, inputs, targets, mask, noise=None, rate_l2=0.0, weight_l2=0.0, penalty=None,
                  workspace=None):
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
    terms.total = task + terms.rate + terms.weight + terms.penalty
    return terms, grads, traj

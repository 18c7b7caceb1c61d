"""Adam with global-norm gradient clipping, on Params."""

import numpy as np

from ..model import Params
from ..model.kernels import sum_squares


def global_norm(grads: Params) -> float:
    return float(np.sqrt(sum(sum_squares(g) for g in grads.arrays())))


def clip_by_global_norm(grads: Params, max_norm: float) -> float:
    """Scale grads in place so their global norm is at most max_norm (0 disables); return the norm before."""
    norm = global_norm(grads)
    if max_norm and norm > max_norm:
        scale = max_norm / norm
        for g in grads.arrays():
            g *= g.dtype.type(scale)
    return norm


class Adam:
    """Adam (Kingma & Ba) with bias correction; state is plain arrays, so it checkpoints exactly."""

    def __init__(self, params: Params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = params.zeros_like()
        self.v = params.zeros_like()
        self.step_count = 0

    def step(self, params: Params, grads: Params):
        self.step_count += 1
        b1, b2 = self.beta1, self.beta2
        lr_t = self.lr * np.sqrt(1 - b2**self.step_count) / (1 - b1**self.step_count)
        for p, g, m, v in zip(params.arrays(), grads.arrays(), self.m.arrays(), self.v.arrays()):
            dt = p.dtype.type
            m *= dt(b1)
            m += dt(1 - b1) * g
            v *= dt(b2)
            v += dt(1 - b2) * g * g
            p -= dt(lr_t) * m / (np.sqrt(v) + dt(self.eps))

    def state(self) -> dict:
        out = {f"adam_m_{k}": v for k, v in self.m.as_dict().items()}
        out.update({f"adam_v_{k}": v for k, v in self.v.as_dict().items()})
        out["adam_step"] = np.array(self.step_count)
        return out

    def load_state(self, state: dict):
        """Restore from state(); raises KeyError before changing anything if a key is missing."""
        names = list(self.m.as_dict())
        m, v = ([state[f"adam_{which}_{n}"] for n in names] for which in "mv")
        step = int(state["adam_step"])
        for name, mi, vi in zip(names, m, v):
            getattr(self.m, name)[...] = mi
            getattr(self.v, name)[...] = vi
        self.step_count = step

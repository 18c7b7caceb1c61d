"""The leaky rate RNN and its numba kernels."""

from .network import (
    PARAM_NAMES,
    ModelConfig,
    Params,
    Trajectory,
    Workspace,
    activation,
    backward,
    forward,
    init_params,
    recurrent_noise,
)

__all__ = [
    "PARAM_NAMES",
    "ModelConfig",
    "Params",
    "Trajectory",
    "Workspace",
    "activation",
    "backward",
    "forward",
    "init_params",
    "recurrent_noise",
]

"""The leaky rate RNN and its numba kernels."""

from .network import (
    PARAM_NAMES,
    PARAMETERISATIONS,
    ModelConfig,
    Params,
    Trajectory,
    Workspace,
    activation,
    backward,
    effective_params,
    forward,
    init_params,
    parameter_scales,
    recurrent_noise,
    trainable_grads,
    trainable_params,
)

__all__ = [
    "PARAM_NAMES",
    "PARAMETERISATIONS",
    "ModelConfig",
    "Params",
    "Trajectory",
    "Workspace",
    "activation",
    "backward",
    "effective_params",
    "forward",
    "init_params",
    "parameter_scales",
    "recurrent_noise",
    "trainable_grads",
    "trainable_params",
]

"""INSD: penalise new networks for linearly predicting earlier ones in the readout null space."""

from .penalty import (
    RHO_MODES,
    INSDPenalty,
    effective_rho,
    null_space_projector,
    null_space_rates,
    ridge_predictability,
    ridge_predictability_grad,
)

__all__ = [
    "RHO_MODES",
    "INSDPenalty",
    "effective_rho",
    "null_space_projector",
    "null_space_rates",
    "ridge_predictability",
    "ridge_predictability_grad",
]

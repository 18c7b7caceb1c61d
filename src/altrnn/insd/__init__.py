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
from .schedule import insd_penalty_factory, penalty_weight

__all__ = [
    "insd_penalty_factory",
    "penalty_weight",
    "RHO_MODES",
    "INSDPenalty",
    "effective_rho",
    "null_space_projector",
    "null_space_rates",
    "ridge_predictability",
    "ridge_predictability_grad",
]

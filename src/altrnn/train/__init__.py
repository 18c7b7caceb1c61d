"""Training: objective, Adam, and the loop with checkpoints."""

from .objective import LossTerms, loss_and_grad
from .trainer import TrainConfig, TrainingDiverged, TrainResult, train

__all__ = ["LossTerms", "TrainConfig", "TrainResult", "TrainingDiverged", "loss_and_grad", "train"]

"""Keras callbacks for MMEngine's hooks: evaluation and checkpoints."""

from keraspose.engine.callbacks.checkpoint_callback import CheckpointCallback
from keraspose.engine.callbacks.evaluation_callback import EvaluationCallback

__all__ = ["CheckpointCallback", "EvaluationCallback"]

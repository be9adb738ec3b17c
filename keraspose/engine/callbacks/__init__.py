"""Keras callbacks for MMEngine's hooks: evaluation, checkpoints, EMA."""

from keraspose.engine.callbacks.checkpoint_callback import CheckpointCallback
from keraspose.engine.callbacks.ema_callback import EMACallback
from keraspose.engine.callbacks.evaluation_callback import EvaluationCallback

__all__ = ["CheckpointCallback", "EMACallback", "EvaluationCallback"]

"""Base class of keraspose losses."""

from keraspose.utils.config_mixin import ConfigMixin


class BaseLoss(ConfigMixin):
    """A loss: ``loss(output, target, target_weights=None)`` -> scalar.

    Losses follow MMPose's call signature and reductions rather than
    ``keras.losses.Loss``'s ``(y_true, y_pred)``: heads call them with their
    raw outputs and the codec's targets. They compute in float32 with
    ``keras.ops``. ``get_config()`` plus ``type`` rebuilds an equal loss.
    """

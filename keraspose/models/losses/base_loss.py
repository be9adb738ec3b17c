"""Base class of keraspose losses."""


class BaseLoss:
    """A loss: ``loss(output, target, target_weights=None)`` -> scalar.

    Losses follow MMPose's call signature and reductions rather than
    ``keras.losses.Loss``'s ``(y_true, y_pred)``: heads call them with their
    raw outputs and the codec's targets. They compute in float32 with
    ``keras.ops``. ``get_config()`` plus ``type`` rebuilds an equal loss.
    """

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

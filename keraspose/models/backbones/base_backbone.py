"""Base class of keraspose backbones."""

import keras

from keraspose.models.utils.symbolic_build import build_by_symbolic_call


class BaseBackbone(keras.layers.Layer):
    """A backbone maps images (N, H, W, C) to a tuple of feature maps.

    Subclasses build their stages in ``__init__`` and implement
    ``call(x, training=None)`` returning the stages selected by
    ``out_indices`` as a tuple (MMPose's contract).

    ``frozen_stages`` freezes the stem and the first stages (their weights are
    not trained and their BatchNorm layers run in inference mode), and
    ``norm_eval`` keeps every BatchNorm in inference mode while still training
    its scale and offset, both as in MMPose.

    Args:
        out_indices: stage indices whose outputs are returned.
        frozen_stages: stages to freeze; -1 freezes nothing.
        norm_eval: run BatchNorm layers in inference mode during training.
        init_cfg: MMPose init config; a ``Pretrained`` entry gives a warning.
        **kwargs: base layer arguments.
    """

    def __init__(self, norm_eval=False, init_cfg=None, **kwargs):
        super().__init__(**kwargs)
        self.norm_eval = bool(norm_eval)
        from keraspose.registry import warn_unloadable_init_cfg

        warn_unloadable_init_cfg(init_cfg, type(self).__name__)

    def build(self, input_shape):
        build_by_symbolic_call(self, input_shape)

    def norm_training(self, training):
        """The ``training`` flag to pass to normalization layers."""
        if self.norm_eval:
            return False
        return training

    @staticmethod
    def _check_indices(out_indices, num_stages, first=0):
        out_indices = (
            (out_indices,)
            if isinstance(out_indices, int)
            else tuple(out_indices)
        )
        for index in out_indices:
            if not first <= index < num_stages:
                raise ValueError(
                    f"Expected every out_indices entry in [{first}, "
                    f"{num_stages}). Received: out_indices={out_indices}"
                )
        return out_indices

"""LayerScale: a learned per-channel scale of a residual branch."""

import keras
from keras import ops

from keraspose.registry import register


@register
class LayerScale(keras.layers.Layer):
    """Multiplies the last (channel) axis by a learned vector.

    Reference: Touvron et al., "Going deeper with Image Transformers"
    (CaiT), ICCV 2021. mmpretrain's and MMCV's ``LayerScale``: the vector
    ``weight`` (PyTorch's parameter name, so checkpoints map one-to-one)
    starts at ``layer_scale_init_value`` everywhere. Inputs are
    channels-last, so MMCV's ``data_format`` argument is not needed.

    Weight decay: ``weight`` is not a normalization parameter and is named
    neither ``gamma``/``beta`` nor ``bias``, so keraspose's torch optimizers
    decay it exactly when MMEngine's default constructor does (MMEngine's
    ``norm_decay_mult`` / ``bias_decay_mult`` do not select it). Layer-wise
    decay constructors that exempt every 1-D parameter select it by its
    rank.

    Args:
        dim: number of channels.
        layer_scale_init_value: initial value of every scale.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> scale = LayerScale(4, layer_scale_init_value=0.5)
    >>> y = scale(np.ones((1, 2, 4), "float32"))
    >>> keras.ops.convert_to_numpy(y)[0, 0].tolist()
    [0.5, 0.5, 0.5, 0.5]
    """

    def __init__(self, dim, layer_scale_init_value=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.layer_scale_init_value = float(layer_scale_init_value)

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] != self.dim:
            raise ValueError(
                f"LayerScale expects {self.dim} channels (last axis). "
                f"Received input shape {tuple(input_shape)}"
            )
        self.weight = self.add_weight(
            shape=(self.dim,),
            initializer=keras.initializers.Constant(
                self.layer_scale_init_value
            ),
            name="weight",
        )

    def call(self, x):
        return x * ops.cast(self.weight, x.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            dim=self.dim, layer_scale_init_value=self.layer_scale_init_value
        )
        return config

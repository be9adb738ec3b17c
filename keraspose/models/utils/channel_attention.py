"""Channel attention of RTMDet's CSP layers (mmdet's ``ChannelAttention``)."""

import keras
from keras import ops

from keraspose.models.utils.conv2d import Conv2d
from keraspose.registry import register


def _torch_default_conv_init():
    """PyTorch's default conv kernel init, ``kaiming_uniform_(a=sqrt(5))``.

    It draws from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
    )


@register
class ChannelAttention(keras.layers.Layer):
    """Scales each channel by a gate computed from its global average.

    Reference: Lyu et al., "RTMDet: An Empirical Study of Designing
    Real-Time Object Detectors", 2022. The gate is
    ``hardsigmoid(fc(mean_hw(x)))`` with PyTorch's hard sigmoid
    ``relu6(t + 3) / 6`` and a 1x1 convolution ``fc`` with bias (named
    ``fc`` as in mmdet). The spatial mean is taken in float32, as mmdet
    does with autocast disabled.

    Args:
        channels: input (and output) channels.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> att = ChannelAttention(8)
    >>> att(np.ones((2, 4, 4, 8), "float32")).shape
    (2, 4, 4, 8)
    """

    def __init__(self, channels, init_cfg=None, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.fc = Conv2d(
            self.channels,
            1,
            use_bias=True,
            kernel_initializer=_torch_default_conv_init(),
            bias_initializer="zeros",
            name="fc",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        if input_shape[-1] != self.channels:
            raise ValueError(
                f"{self.name}: expected {self.channels} input channels. "
                f"Received input shape {input_shape}"
            )
        self.fc.build((input_shape[0], 1, 1, self.channels))

    def call(self, x):
        pooled = ops.mean(ops.cast(x, "float32"), axis=(1, 2), keepdims=True)
        gate = self.fc(ops.cast(pooled, self.compute_dtype))
        gate = ops.relu6(gate + 3.0) / 6.0
        return x * gate

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(channels=self.channels)
        return config

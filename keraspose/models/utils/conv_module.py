"""Conv + norm + activation, MMCV's ``ConvModule``."""

import keras

from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.norm import build_activation
from keraspose.models.utils.norm import build_norm_layer
from keraspose.models.utils.symbolic_build import build_by_symbolic_call
from keraspose.registry import register


@register
class ConvModule(keras.layers.Layer):
    """Convolution, optional normalization and optional activation.

    Sublayers are named ``conv``, ``bn`` and ``activate`` like MMCV's
    ``ConvModule``, so MMPose weight names map one-to-one. As in MMCV, the
    convolution has a bias only when there is no normalization
    (``bias="auto"``).

    Args:
        in_channels: input channels (informative; inferred at build).
        out_channels: output channels.
        kernel_size: int or pair.
        stride: int or pair.
        padding: int or pair (PyTorch semantics).
        dilation: int or pair.
        groups: channel groups.
        bias: True, False or "auto".
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config, or None for no normalization.
        act_cfg: MMPose activation config (ReLU), or None for none.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> m = ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type="BN"))
    >>> m(np.zeros((1, 8, 8, 3), "float32")).shape
    (1, 8, 8, 8)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias="auto",
        conv_cfg=None,
        norm_cfg=None,
        act_cfg=dict(type="ReLU"),  # noqa: B006 (MMCV default)
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.bias = bias
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        use_bias = norm_cfg is None if bias == "auto" else bool(bias)
        self.conv = Conv2d(
            out_channels,
            kernel_size,
            strides=stride,
            padding=padding,
            dilation_rate=dilation,
            groups=groups,
            use_bias=use_bias,
            name="conv",
            dtype=self.dtype_policy,
        )
        self.bn = (
            build_norm_layer(norm_cfg, "bn", self.dtype_policy)
            if norm_cfg is not None
            else None
        )
        self.activate = (
            build_activation(act_cfg, "activate", self.dtype_policy)
            if act_cfg is not None
            else None
        )

    def build(self, input_shape):
        build_by_symbolic_call(self, input_shape)

    def call(self, x, training=None, norm_training=None):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(
                x, training=training if norm_training is None else norm_training
            )
        if self.activate is not None:
            x = self.activate(x)
        return x

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups,
            bias=self.bias,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        return config

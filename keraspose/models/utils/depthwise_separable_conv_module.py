"""Depthwise + pointwise conv, MMCV's ``DepthwiseSeparableConvModule``."""

import keras

from keraspose.models.utils.conv_module import ConvModule
from keraspose.registry import register


@register
class DepthwiseSeparableConvModule(keras.layers.Layer):
    """A depthwise ``ConvModule`` followed by a pointwise (1x1) one.

    Reference: Howard et al., "MobileNets: Efficient Convolutional Neural
    Networks for Mobile Vision Applications", 2017. The two halves are named
    ``depthwise_conv`` and ``pointwise_conv`` as in MMCV, each with its own
    normalization and activation. The ``dw_*`` / ``pw_*`` configs override
    ``norm_cfg`` / ``act_cfg`` for one half; the string ``"default"`` keeps
    the shared one.

    Args:
        in_channels: input channels (the depthwise convolution has
            ``groups=in_channels``, so this must be the real count).
        out_channels: output channels of the pointwise convolution.
        kernel_size: int or pair, of the depthwise convolution.
        stride: int or pair, of the depthwise convolution.
        padding: int or pair (PyTorch semantics), of the depthwise
            convolution.
        dilation: int or pair, of the depthwise convolution.
        norm_cfg: MMPose norm config of both halves, or None.
        act_cfg: MMPose activation config of both halves, or None.
        dw_norm_cfg: norm config of the depthwise half, or "default".
        dw_act_cfg: activation config of the depthwise half, or "default".
        pw_norm_cfg: norm config of the pointwise half, or "default".
        pw_act_cfg: activation config of the pointwise half, or "default".
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        bias: conv bias of both halves: True, False or "auto".
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> m = DepthwiseSeparableConvModule(4, 8, 3, stride=2, padding=1,
    ...                                  norm_cfg=dict(type="BN"))
    >>> m(np.zeros((1, 8, 8, 4), "float32")).shape
    (1, 4, 4, 8)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        norm_cfg=None,
        act_cfg=dict(type="ReLU"),  # noqa: B006 (MMCV default)
        dw_norm_cfg="default",
        dw_act_cfg="default",
        pw_norm_cfg="default",
        pw_act_cfg="default",
        conv_cfg=None,
        bias="auto",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(
                "Expected `in_channels` to be a positive int (the depthwise "
                f"convolution has one group per channel). Received: "
                f"in_channels={in_channels!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.dw_norm_cfg = dw_norm_cfg
        self.dw_act_cfg = dw_act_cfg
        self.pw_norm_cfg = pw_norm_cfg
        self.pw_act_cfg = pw_act_cfg
        self.conv_cfg = conv_cfg
        self.bias = bias

        def pick(value, default):
            return default if value == "default" else value

        dt = self.dtype_policy
        self.depthwise_conv = ConvModule(
            in_channels,
            in_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=in_channels,
            bias=bias,
            conv_cfg=conv_cfg,
            norm_cfg=pick(dw_norm_cfg, norm_cfg),
            act_cfg=pick(dw_act_cfg, act_cfg),
            name="depthwise_conv",
            dtype=dt,
        )
        self.pointwise_conv = ConvModule(
            in_channels,
            out_channels,
            1,
            bias=bias,
            conv_cfg=conv_cfg,
            norm_cfg=pick(pw_norm_cfg, norm_cfg),
            act_cfg=pick(pw_act_cfg, act_cfg),
            name="pointwise_conv",
            dtype=dt,
        )

    def build(self, input_shape):
        if input_shape[-1] != self.in_channels:
            raise ValueError(
                f"{self.name}: expected {self.in_channels} input channels. "
                f"Received input shape {input_shape}"
            )
        self.depthwise_conv.build(input_shape)
        self.pointwise_conv.build(
            self.depthwise_conv.compute_output_shape(input_shape)
        )

    def call(self, x, training=None, norm_training=None):
        x = self.depthwise_conv(
            x, training=training, norm_training=norm_training
        )
        return self.pointwise_conv(
            x, training=training, norm_training=norm_training
        )

    def compute_output_shape(self, input_shape):
        shape = self.depthwise_conv.compute_output_shape(input_shape)
        return (*shape[:-1], self.out_channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            dw_norm_cfg=self.dw_norm_cfg,
            dw_act_cfg=self.dw_act_cfg,
            pw_norm_cfg=self.pw_norm_cfg,
            pw_act_cfg=self.pw_act_cfg,
            conv_cfg=self.conv_cfg,
            bias=self.bias,
        )
        return config

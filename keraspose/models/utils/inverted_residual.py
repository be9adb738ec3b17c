"""MobileNetV2's inverted residual block (MMPose's layout)."""

import keras

from keraspose.models.utils.conv_module import ConvModule
from keraspose.registry import register


@register
class InvertedResidual(keras.layers.Layer):
    """Expand (1x1), depthwise (3x3), linear projection (1x1), + identity.

    Reference: Sandler et al., "MobileNetV2: Inverted Residuals and Linear
    Bottlenecks", CVPR 2018. This is the block of MMPose's
    ``MobileNetV2`` (``mmpose.models.backbones.mobilenet_v2``): its
    ``ConvModule`` s are ``conv_0``, ``conv_1``, ``conv_2`` (MMPose's
    ``conv.0`` ...). The hidden width is ``int(round(in_channels *
    expand_ratio))``; with ``expand_ratio == 1`` there is no expansion conv,
    so the depthwise conv is ``conv_0`` and the projection ``conv_1``, as in
    MMPose. The projection has no activation (the linear bottleneck); the
    identity is added when ``stride == 1`` and the channel counts match.
    (MMPose's ``backbones/utils/inverted_residual.py`` is a different,
    MobileNetV3-style block with ``expand_conv`` / ``linear_conv``.)

    Args:
        in_channels: input channels.
        out_channels: output channels.
        stride: stride of the depthwise convolution, 1 or 2.
        expand_ratio: hidden width over ``in_channels``.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        act_cfg: MMPose activation config (ReLU6).
        with_cp: accepted for MMPose compatibility; gradient checkpointing
            is not used (it changes memory, not numbers).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> block = InvertedResidual(8, 16, stride=2, expand_ratio=6)
    >>> block(np.zeros((1, 8, 8, 8), "float32")).shape
    (1, 4, 4, 16)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        stride,
        expand_ratio,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        act_cfg=dict(type="ReLU6"),  # noqa: B006 (MMPose defaults)
        with_cp=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if stride not in (1, 2):
            raise ValueError(f"Expected stride 1 or 2. Received: {stride=}")
        hidden = int(round(in_channels * expand_ratio))
        if hidden < 1:
            raise ValueError(
                "Expected int(round(in_channels * expand_ratio)) >= 1. "
                f"Received: {in_channels=}, {expand_ratio=}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.expand_ratio = expand_ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.with_cp = bool(with_cp)
        self.use_res_connect = stride == 1 and in_channels == out_channels
        specs = []
        if expand_ratio != 1:
            specs.append(dict(out_channels=hidden, kernel_size=1))
        specs.append(
            dict(
                out_channels=hidden,
                kernel_size=3,
                stride=stride,
                padding=1,
                groups=hidden,
            )
        )
        specs.append(dict(out_channels=out_channels, kernel_size=1))
        self.conv = []
        in_ch = in_channels
        for i, spec in enumerate(specs):
            last = i == len(specs) - 1
            self.conv.append(
                ConvModule(
                    in_ch,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=None if last else act_cfg,
                    name=f"conv_{i}",
                    dtype=self.dtype_policy,
                    **spec,
                )
            )
            in_ch = spec["out_channels"]

    def build(self, input_shape):
        if input_shape[-1] != self.in_channels:
            raise ValueError(
                f"{self.name}: expected {self.in_channels} input channels. "
                f"Received input shape {input_shape}"
            )
        shape = tuple(input_shape)
        for layer in self.conv:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, x, training=None, norm_training=None):
        out = x
        for layer in self.conv:
            out = layer(out, training=training, norm_training=norm_training)
        return x + out if self.use_res_connect else out

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.conv:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            stride=self.stride,
            expand_ratio=self.expand_ratio,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            with_cp=self.with_cp,
        )
        return config

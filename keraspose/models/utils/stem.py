"""Lite-HRNet's stem (a strided conv and a ShuffleNetV2-like unit)."""

import keras
from keras import ops

from keraspose.models.utils.channel_shuffle import channel_shuffle
from keraspose.models.utils.conv_module import ConvModule
from keraspose.registry import register


@register
class Stem(keras.layers.Layer):
    """The stem of Lite-HRNet: 1/4 resolution, ``out_channels`` channels.

    Reference: Yu et al., "Lite-HRNet: A Lightweight High-Resolution
    Network", CVPR 2021. ``conv1`` (3x3, stride 2, ReLU) maps the image to
    ``stem_channels``; its channels are split in two halves. The first half
    goes through ``branch1_0`` (3x3 depthwise, stride 2) and ``branch1_1``
    (1x1, ReLU); the second through ``expand_conv`` (1x1 to
    ``int(round(stem_channels * expand_ratio))``, ReLU),
    ``depthwise_conv`` (3x3 depthwise, stride 2) and ``linear_conv`` (1x1,
    ReLU). The two results are concatenated and channel-shuffled (2
    groups). The channel split follows MMPose: when ``stem_channels ==
    out_channels`` each path outputs half; otherwise ``linear_conv``
    outputs ``stem_channels`` and ``branch1_1`` the rest.

    Args:
        in_channels: image channels.
        stem_channels: channels of ``conv1`` (even).
        out_channels: output channels (even).
        expand_ratio: width of the expansion over ``stem_channels``.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        with_cp: accepted for MMPose compatibility; gradient checkpointing
            is not used.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> stem = Stem(3, stem_channels=8, out_channels=8, expand_ratio=1)
    >>> stem(np.zeros((1, 33, 26, 3), "float32")).shape
    (1, 9, 7, 8)
    """

    def __init__(
        self,
        in_channels,
        stem_channels,
        out_channels,
        expand_ratio,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006 (MMPose default)
        with_cp=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for key, value in (
            ("stem_channels", stem_channels),
            ("out_channels", out_channels),
        ):
            if not isinstance(value, int) or value < 2 or value % 2:
                raise ValueError(
                    f"Expected {key} to be a positive even int (the "
                    f"channels are split in halves). Received: {key}={value!r}"
                )
        branch = stem_channels // 2
        mid = int(round(stem_channels * expand_ratio))
        if stem_channels == out_channels:
            inc, linear_out = out_channels - branch, branch
        else:
            inc, linear_out = out_channels - stem_channels, stem_channels
        if inc < 1 or mid < 1:
            raise ValueError(
                "Expected out_channels > stem_channels (or equal) and "
                "int(round(stem_channels * expand_ratio)) >= 1. Received: "
                f"{stem_channels=}, {out_channels=}, {expand_ratio=}"
            )
        self.in_channels = in_channels
        self.stem_channels = stem_channels
        self.out_channels = out_channels
        self.expand_ratio = expand_ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.with_cp = bool(with_cp)
        dt = self.dtype_policy
        relu = dict(type="ReLU")

        def conv(cin, cout, k, name, stride=1, groups=1, act=relu):
            return ConvModule(
                cin,
                cout,
                k,
                stride=stride,
                padding=k // 2,
                groups=groups,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act,
                name=name,
                dtype=dt,
            )

        self.conv1 = conv(in_channels, stem_channels, 3, "conv1", stride=2)
        self.branch1 = [
            conv(branch, branch, 3, "branch1_0", 2, groups=branch, act=None),
            conv(branch, inc, 1, "branch1_1"),
        ]
        self.expand_conv = conv(branch, mid, 1, "expand_conv")
        self.depthwise_conv = conv(
            mid, mid, 3, "depthwise_conv", 2, groups=mid, act=None
        )
        self.linear_conv = conv(mid, linear_out, 1, "linear_conv")

    def _paths(self):
        return (
            self.branch1,
            [self.expand_conv, self.depthwise_conv, self.linear_conv],
        )

    def build(self, input_shape):
        self.conv1.build(tuple(input_shape))
        shape = self.conv1.compute_output_shape(tuple(input_shape))
        half = (*shape[:-1], self.stem_channels // 2)
        for path in self._paths():
            s = half
            for layer in path:
                layer.build(s)
                s = layer.compute_output_shape(s)

    def call(self, x, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        x = self.conv1(x, **kw)
        half = self.stem_channels // 2
        outs = []
        for path, part in zip(self._paths(), (x[..., :half], x[..., half:])):
            for layer in path:
                part = layer(part, **kw)
            outs.append(part)
        return channel_shuffle(ops.concatenate(outs, axis=-1), 2)

    def compute_output_shape(self, input_shape):
        shape = self.conv1.compute_output_shape(tuple(input_shape))
        shape = self.depthwise_conv.compute_output_shape(shape)
        return (*shape[:-1], self.out_channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            stem_channels=self.stem_channels,
            out_channels=self.out_channels,
            expand_ratio=self.expand_ratio,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            with_cp=self.with_cp,
        )
        return config

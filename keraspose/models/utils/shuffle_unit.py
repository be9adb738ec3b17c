"""ShuffleNetV2's unit, the block of Lite-HRNet's naive modules."""

import keras
from keras import ops

from keraspose.models.utils.channel_shuffle import channel_shuffle
from keraspose.models.utils.conv_module import ConvModule
from keraspose.registry import register


@register
class ShuffleUnit(keras.layers.Layer):
    """ShuffleNetV2 unit (MMPose's Lite-HRNet ``ShuffleUnit``).

    Reference: Ma et al., "ShuffleNet V2: Practical Guidelines for
    Efficient CNN Architecture Design", ECCV 2018, as used by Yu et al.,
    "Lite-HRNet: A Lightweight High-Resolution Network", CVPR 2021.
    ``branch2`` is 1x1 (act), 3x3 depthwise (stride, no act), 1x1 (act),
    each to ``out_channels // 2``. With stride 1 the input channels are
    split in halves, the second half goes through ``branch2`` and is
    concatenated after the first; with stride > 1 the whole input goes
    through ``branch1`` (3x3 depthwise, 1x1 with act) and ``branch2``.
    The result is channel-shuffled with 2 groups. Names follow MMPose.

    Args:
        in_channels: input channels (``2 * (out_channels // 2)`` with
            stride 1).
        out_channels: output channels.
        stride: stride of the depthwise convolutions.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        act_cfg: MMPose activation config (ReLU).
        with_cp: accepted for MMPose compatibility; gradient checkpointing
            is not used.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> unit = ShuffleUnit(8, 16, stride=2)
    >>> unit(np.zeros((1, 8, 6, 8), "float32")).shape
    (1, 4, 3, 16)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        stride=1,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006
        act_cfg=dict(type="ReLU"),  # noqa: B006 (MMPose defaults)
        with_cp=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        features = out_channels // 2
        if not isinstance(stride, int) or stride < 1:
            raise ValueError(f"Expected a positive int stride. Got {stride=}")
        if features < 1 or (stride == 1 and in_channels != 2 * features):
            raise ValueError(
                "Expected out_channels >= 2 and, with stride 1, "
                "in_channels == 2 * (out_channels // 2). Received: "
                f"{in_channels=}, {out_channels=}, {stride=}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.with_cp = bool(with_cp)
        dt = self.dtype_policy

        def conv(cin, cout, k, name, stride=1, groups=1, act=act_cfg):
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

        self.branch1 = []
        if stride > 1:
            self.branch1 = [
                conv(
                    in_channels,
                    in_channels,
                    3,
                    "branch1_0",
                    stride,
                    groups=in_channels,
                    act=None,
                ),
                conv(in_channels, features, 1, "branch1_1"),
            ]
        first_in = in_channels if stride > 1 else features
        self.branch2 = [
            conv(first_in, features, 1, "branch2_0"),
            conv(
                features,
                features,
                3,
                "branch2_1",
                stride,
                groups=features,
                act=None,
            ),
            conv(features, features, 1, "branch2_2"),
        ]

    def build(self, input_shape):
        shape = tuple(input_shape)
        if shape[-1] != self.in_channels:
            raise ValueError(
                f"{self.name}: expected {self.in_channels} input channels. "
                f"Received input shape {shape}"
            )
        branch2_in = shape if self.stride > 1 else (*shape[:-1], shape[-1] // 2)
        for path, s in ((self.branch1, shape), (self.branch2, branch2_in)):
            for layer in path:
                layer.build(s)
                s = layer.compute_output_shape(s)

    def call(self, x, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        if self.stride > 1:
            first, second = x, x
            for layer in self.branch1:
                first = layer(first, **kw)
        else:
            half = self.in_channels // 2
            first, second = x[..., :half], x[..., half:]
        for layer in self.branch2:
            second = layer(second, **kw)
        return channel_shuffle(ops.concatenate([first, second], axis=-1), 2)

    def compute_output_shape(self, input_shape):
        shape = self.branch2[1].compute_output_shape(tuple(input_shape))
        return (*shape[:-1], 2 * (self.out_channels // 2))

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            stride=self.stride,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            with_cp=self.with_cp,
        )
        return config

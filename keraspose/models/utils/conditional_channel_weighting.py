"""Lite-HRNet's conditional channel weighting block."""

import keras
from keras import ops

from keraspose.models.utils.channel_shuffle import channel_shuffle
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.cross_resolution_weighting import (
    CrossResolutionWeighting,
)
from keraspose.models.utils.spatial_weighting import SpatialWeighting
from keraspose.registry import register


def check_even_channels(channels, what):
    """Raises unless every entry of ``channels`` is a positive even int."""
    channels = tuple(channels)
    if not channels or not all(
        isinstance(c, int) and c > 0 and c % 2 == 0 for c in channels
    ):
        raise ValueError(
            f"Expected {what} to be positive even channel counts (the "
            f"channels are split in two halves). Received: {channels}"
        )
    return channels


@register
class ConditionalChannelWeighting(keras.layers.Layer):
    """The Lite-HRNet block: weights half the channels of every branch.

    Reference: Yu et al., "Lite-HRNet: A Lightweight High-Resolution
    Network", CVPR 2021. Each branch is split into two channel halves. The
    second halves go through ``cross_resolution_weighting``
    (:class:`CrossResolutionWeighting`, ``norm_cfg`` BatchNorm), a 3x3
    depthwise ``ConvModule`` per branch (``depthwise_convs_i``, no
    activation) and a :class:`SpatialWeighting` per branch
    (``spatial_weighting_i``, ratio 4, no normalization, as in MMPose);
    then each branch is the concatenation of its halves, channel-shuffled
    with 2 groups. Names follow MMPose.

    Args:
        in_channels: channels of each branch (even ints).
        stride: stride of the depthwise convolutions; only 1 works (as in
            MMPose, whose forward fails with 2).
        reduce_ratio: reduction ratio of the cross-resolution weighting.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        with_cp: accepted for MMPose compatibility; gradient checkpointing
            is not used.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> ccw = ConditionalChannelWeighting([8, 16], stride=1, reduce_ratio=4)
    >>> outs = ccw([np.ones((1, 8, 6, 8), "float32"),
    ...             np.ones((1, 4, 3, 16), "float32")])
    >>> [tuple(o.shape) for o in outs]
    [(1, 8, 6, 8), (1, 4, 3, 16)]
    """

    def __init__(
        self,
        in_channels,
        stride,
        reduce_ratio,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006 (MMPose default)
        with_cp=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        in_channels = check_even_channels(in_channels, "in_channels")
        if stride != 1:
            # MMPose accepts 2 but then fails: it concatenates the
            # unstrided half with the strided one.
            raise ValueError(
                "Expected stride 1 (MMPose's forward concatenates the "
                f"unstrided half with the strided one). Received: {stride=}"
            )
        self.in_channels = in_channels
        self.stride = stride
        self.reduce_ratio = reduce_ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.with_cp = bool(with_cp)
        half = [c // 2 for c in in_channels]
        dt = self.dtype_policy
        self.cross_resolution_weighting = CrossResolutionWeighting(
            half,
            ratio=reduce_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            name="cross_resolution_weighting",
            dtype=dt,
        )
        self.depthwise_convs = [
            ConvModule(
                c,
                c,
                3,
                stride=stride,
                padding=1,
                groups=c,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=None,
                name=f"depthwise_convs_{i}",
                dtype=dt,
            )
            for i, c in enumerate(half)
        ]
        self.spatial_weighting = [
            SpatialWeighting(
                c, ratio=4, name=f"spatial_weighting_{i}", dtype=dt
            )
            for i, c in enumerate(half)
        ]

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if tuple(s[-1] for s in shapes) != self.in_channels:
            raise ValueError(
                f"{self.name}: expected branches with {self.in_channels} "
                f"channels. Received input shapes {shapes}"
            )
        halves = [(*s[:-1], s[-1] // 2) for s in shapes]
        self.cross_resolution_weighting.build(halves)
        for dw, sw, shape in zip(
            self.depthwise_convs, self.spatial_weighting, halves
        ):
            dw.build(shape)
            sw.build(dw.compute_output_shape(shape))

    def call(self, xs, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        firsts, seconds = [], []
        for x, c in zip(xs, self.in_channels):
            firsts.append(x[..., : c // 2])
            seconds.append(x[..., c // 2 :])
        seconds = self.cross_resolution_weighting(seconds, **kw)
        outs = []
        for first, second, dw, sw in zip(
            firsts, seconds, self.depthwise_convs, self.spatial_weighting
        ):
            second = sw(dw(second, **kw), **kw)
            outs.append(
                channel_shuffle(ops.concatenate([first, second], axis=-1), 2)
            )
        return outs

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            stride=self.stride,
            reduce_ratio=self.reduce_ratio,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            with_cp=self.with_cp,
        )
        return config

"""Lite-HRNet's cross-resolution weighting."""

import keras
import numpy as np
from keras import ops

from keraspose.models.utils.resize import adaptive_avg_pool2d
from keraspose.models.utils.resize import interpolate
from keraspose.models.utils.spatial_weighting import gate_act_cfgs
from keraspose.models.utils.spatial_weighting import gate_convs
from keraspose.registry import register


@register
class CrossResolutionWeighting(keras.layers.Layer):
    """Gates every branch of a multi-resolution list with all branches.

    Reference: Yu et al., "Lite-HRNet: A Lightweight High-Resolution
    Network", CVPR 2021. Every branch but the last is average-pooled to
    the last (smallest) branch's size with PyTorch's
    ``adaptive_avg_pool2d`` bins, the branches are concatenated, passed
    through the 1x1 ``ConvModule`` s ``conv1`` (``int(sum(channels) /
    ratio)`` channels, ReLU) and ``conv2`` (``sum(channels)``, Sigmoid),
    split back per branch, resized to each branch's size with PyTorch's
    nearest ``F.interpolate`` (source pixel ``floor(dst * in / out)``) and
    multiplied into the branch. Exact for any sizes, e.g. odd ones; the
    spatial sizes must be static.

    Args:
        channels: channels of each branch (list of ints).
        ratio: channel reduction ratio of ``conv1``.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config of both convs, or None.
        act_cfg: activation configs of ``conv1`` and ``conv2`` (a pair), or
            one dict for both.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> crw = CrossResolutionWeighting([4, 8], ratio=4)
    >>> outs = crw([np.ones((1, 9, 7, 4), "float32"),
    ...             np.ones((1, 5, 4, 8), "float32")])
    >>> [tuple(o.shape) for o in outs]
    [(1, 9, 7, 4), (1, 5, 4, 8)]
    """

    def __init__(
        self,
        channels,
        ratio=16,
        conv_cfg=None,
        norm_cfg=None,
        act_cfg=(dict(type="ReLU"), dict(type="Sigmoid")),
        **kwargs,
    ):
        super().__init__(**kwargs)
        act_cfg = gate_act_cfgs(act_cfg)
        channels = tuple(int(c) for c in channels)
        total = sum(channels)
        mid = int(total / ratio)
        if not channels or min(channels) < 1 or mid < 1:
            raise ValueError(
                "Expected positive channels with int(sum(channels) / ratio) "
                f">= 1. Received: {channels=}, {ratio=}"
            )
        self.channels = channels
        self.ratio = ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.conv1, self.conv2 = gate_convs(
            total, mid, act_cfg, conv_cfg, norm_cfg, self.dtype_policy
        )

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        got = tuple(s[-1] for s in shapes)
        if got != self.channels:
            raise ValueError(
                f"{self.name}: expected branches with {self.channels} "
                f"channels. Received input shapes {shapes}"
            )
        last = shapes[-1]
        shape = (*last[:-1], sum(self.channels))
        self.conv1.build(shape)
        self.conv2.build(self.conv1.compute_output_shape(shape))

    def call(self, xs, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        xs = list(xs)
        mini = tuple(xs[-1].shape[1:3])
        pooled = [adaptive_avg_pool2d(x, mini) for x in xs[:-1]] + [xs[-1]]
        gates = self.conv2(
            self.conv1(ops.concatenate(pooled, axis=-1), **kw), **kw
        )
        splits = [int(i) for i in np.cumsum(self.channels)[:-1]]
        gates = ops.split(gates, splits, axis=-1)
        return [
            x * interpolate(g, size=tuple(x.shape[1:3]), mode="nearest")
            for x, g in zip(xs, gates)
        ]

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]

    def get_config(self):
        config = super().get_config()
        config.update(
            channels=self.channels,
            ratio=self.ratio,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        return config

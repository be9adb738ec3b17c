"""Lite-HRNet's spatial weighting (a squeeze-and-excitation gate)."""

import keras
from keras import ops

from keraspose.models.utils.conv_module import ConvModule
from keraspose.registry import register


def gate_act_cfgs(act_cfg):
    """``act_cfg`` as a pair of dicts (one dict is used for both convs)."""
    if isinstance(act_cfg, dict):
        return (act_cfg, act_cfg)
    act_cfg = tuple(act_cfg)
    if len(act_cfg) != 2 or not all(isinstance(c, dict) for c in act_cfg):
        raise ValueError(
            "Expected act_cfg to be a dict or a pair of dicts. "
            f"Received: {act_cfg=}"
        )
    return act_cfg


def gate_convs(channels, mid, act_cfg, conv_cfg, norm_cfg, dtype):
    """The 1x1 ``ConvModule`` pair ``conv1`` (channels -> mid) and ``conv2``
    (mid -> channels) of a Lite-HRNet gate, with ``act_cfg`` a pair."""
    return tuple(
        ConvModule(
            c_in,
            c_out,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act,
            name=name,
            dtype=dtype,
        )
        for c_in, c_out, act, name in (
            (channels, mid, act_cfg[0], "conv1"),
            (mid, channels, act_cfg[1], "conv2"),
        )
    )


@register
class SpatialWeighting(keras.layers.Layer):
    """Multiplies a feature map by a per-channel gate computed from it.

    Reference: Yu et al., "Lite-HRNet: A Lightweight High-Resolution
    Network", CVPR 2021 (after Hu et al.'s squeeze-and-excitation). The map
    is averaged over its spatial positions, passed through the 1x1
    ``ConvModule`` s ``conv1`` (to ``int(channels / ratio)`` channels,
    ReLU) and ``conv2`` (back to ``channels``, Sigmoid), and the result
    scales the input channels. Names follow MMPose.

    Args:
        channels: input (and output) channels.
        ratio: channel reduction ratio of ``conv1``.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config of both convs, or None (with bias).
        act_cfg: activation configs of ``conv1`` and ``conv2`` (a pair), or
            one dict for both.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> sw = SpatialWeighting(8, ratio=4)
    >>> sw(np.ones((1, 5, 3, 8), "float32")).shape
    (1, 5, 3, 8)
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
        mid = int(channels / ratio)
        if mid < 1:
            raise ValueError(
                "Expected int(channels / ratio) >= 1. "
                f"Received: {channels=}, {ratio=}"
            )
        self.channels = channels
        self.ratio = ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.conv1, self.conv2 = gate_convs(
            channels, mid, act_cfg, conv_cfg, norm_cfg, self.dtype_policy
        )

    def build(self, input_shape):
        if input_shape[-1] != self.channels:
            raise ValueError(
                f"{self.name}: expected {self.channels} input channels. "
                f"Received input shape {input_shape}"
            )
        shape = (input_shape[0], 1, 1, self.channels)
        self.conv1.build(shape)
        self.conv2.build(self.conv1.compute_output_shape(shape))

    def call(self, x, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        gate = ops.mean(x, axis=(1, 2), keepdims=True)
        gate = self.conv2(self.conv1(gate, **kw), **kw)
        return x * gate

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

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

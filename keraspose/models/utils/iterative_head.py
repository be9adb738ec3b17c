"""Lite-HRNet's iterative head (coarse-to-fine feature refinement)."""

import keras

from keraspose.models.utils.depthwise_separable_conv_module import (
    DepthwiseSeparableConvModule,
)
from keraspose.models.utils.resize import interpolate
from keraspose.registry import register


@register
class IterativeHead(keras.layers.Layer):
    """Refines multi-resolution features from the coarsest to the finest.

    Reference: Yu et al., "Lite-HRNet: A Lightweight High-Resolution
    Network", CVPR 2021. Going from the lowest resolution branch up, each
    branch gets the previous (coarser) result resized to its size with
    PyTorch's bilinear ``F.interpolate`` (``align_corners=True``, exact
    for any sizes) added, then goes through a 3x3
    :class:`DepthwiseSeparableConvModule` (``projects_i``, no activation
    after the depthwise half, ReLU after the pointwise half) that maps it
    to the next finer branch's channels (the finest keeps its own). The
    outputs come back finest first. ``projects_i`` are numbered from the
    coarsest branch, as in MMPose. Spatial sizes must be static.

    Args:
        in_channels: channels of each branch, finest first.
        norm_cfg: MMPose norm config.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> head = IterativeHead([8, 16])
    >>> outs = head([np.ones((1, 9, 7, 8), "float32"),
    ...              np.ones((1, 5, 4, 16), "float32")])
    >>> [tuple(o.shape) for o in outs]
    [(1, 9, 7, 8), (1, 5, 4, 8)]
    """

    def __init__(self, in_channels, norm_cfg=dict(type="BN"), **kwargs):  # noqa: B006
        super().__init__(**kwargs)
        in_channels = tuple(int(c) for c in in_channels)
        if not in_channels or min(in_channels) < 1:
            raise ValueError(
                f"Expected positive branch channels. Received: {in_channels=}"
            )
        self.in_channels = in_channels
        self.norm_cfg = norm_cfg
        coarse_first = in_channels[::-1]
        self.projects = []
        for i, cin in enumerate(coarse_first):
            cout = coarse_first[min(i + 1, len(coarse_first) - 1)]
            self.projects.append(
                DepthwiseSeparableConvModule(
                    cin,
                    cout,
                    3,
                    padding=1,
                    norm_cfg=norm_cfg,
                    act_cfg=dict(type="ReLU"),
                    dw_act_cfg=None,
                    pw_act_cfg=dict(type="ReLU"),
                    name=f"projects_{i}",
                    dtype=self.dtype_policy,
                )
            )

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if tuple(s[-1] for s in shapes) != self.in_channels:
            raise ValueError(
                f"{self.name}: expected branches with {self.in_channels} "
                f"channels. Received input shapes {shapes}"
            )
        for project, shape in zip(self.projects, shapes[::-1]):
            project.build(shape)

    def call(self, xs, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        outs = []
        last = None
        for project, x in zip(self.projects, list(xs)[::-1]):
            if last is not None:
                x = x + interpolate(
                    last,
                    size=tuple(x.shape[1:3]),
                    mode="bilinear",
                    align_corners=True,
                )
            last = project(x, **kw)
            outs.append(last)
        return outs[::-1]

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape][::-1]
        outs = [
            p.compute_output_shape(s) for p, s in zip(self.projects, shapes)
        ]
        return outs[::-1]

    def get_config(self):
        config = super().get_config()
        config.update(in_channels=self.in_channels, norm_cfg=self.norm_cfg)
        return config

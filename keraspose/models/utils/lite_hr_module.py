"""Lite-HRNet's multi-resolution module (MMPose's ``LiteHRModule``)."""

import keras
from keras import ops

from keraspose.models.utils.conditional_channel_weighting import (
    ConditionalChannelWeighting,
)
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.norm import build_norm_layer
from keraspose.models.utils.shuffle_unit import ShuffleUnit
from keraspose.registry import register

MODULE_TYPES = ("LITE", "NAIVE")


def depthwise_pointwise(prefix, cin, cout, stride, relu, norm_cfg, dtype):
    """MMPose's ``Sequential(dw conv, BN, 1x1 conv, BN[, ReLU])`` as layers.

    The layers are named ``{prefix}_0`` ... ``{prefix}_3`` (``{prefix}_4``
    for the ReLU), the module paths of MMPose's unnamed sequentials; the
    convolutions have no bias.
    """
    layers = [
        Conv2d(
            cin,
            3,
            strides=stride,
            padding=1,
            groups=cin,
            use_bias=False,
            name=f"{prefix}_0",
            dtype=dtype,
        ),
        build_norm_layer(norm_cfg, f"{prefix}_1", dtype),
        Conv2d(cout, 1, use_bias=False, name=f"{prefix}_2", dtype=dtype),
        build_norm_layer(norm_cfg, f"{prefix}_3", dtype),
    ]
    if relu:
        layers.append(keras.layers.ReLU(name=f"{prefix}_4", dtype=dtype))
    return layers


def build_sequence(layers, shape):
    """Builds a list of layers in order; returns the output shape."""
    shape = tuple(shape)
    for layer in layers:
        layer.build(shape)
        shape = tuple(layer.compute_output_shape(shape))
    return shape


def apply_sequence(layers, x, norm_training):
    """Applies a list of layers; BatchNorm gets ``training=norm_training``."""
    for layer in layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            x = layer(x, training=norm_training)
        else:
            x = layer(x)
    return x


@register
class LiteHRModule(keras.layers.Layer):
    """A Lite-HRNet module: per-branch blocks, then cross-branch fusion.

    Reference: Yu et al., "Lite-HRNet: A Lightweight High-Resolution
    Network", CVPR 2021. ``"LITE"`` modules run ``num_blocks``
    :class:`ConditionalChannelWeighting` blocks over all branches
    (``layers_b``); ``"NAIVE"`` ones run ``num_blocks``
    :class:`ShuffleUnit` s per branch (``layers_i_b``). With ``with_fuse``
    each output branch ``i`` sums all branches brought to its resolution
    (``fuse_layers_i_j``: a 1x1 conv, BatchNorm and nearest upsampling by
    ``2**(j-i)`` for coarser branches; ``i-j`` depthwise/pointwise stride-2
    steps for finer ones) and applies a ReLU. Names follow MMPose.

    MMPose's fusion quirks are matched exactly. It accumulates with an
    in-place ``+=`` starting from ``out[0]`` (or from branch 0's fuse
    path), then adds branch 0 again in its loop, so branch 0 always counts
    twice; and for output 0 that ``+=`` overwrites ``out[0]`` itself, so
    the other outputs fuse branch 0's *pre-ReLU fused sum*, not its block
    output. Branch 0's fuse path therefore runs twice per output ``i > 0``
    (in training, its BatchNorm statistics update twice, as in MMPose).
    Fusion needs branch sizes that halve exactly (MMPose upsamples by
    ``2**(j-i)``); a single-branch module returns its branch unfused; a
    single-branch ``"LITE"`` module is rejected (MMPose's forward fails).

    Args:
        num_branches: number of branches.
        num_blocks: blocks per module (LITE) or per branch (NAIVE).
        in_channels: channels of each branch (even ints).
        reduce_ratio: reduction ratio of the cross-resolution weighting.
        module_type: ``"LITE"`` or ``"NAIVE"`` (case-insensitive).
        multiscale_output: return every branch (True) or only the first.
        with_fuse: fuse the branches.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        with_cp: accepted for MMPose compatibility; gradient checkpointing
            is not used.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> m = LiteHRModule(2, 1, [8, 16], 4, "LITE", multiscale_output=True)
    >>> outs = m([np.ones((1, 8, 6, 8), "float32"),
    ...           np.ones((1, 4, 3, 16), "float32")])
    >>> [tuple(o.shape) for o in outs]
    [(1, 8, 6, 8), (1, 4, 3, 16)]
    """

    def __init__(
        self,
        num_branches,
        num_blocks,
        in_channels,
        reduce_ratio,
        module_type,
        multiscale_output=False,
        with_fuse=True,
        conv_cfg=None,
        norm_cfg=dict(type="BN"),  # noqa: B006 (MMPose default)
        with_cp=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        in_channels = tuple(in_channels)
        if num_branches != len(in_channels):
            raise ValueError(
                "Expected one in_channels entry per branch. Received: "
                f"{num_branches=}, {in_channels=}"
            )
        if (
            not isinstance(module_type, str)
            or module_type.upper() not in MODULE_TYPES
        ):
            raise ValueError(
                f"Expected module_type in {MODULE_TYPES}. "
                f"Received: {module_type=}"
            )
        lite = module_type.upper() == "LITE"
        if lite and num_branches == 1:
            raise ValueError(
                "A 'LITE' module needs at least 2 branches (MMPose's forward "
                f"fails with one). Received: {num_branches=}"
            )
        if not isinstance(num_blocks, int) or num_blocks < 1:
            raise ValueError(
                f"Expected a positive int num_blocks. Received: {num_blocks=}"
            )
        self.num_branches = num_branches
        self.num_blocks = num_blocks
        self.in_channels = in_channels
        self.reduce_ratio = reduce_ratio
        self.module_type = module_type
        self.multiscale_output = bool(multiscale_output)
        self.with_fuse = bool(with_fuse)
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.with_cp = bool(with_cp)
        self._lite = lite
        dt = self.dtype_policy
        if lite:
            self.layers = [
                ConditionalChannelWeighting(
                    in_channels,
                    stride=1,
                    reduce_ratio=reduce_ratio,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    with_cp=with_cp,
                    name=f"layers_{b}",
                    dtype=dt,
                )
                for b in range(num_blocks)
            ]
        else:
            self.layers = [
                [
                    ShuffleUnit(
                        c,
                        c,
                        stride=1,
                        conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg,
                        act_cfg=dict(type="ReLU"),
                        with_cp=with_cp,
                        name=f"layers_{i}_{b}",
                        dtype=dt,
                    )
                    for b in range(num_blocks)
                ]
                for i, c in enumerate(in_channels)
            ]
        # fuse_layers[i][j]: the layers bringing branch j to branch i
        # ([] for j == i).
        self.fuse_layers = []
        if self.with_fuse and num_branches > 1:
            num_out = num_branches if self.multiscale_output else 1
            for i in range(num_out):
                row = []
                for j in range(num_branches):
                    row.append(self._fuse_path(i, j))
                self.fuse_layers.append(row)

    def _fuse_path(self, i, j):
        channels, dt = self.in_channels, self.dtype_policy
        prefix = f"fuse_layers_{i}_{j}"
        if j == i:
            return []
        if j > i:
            return [
                Conv2d(
                    channels[i],
                    1,
                    use_bias=False,
                    name=f"{prefix}_0",
                    dtype=dt,
                ),
                build_norm_layer(self.norm_cfg, f"{prefix}_1", dt),
                keras.layers.UpSampling2D(
                    2 ** (j - i),
                    interpolation="nearest",
                    name=f"{prefix}_2",
                    dtype=dt,
                ),
            ]
        layers = []
        for k in range(i - j):
            last = k == i - j - 1
            layers += depthwise_pointwise(
                f"{prefix}_{k}",
                channels[j],
                channels[i] if last else channels[j],
                2,
                not last,
                self.norm_cfg,
                dt,
            )
        return layers

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if tuple(s[-1] for s in shapes) != self.in_channels:
            raise ValueError(
                f"{self.name}: expected branches with {self.in_channels} "
                f"channels. Received input shapes {shapes}"
            )
        if self._lite:
            for block in self.layers:
                block.build(shapes)
        else:
            for units, shape in zip(self.layers, shapes):
                build_sequence(units, shape)
        for i, row in enumerate(self.fuse_layers):
            for j, path in enumerate(row):
                out = build_sequence(path, shapes[j])
                if out[1:3] != shapes[i][1:3]:
                    raise ValueError(
                        f"{self.name}: with_fuse needs branch sizes that "
                        "halve exactly (MMPose upsamples by 2**k); branch "
                        f"{j} {shapes[j]} does not map onto branch {i} "
                        f"{shapes[i]}"
                    )

    def call(self, xs, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        norm_training = training if norm_training is None else norm_training
        out = list(xs)
        if self._lite:
            for block in self.layers:
                out = list(block(out, **kw))
        else:
            for i, units in enumerate(self.layers):
                for unit in units:
                    out[i] = unit(out[i], **kw)
        if self.num_branches == 1:
            return out
        if self.fuse_layers:
            fused = []
            for i, row in enumerate(self.fuse_layers):
                if i == 0:
                    y = out[0] + out[0]
                else:
                    y = apply_sequence(row[0], out[0], norm_training)
                    y = y + apply_sequence(row[0], out[0], norm_training)
                for j in range(1, self.num_branches):
                    y = y + apply_sequence(row[j], out[j], norm_training)
                if i == 0:
                    out[0] = y  # MMPose's in-place += rewrote out[0]
                fused.append(ops.relu(y))
            out = fused
        if not self.multiscale_output:
            out = out[:1]
        return out

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if self.num_branches > 1 and not self.multiscale_output:
            shapes = shapes[:1]
        return shapes

    def get_config(self):
        config = super().get_config()
        config.update(
            num_branches=self.num_branches,
            num_blocks=self.num_blocks,
            in_channels=self.in_channels,
            reduce_ratio=self.reduce_ratio,
            module_type=self.module_type,
            multiscale_output=self.multiscale_output,
            with_fuse=self.with_fuse,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            with_cp=self.with_cp,
        )
        return config

"""Path aggregation neck of RTMDet / RTMW (MMPose's ``CSPNeXtPAFPN``)."""

import math

import keras
from keras import ops

from keraspose.models.necks._utils import apply_conv_init_cfg
from keraspose.models.necks._utils import check_feature_sequence
from keraspose.models.necks._utils import check_in_channels
from keraspose.models.necks._utils import check_upsample_cfg
from keraspose.models.necks._utils import with_channels
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.csp_layer import CSPLayer
from keraspose.models.utils.depthwise_separable_conv_module import (
    DepthwiseSeparableConvModule,
)
from keraspose.models.utils.resize import interpolate
from keraspose.models.utils.resize import interpolated_size
from keraspose.registry import register

_KAIMING_DEFAULT = dict(
    type="Kaiming",
    layer="Conv2d",
    a=math.sqrt(5),
    distribution="uniform",
    mode="fan_in",
    nonlinearity="leaky_relu",
)


@register
class CSPNeXtPAFPN(keras.layers.Layer):
    """Top-down then bottom-up fusion of CSPNeXt features with CSP layers.

    Reference: Lyu et al., "RTMDet: An Empirical Study of Designing
    Real-Time Object Detectors", 2022 (path aggregation from Liu et al.,
    "Path Aggregation Network for Instance Segmentation", CVPR 2018); the
    neck of RTMW (Jiang et al., "RTMW: Real-Time Multi-Person 2D and 3D
    Whole-body Pose Estimation", 2024).

    Top-down, from the coarsest level: a 1x1 ``reduce_layers_k`` maps the
    running map to the next finer level's channels; it is upsampled
    (``upsample_cfg``, PyTorch-exact ``interpolate``), concatenated
    *before* the finer input and fused by the CSP layer
    ``top_down_blocks_k`` (CSPNeXt blocks, no identity). The reduced map
    replaces the coarse top-down output. Bottom-up: a stride-2 3x3
    ``downsamples_k`` of the running output is concatenated *before* the
    top-down map of the next level and fused by ``bottom_up_blocks_k``.
    Returns the levels ``out_indices`` (a tuple). Layer names follow MMPose.

    MMPose 1.3.2 quirk: with ``out_channels`` set, MMPose builds per-level
    ``out_convs`` and then overwrites them by one conv, so its forward
    fails; every MMPose config uses ``out_channels=None``. Here
    ``out_channels`` follows mmdet's ``CSPNeXtPAFPN`` (the evident intent):
    a 3x3 ``out_convs_i`` maps every level to ``out_channels`` before
    ``out_indices`` are picked.

    The default ``init_cfg`` (Kaiming uniform with ``a=sqrt(5)``, PyTorch's
    default conv init, zero biases) sets every conv's initializer; a
    ``Pretrained`` entry warns (it is not loaded).

    Args:
        in_channels: list of input channels per level.
        out_channels: channels of the outputs, or None to keep each
            level's ``in_channels``.
        out_indices: levels to return.
        num_csp_blocks: CSPNeXt blocks per CSP layer.
        use_depthwise: depthwise separable convs (downsamples, out convs and
            inside the blocks).
        expand_ratio: CSP branch channels over output channels.
        upsample_cfg: ``interpolate`` arguments (``scale_factor`` or
            ``size``, ``mode``, ``align_corners``), like ``nn.Upsample``.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config (default mmdet's BN, momentum 0.03,
            eps 0.001).
        act_cfg: MMPose activation config (Swish, i.e. SiLU).
        init_cfg: MMPose init config (see above).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> neck = CSPNeXtPAFPN([4, 8], None, out_indices=(0, 1),
    ...                     num_csp_blocks=1)
    >>> feats = (np.ones((1, 8, 6, 4), "float32"),
    ...          np.ones((1, 4, 3, 8), "float32"))
    >>> [tuple(f.shape) for f in neck(feats)]
    [(1, 8, 6, 4), (1, 4, 3, 8)]
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        out_indices=(0, 1, 2),
        num_csp_blocks=3,
        use_depthwise=False,
        expand_ratio=0.5,
        upsample_cfg=dict(scale_factor=2, mode="nearest"),  # noqa: B006
        conv_cfg=None,
        norm_cfg=dict(type="BN", momentum=0.03, eps=0.001),  # noqa: B006
        act_cfg=dict(type="Swish"),  # noqa: B006 (MMPose defaults)
        init_cfg=_KAIMING_DEFAULT,
        **kwargs,
    ):
        super().__init__(**kwargs)
        in_channels = check_in_channels(in_channels, "CSPNeXtPAFPN")
        n = len(in_channels)
        if isinstance(out_indices, int):
            out_indices = (out_indices,)
        out_indices = tuple(out_indices)
        if not out_indices or not all(
            isinstance(i, int) and -n <= i < n for i in out_indices
        ):
            raise ValueError(
                f"CSPNeXtPAFPN expects out_indices in [{-n}, {n - 1}] ("
                f"{n} levels). Received: out_indices={out_indices!r}"
            )
        self.in_channels = in_channels
        self.out_channels = None if out_channels is None else int(out_channels)
        self.out_indices = out_indices
        self.num_csp_blocks = num_csp_blocks
        self.use_depthwise = bool(use_depthwise)
        self.expand_ratio = expand_ratio
        self.upsample_cfg = check_upsample_cfg(
            upsample_cfg,
            (
                "size",
                "scale_factor",
                "mode",
                "align_corners",
                "recompute_scale_factor",
            ),
            "CSPNeXtPAFPN",
        )
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        dt = self.dtype_policy
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        csp = dict(
            num_blocks=num_csp_blocks,
            add_identity=False,
            use_depthwise=self.use_depthwise,
            use_cspnext_block=True,
            expand_ratio=expand_ratio,
            **common,
        )
        conv = (
            DepthwiseSeparableConvModule if self.use_depthwise else ConvModule
        )
        self.reduce_layers = []
        self.top_down_blocks = []
        for k, idx in enumerate(range(n - 1, 0, -1)):
            self.reduce_layers.append(
                ConvModule(
                    in_channels[idx],
                    in_channels[idx - 1],
                    1,
                    name=f"reduce_layers_{k}",
                    dtype=dt,
                    **common,
                )
            )
            self.top_down_blocks.append(
                CSPLayer(
                    in_channels[idx - 1] * 2,
                    in_channels[idx - 1],
                    name=f"top_down_blocks_{k}",
                    dtype=dt,
                    **csp,
                )
            )
        self.downsamples = []
        self.bottom_up_blocks = []
        for idx in range(n - 1):
            self.downsamples.append(
                conv(
                    in_channels[idx],
                    in_channels[idx],
                    3,
                    stride=2,
                    padding=1,
                    name=f"downsamples_{idx}",
                    dtype=dt,
                    **common,
                )
            )
            self.bottom_up_blocks.append(
                CSPLayer(
                    in_channels[idx] * 2,
                    in_channels[idx + 1],
                    name=f"bottom_up_blocks_{idx}",
                    dtype=dt,
                    **csp,
                )
            )
        self.out_convs = []
        if self.out_channels is not None:
            self.out_convs = [
                conv(
                    in_channels[i],
                    self.out_channels,
                    3,
                    padding=1,
                    name=f"out_convs_{i}",
                    dtype=dt,
                    **common,
                )
                for i in range(n)
            ]
        self.init_cfg = apply_conv_init_cfg(self, init_cfg, "CSPNeXtPAFPN")

    def _upsample(self, x):
        return interpolate(x, **self.upsample_cfg)

    def _upsampled_shape(self, shape):
        cfg = self.upsample_cfg
        h, w = interpolated_size(
            shape[1], shape[2], cfg.get("size"), cfg.get("scale_factor")
        )
        return (shape[0], h, w, shape[3])

    def call(self, inputs, training=None):
        n = len(self.in_channels)
        check_feature_sequence(inputs, n, "CSPNeXtPAFPN")
        kw = dict(training=training)
        inner_outs = [inputs[-1]]
        for k, idx in enumerate(range(n - 1, 0, -1)):
            feat_high = self.reduce_layers[k](inner_outs[0], **kw)
            inner_outs[0] = feat_high
            merged = ops.concatenate(
                [self._upsample(feat_high), inputs[idx - 1]], axis=-1
            )
            inner_outs.insert(0, self.top_down_blocks[k](merged, **kw))
        outs = [inner_outs[0]]
        for idx in range(n - 1):
            down = self.downsamples[idx](outs[-1], **kw)
            merged = ops.concatenate([down, inner_outs[idx + 1]], axis=-1)
            outs.append(self.bottom_up_blocks[idx](merged, **kw))
        for i, out_conv in enumerate(self.out_convs):
            outs[i] = out_conv(outs[i], **kw)
        return tuple(outs[i] for i in self.out_indices)

    def _shapes(self, input_shape, build=False):
        shapes = [tuple(s) for s in input_shape]
        n = len(self.in_channels)
        check_feature_sequence(shapes, n, "CSPNeXtPAFPN")

        def run(layer, shape):
            if build:
                layer.build(shape)
            return tuple(layer.compute_output_shape(shape))

        inner = [shapes[-1]]
        for k, idx in enumerate(range(n - 1, 0, -1)):
            high = run(self.reduce_layers[k], inner[0])
            inner[0] = high
            low = shapes[idx - 1]
            up = self._upsampled_shape(high)
            if None not in (*up[1:3], *low[1:3]) and up[1:3] != low[1:3]:
                raise ValueError(
                    f"CSPNeXtPAFPN: level {idx} upsampled to {up[1:3]} does "
                    f"not match level {idx - 1} of size {low[1:3]}. Received "
                    f"input shapes {shapes}"
                )
            merged = with_channels(low, high[-1] + low[-1])
            inner.insert(0, run(self.top_down_blocks[k], merged))
        outs = [inner[0]]
        for idx in range(n - 1):
            down = run(self.downsamples[idx], outs[-1])
            merged = with_channels(down, down[-1] + inner[idx + 1][-1])
            outs.append(run(self.bottom_up_blocks[idx], merged))
        for i, out_conv in enumerate(self.out_convs):
            outs[i] = run(out_conv, outs[i])
        return tuple(outs[i] for i in self.out_indices)

    def build(self, input_shape):
        # Explicit builds (nested symbolic builds are slow).
        self._shapes(input_shape, build=True)

    def compute_output_shape(self, input_shape):
        return self._shapes(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            out_indices=self.out_indices,
            num_csp_blocks=self.num_csp_blocks,
            use_depthwise=self.use_depthwise,
            expand_ratio=self.expand_ratio,
            upsample_cfg=self.upsample_cfg,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            init_cfg=self.init_cfg,
        )
        return config

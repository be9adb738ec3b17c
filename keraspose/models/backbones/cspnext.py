"""CSPNeXt backbone of RTMDet / RTMPose (mmdet's layout)."""

import math

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.csp_layer import CSPLayer
from keraspose.models.utils.depthwise_separable_conv_module import (
    DepthwiseSeparableConvModule,
)
from keraspose.models.utils.init_cfg import kaiming_initializer
from keraspose.models.utils.init_cfg import unpretrained
from keraspose.models.utils.spp_bottleneck import SPPBottleneck
from keraspose.registry import register

# in_channels, out_channels, num_blocks, add_identity, use_spp
_ARCH_SETTINGS = {
    "P5": [
        [64, 128, 3, True, False],
        [128, 256, 6, True, False],
        [256, 512, 6, True, False],
        [512, 1024, 3, False, True],
    ],
    "P6": [
        [64, 128, 3, True, False],
        [128, 256, 6, True, False],
        [256, 512, 6, True, False],
        [512, 768, 3, True, False],
        [768, 1024, 3, False, True],
    ],
}

_KAIMING_DEFAULT = dict(
    type="Kaiming",
    layer="Conv2d",
    a=math.sqrt(5),
    distribution="uniform",
    mode="fan_in",
    nonlinearity="leaky_relu",
)


def _normalize_arch(arch_setting):
    rows = []
    for row in arch_setting:
        row = list(row)
        if len(row) != 5:
            raise ValueError(
                "Expected each arch_ovewrite row to be [in_channels, "
                "out_channels, num_blocks, add_identity, use_spp]. "
                f"Received: {row!r}"
            )
        rows.append(
            [int(row[0]), int(row[1]), int(row[2]), bool(row[3]), bool(row[4])]
        )
    if not rows:
        raise ValueError("Expected a non-empty arch_ovewrite.")
    return rows


@register
class CSPNeXt(BaseBackbone):
    """CSPNeXt backbone, the backbone of RTMDet and RTMPose.

    Reference: Lyu et al., "RTMDet: An Empirical Study of Designing
    Real-Time Object Detectors", 2022; used by Jiang et al., "RTMPose:
    Real-Time Multi-Person Pose Estimation based on MMPose", 2023.

    A stem of three 3x3 ``ConvModule`` s (``stem_0`` with stride 2,
    ``stem_1``, ``stem_2``), then one stage per ``arch`` row: a stride-2 3x3
    conv (``stageN_0``), an :class:`SPPBottleneck` in the last stage
    (``stageN_1``), and a :class:`CSPLayer` of CSPNeXt blocks. Layer names
    are mmdet's module paths with ``.`` written ``_``, so MMPose checkpoints
    map one-to-one. Output index 0 is the stem, 1.. the stages; as in mmdet,
    the outputs come in layer order whatever the order of ``out_indices``.

    Channels and depths follow mmdet exactly: stem channels
    ``int(64 * widen_factor // 2)`` then ``int(64 * widen_factor)``, stage
    channels ``int(c * widen_factor)``, blocks
    ``max(round(n * deepen_factor), 1)`` with Python's round-half-to-even.
    ``frozen_stages=k`` freezes the stem and stages 1..k (weights not trained,
    BatchNorm in inference mode); ``norm_eval`` runs every BatchNorm in
    inference mode. The default ``init_cfg`` (mmdet's Kaiming uniform with
    ``a=sqrt(5)``, PyTorch's default conv init, zero biases) sets the
    initializer of every convolution; without it, convolutions keep
    ``ConvModule``'s Kaiming-normal fan-out init. A ``Pretrained`` entry
    warns (it is not loaded) and is dropped from ``get_config``.

    Note MMPose's RTMPose configs pass ``norm_cfg=dict(type="SyncBN")``,
    which replaces mmdet's default (``momentum=0.03, eps=0.001``) by
    PyTorch's (``momentum=0.1, eps=1e-5``).

    Args:
        arch: "P5" (4 stages, stride 32) or "P6" (5 stages, stride 64).
        deepen_factor: multiplier of the number of blocks per stage.
        widen_factor: multiplier of the channels.
        out_indices: outputs to return (0: stem, 1..: stages).
        frozen_stages: freeze the stem and the first stages; -1: none.
        use_depthwise: depthwise separable convs for the stage convs and the
            first conv of the blocks.
        expand_ratio: CSP branch channels over stage channels.
        arch_ovewrite: rows ``[in, out, num_blocks, add_identity, use_spp]``
            replacing the arch (mmdet's spelling).
        spp_kernel_sizes: max-pool kernels of the SPP block.
        channel_attention: channel attention in every CSP layer.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config.
        act_cfg: MMPose activation config.
        norm_eval: keep BatchNorm in inference mode during training.
        init_cfg: MMPose init config (see above).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> net = keraspose.build(dict(type="CSPNeXt", deepen_factor=0.167,
    ...                            widen_factor=0.125, out_indices=(3, 4)))
    >>> [f.shape for f in net(np.zeros((1, 64, 64, 3), "float32"))]
    [(1, 4, 4, 64), (1, 2, 2, 128)]
    """

    arch_settings = _ARCH_SETTINGS

    def __init__(
        self,
        arch="P5",
        deepen_factor=1.0,
        widen_factor=1.0,
        out_indices=(2, 3, 4),
        frozen_stages=-1,
        use_depthwise=False,
        expand_ratio=0.5,
        arch_ovewrite=None,
        spp_kernel_sizes=(5, 9, 13),
        channel_attention=True,
        conv_cfg=None,
        norm_cfg=dict(type="BN", momentum=0.03, eps=0.001),  # noqa: B006
        act_cfg=dict(type="SiLU"),  # noqa: B006 (mmdet defaults)
        norm_eval=False,
        init_cfg=_KAIMING_DEFAULT,
        **kwargs,
    ):
        super().__init__(norm_eval=norm_eval, init_cfg=init_cfg, **kwargs)
        if arch not in _ARCH_SETTINGS:
            raise ValueError(
                f"Expected arch in {sorted(_ARCH_SETTINGS)}. "
                f"Received: arch={arch!r}"
            )
        setting = (
            _normalize_arch(arch_ovewrite)
            if arch_ovewrite
            else _ARCH_SETTINGS[arch]
        )
        num_layers = len(setting) + 1
        self.out_indices = self._check_indices(out_indices, num_layers)
        if not isinstance(frozen_stages, int) or not (
            -1 <= frozen_stages < num_layers
        ):
            raise ValueError(
                f"Expected frozen_stages in [-1, {num_layers - 1}] (stem "
                f"and {num_layers - 1} stages). "
                f"Received: frozen_stages={frozen_stages!r}"
            )
        self.arch = arch
        self.deepen_factor = deepen_factor
        self.widen_factor = widen_factor
        self.frozen_stages = frozen_stages
        self.use_depthwise = bool(use_depthwise)
        self.expand_ratio = expand_ratio
        self.arch_ovewrite = setting if arch_ovewrite else None
        self.spp_kernel_sizes = tuple(spp_kernel_sizes)
        self.channel_attention = bool(channel_attention)
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.init_cfg = unpretrained(init_cfg)
        dt = self.dtype_policy

        stem_ch = int(setting[0][0] * widen_factor // 2)
        stem_out = int(setting[0][0] * widen_factor)
        self.stem = [
            ConvModule(
                3 if i == 0 else stem_ch,
                stem_out if i == 2 else stem_ch,
                3,
                stride=2 if i == 0 else 1,
                padding=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                name=f"stem_{i}",
                dtype=dt,
            )
            for i in range(3)
        ]
        conv = (
            DepthwiseSeparableConvModule if self.use_depthwise else ConvModule
        )
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.stages = []
        for i, (in_ch, out_ch, blocks, add_identity, use_spp) in enumerate(
            setting
        ):
            in_ch = int(in_ch * widen_factor)
            out_ch = int(out_ch * widen_factor)
            blocks = max(round(blocks * deepen_factor), 1)
            prefix = f"stage{i + 1}"
            stage = [
                conv(
                    in_ch,
                    out_ch,
                    3,
                    stride=2,
                    padding=1,
                    name=f"{prefix}_0",
                    dtype=dt,
                    **common,
                )
            ]
            if use_spp:
                stage.append(
                    SPPBottleneck(
                        out_ch,
                        out_ch,
                        kernel_sizes=self.spp_kernel_sizes,
                        name=f"{prefix}_1",
                        dtype=dt,
                        **common,
                    )
                )
            stage.append(
                CSPLayer(
                    out_ch,
                    out_ch,
                    num_blocks=blocks,
                    add_identity=add_identity,
                    use_depthwise=self.use_depthwise,
                    use_cspnext_block=True,
                    expand_ratio=expand_ratio,
                    channel_attention=self.channel_attention,
                    name=f"{prefix}_{len(stage)}",
                    dtype=dt,
                    **common,
                )
            )
            self.stages.append(stage)
        self.feat_dim = int(setting[-1][1] * widen_factor)
        self._apply_init_cfg()
        self._freeze_stages()

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds cost time exponential in
        # the nesting depth with a dynamic batch size.
        shape = tuple(input_shape)
        for layers in [self.stem, *self.stages]:
            for layer in layers:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)

    def _apply_init_cfg(self):
        init = kaiming_initializer(self.init_cfg)
        if init is None:
            return
        kernel_init, bias_init = init
        for layer in self._flatten_layers(include_self=False):
            if isinstance(layer, Conv2d):
                layer.kernel_initializer = kernel_init
                layer.bias_initializer = bias_init

    def _freeze_stages(self):
        for i, layers in enumerate([self.stem, *self.stages]):
            if i > self.frozen_stages:
                break
            for layer in layers:
                layer.trainable = False

    def call(self, x, training=None):
        kw = dict(training=training, norm_training=self.norm_training(training))
        outs = []
        for i, layers in enumerate([self.stem, *self.stages]):
            for layer in layers:
                x = layer(x, **kw)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def get_config(self):
        config = super().get_config()
        config.update(
            arch=self.arch,
            deepen_factor=self.deepen_factor,
            widen_factor=self.widen_factor,
            out_indices=self.out_indices,
            frozen_stages=self.frozen_stages,
            use_depthwise=self.use_depthwise,
            expand_ratio=self.expand_ratio,
            arch_ovewrite=self.arch_ovewrite,
            spp_kernel_sizes=self.spp_kernel_sizes,
            channel_attention=self.channel_attention,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            norm_eval=self.norm_eval,
            init_cfg=self.init_cfg,
        )
        return config

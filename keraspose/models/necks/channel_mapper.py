"""Per-level channel mapping neck (MMPose's ``ChannelMapper``)."""

import keras

from keraspose.models.necks._utils import apply_conv_init_cfg
from keraspose.models.necks._utils import check_feature_sequence
from keraspose.models.necks._utils import check_in_channels
from keraspose.models.utils.conv_module import ConvModule
from keraspose.registry import register


@register
class ChannelMapper(keras.layers.Layer):
    """Maps every input level to ``out_channels`` with one ``ConvModule``.

    MMPose's ``ChannelMapper`` (from mmdet; used in front of DETR-like
    decoders, e.g. Yang et al., "Explicit Box Detection Unifies End-to-End
    Multi-Person Pose Estimation", ICLR 2023). Level ``i`` goes through
    ``convs_i`` (``kernel_size`` with padding ``(kernel_size - 1) // 2``).
    When ``num_outs`` exceeds the number of inputs, stride-2 3x3 convs
    (``extra_convs_j``) add levels: the first applies to the last *input*
    map, the next ones to the previous output.

    The default ``init_cfg`` (Xavier uniform, zero bias on every conv) is
    MMPose's; a ``Pretrained`` entry warns (it is not loaded).

    Args:
        in_channels: list of input channels per level.
        out_channels: output channels of every level.
        kernel_size: kernel size of the per-level convs.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config (None: no norm).
        act_cfg: MMPose activation config (None: none).
        num_outs: number of outputs (None: one per input).
        bias: conv bias, True, False or "auto" (bias iff no norm).
        init_cfg: MMPose init config (see above).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> neck = ChannelMapper([2, 4], 8, num_outs=3)
    >>> feats = (np.ones((1, 8, 6, 2), "float32"),
    ...          np.ones((1, 4, 3, 4), "float32"))
    >>> [tuple(f.shape) for f in neck(feats)]
    [(1, 8, 6, 8), (1, 4, 3, 8), (1, 2, 2, 8)]
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=3,
        conv_cfg=None,
        norm_cfg=None,
        act_cfg=dict(type="ReLU"),  # noqa: B006 (MMPose default)
        num_outs=None,
        bias="auto",
        init_cfg=dict(  # noqa: B006 (MMPose default)
            type="Xavier", layer="Conv2d", distribution="uniform"
        ),
        **kwargs,
    ):
        super().__init__(**kwargs)
        in_channels = check_in_channels(in_channels, "ChannelMapper")
        if num_outs is None:
            num_outs = len(in_channels)
        if not isinstance(num_outs, int) or num_outs < len(in_channels):
            raise ValueError(
                f"ChannelMapper expects num_outs >= {len(in_channels)} (one "
                f"output per input at least). Received: num_outs={num_outs!r}"
            )
        if not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(
                "ChannelMapper expects a positive int `kernel_size`. "
                f"Received: kernel_size={kernel_size!r}"
            )
        self.in_channels = in_channels
        self.out_channels = int(out_channels)
        self.kernel_size = kernel_size
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.num_outs = num_outs
        self.bias = bias
        dt = self.dtype_policy
        common = dict(
            bias=bias, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg
        )
        self.convs = [
            ConvModule(
                ch,
                self.out_channels,
                kernel_size,
                padding=(kernel_size - 1) // 2,
                name=f"convs_{i}",
                dtype=dt,
                **common,
            )
            for i, ch in enumerate(in_channels)
        ]
        self.extra_convs = [
            ConvModule(
                in_channels[-1] if j == 0 else self.out_channels,
                self.out_channels,
                3,
                stride=2,
                padding=1,
                name=f"extra_convs_{j}",
                dtype=dt,
                **common,
            )
            for j in range(num_outs - len(in_channels))
        ]
        self.init_cfg = apply_conv_init_cfg(self, init_cfg, "ChannelMapper")

    def call(self, inputs, training=None):
        check_feature_sequence(inputs, len(self.convs), "ChannelMapper")
        outs = [
            conv(x, training=training) for conv, x in zip(self.convs, inputs)
        ]
        for j, conv in enumerate(self.extra_convs):
            outs.append(
                conv(inputs[-1] if j == 0 else outs[-1], training=training)
            )
        return tuple(outs)

    def _shapes(self, input_shape, build=False):
        input_shape = [tuple(s) for s in input_shape]
        check_feature_sequence(input_shape, len(self.convs), "ChannelMapper")
        outs = []
        for conv, shape in zip(self.convs, input_shape):
            if build:
                conv.build(shape)
            outs.append(conv.compute_output_shape(shape))
        for j, conv in enumerate(self.extra_convs):
            shape = input_shape[-1] if j == 0 else outs[-1]
            if build:
                conv.build(shape)
            outs.append(conv.compute_output_shape(shape))
        return tuple(outs)

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
            kernel_size=self.kernel_size,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            num_outs=self.num_outs,
            bias=self.bias,
            init_cfg=self.init_cfg,
        )
        return config

"""Cross Stage Partial layer (mmdet's ``CSPLayer``)."""

import keras
from keras import ops

from keraspose.models.utils.channel_attention import ChannelAttention
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.cspnext_block import CSPNeXtBlock
from keraspose.models.utils.darknet_bottleneck import DarknetBottleneck
from keraspose.registry import register


@register
class CSPLayer(keras.layers.Layer):
    """Splits the input into a shortcut and a block branch, then fuses them.

    Reference: Wang et al., "CSPNet: A New Backbone that can Enhance
    Learning Capability of CNN", CVPRW 2020; the CSPNeXt variant (large-kernel
    blocks and channel attention) is from Lyu et al., "RTMDet: An Empirical
    Study of Designing Real-Time Object Detectors", 2022.

    ``main_conv`` and ``short_conv`` (1x1) each map the input to
    ``int(out_channels * expand_ratio)`` channels; ``num_blocks`` bottlenecks
    (``blocks_0``, ``blocks_1``, ... with expansion 1.0) process the main
    branch, which is concatenated *before* the shortcut, optionally gated by
    ``attention`` (:class:`ChannelAttention`), and fused by the 1x1
    ``final_conv``. Names follow mmdet.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        expand_ratio: ratio of the branch channels to ``out_channels``.
        num_blocks: number of bottleneck blocks.
        add_identity: identity connections inside the blocks.
        use_depthwise: depthwise separable convolutions inside the blocks.
        use_cspnext_block: :class:`CSPNeXtBlock` instead of
            :class:`DarknetBottleneck`.
        channel_attention: gate the concatenated branches.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config (mmdet's default: BN with
            ``momentum=0.03, eps=0.001``).
        act_cfg: MMPose activation config (``Swish``, i.e. SiLU).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> layer = CSPLayer(8, 16, use_cspnext_block=True,
    ...                  channel_attention=True)
    >>> layer(np.zeros((1, 8, 8, 8), "float32")).shape
    (1, 8, 8, 16)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        expand_ratio=0.5,
        num_blocks=1,
        add_identity=True,
        use_depthwise=False,
        use_cspnext_block=False,
        channel_attention=False,
        conv_cfg=None,
        norm_cfg=dict(type="BN", momentum=0.03, eps=0.001),  # noqa: B006
        act_cfg=dict(type="Swish"),  # noqa: B006 (mmdet defaults)
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_blocks, int) or num_blocks < 0:
            raise ValueError(
                "Expected `num_blocks` to be a non-negative int. "
                f"Received: num_blocks={num_blocks!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.expand_ratio = expand_ratio
        self.num_blocks = num_blocks
        self.add_identity = bool(add_identity)
        self.use_depthwise = bool(use_depthwise)
        self.use_cspnext_block = bool(use_cspnext_block)
        self.channel_attention = bool(channel_attention)
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        mid = int(out_channels * expand_ratio)
        dt = self.dtype_policy
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.main_conv = ConvModule(
            in_channels, mid, 1, name="main_conv", dtype=dt, **common
        )
        self.short_conv = ConvModule(
            in_channels, mid, 1, name="short_conv", dtype=dt, **common
        )
        self.final_conv = ConvModule(
            2 * mid, out_channels, 1, name="final_conv", dtype=dt, **common
        )
        block = CSPNeXtBlock if use_cspnext_block else DarknetBottleneck
        self.blocks = [
            block(
                mid,
                mid,
                expansion=1.0,
                add_identity=add_identity,
                use_depthwise=use_depthwise,
                name=f"blocks_{i}",
                dtype=dt,
                **common,
            )
            for i in range(num_blocks)
        ]
        self.attention = (
            ChannelAttention(2 * mid, name="attention", dtype=dt)
            if channel_attention
            else None
        )

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds cost time exponential in
        # the nesting depth with a dynamic batch size.
        self.main_conv.build(input_shape)
        self.short_conv.build(input_shape)
        shape = self._concat_shape(input_shape, build=True)
        if self.attention is not None:
            self.attention.build(shape)
        self.final_conv.build(shape)

    def _concat_shape(self, input_shape, build=False):
        shape = self.main_conv.compute_output_shape(input_shape)
        for block in self.blocks:
            if build:
                block.build(shape)
            shape = block.compute_output_shape(shape)
        short = self.short_conv.compute_output_shape(input_shape)
        return (*shape[:-1], shape[-1] + short[-1])

    def call(self, x, training=None, norm_training=None):
        kw = dict(training=training, norm_training=norm_training)
        x_short = self.short_conv(x, **kw)
        x_main = self.main_conv(x, **kw)
        for block in self.blocks:
            x_main = block(x_main, **kw)
        x = ops.concatenate([x_main, x_short], axis=-1)
        if self.attention is not None:
            x = self.attention(x)
        return self.final_conv(x, **kw)

    def compute_output_shape(self, input_shape):
        return self.final_conv.compute_output_shape(
            self._concat_shape(input_shape)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            expand_ratio=self.expand_ratio,
            num_blocks=self.num_blocks,
            add_identity=self.add_identity,
            use_depthwise=self.use_depthwise,
            use_cspnext_block=self.use_cspnext_block,
            channel_attention=self.channel_attention,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        return config

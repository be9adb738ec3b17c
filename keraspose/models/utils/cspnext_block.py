"""The CSPNeXt bottleneck of RTMDet (mmdet's ``CSPNeXtBlock``)."""

from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.darknet_bottleneck import DarknetBottleneck
from keraspose.models.utils.depthwise_separable_conv_module import (
    DepthwiseSeparableConvModule,
)
from keraspose.registry import register


@register
class CSPNeXtBlock(DarknetBottleneck):
    """A 3x3 ``ConvModule``, a large-kernel depthwise separable one, identity.

    Reference: Lyu et al., "RTMDet: An Empirical Study of Designing
    Real-Time Object Detectors", 2022. Sublayers are named ``conv1`` and
    ``conv2`` as in mmdet. ``conv2`` is always depthwise separable with a
    ``kernel_size`` kernel (5 by default); ``use_depthwise`` makes ``conv1``
    depthwise separable too. As in mmdet, the identity is added only when
    ``add_identity`` is set *and* ``in_channels == out_channels``, and
    ``conv_cfg`` is not passed to ``conv1`` (mmdet's quirk; it has no effect
    here anyway, only plain convolutions exist).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        expansion: hidden channels are ``int(out_channels * expansion)``.
        add_identity: add the input to the output (same channels only).
        use_depthwise: make the first (3x3) convolution depthwise separable.
        kernel_size: kernel of the depthwise part of ``conv2``.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config (mmdet's default: BN with
            ``momentum=0.03, eps=0.001``).
        act_cfg: MMPose activation config (SiLU).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> block = CSPNeXtBlock(8, 8, expansion=1.0)
    >>> block(np.zeros((1, 8, 8, 8), "float32")).shape
    (1, 8, 8, 8)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        expansion=0.5,
        add_identity=True,
        use_depthwise=False,
        kernel_size=5,
        conv_cfg=None,
        norm_cfg=dict(type="BN", momentum=0.03, eps=0.001),  # noqa: B006
        act_cfg=dict(type="SiLU"),  # noqa: B006 (mmdet defaults)
        init_cfg=None,
        **kwargs,
    ):
        if not isinstance(kernel_size, int) or kernel_size < 1:
            raise ValueError(
                "Expected `kernel_size` to be a positive int. "
                f"Received: kernel_size={kernel_size!r}"
            )
        self.kernel_size = kernel_size
        super().__init__(
            in_channels,
            out_channels,
            expansion=expansion,
            add_identity=add_identity,
            use_depthwise=use_depthwise,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            init_cfg=init_cfg,
            **kwargs,
        )

    def _make_convs(self, hidden, dt):
        conv = (
            DepthwiseSeparableConvModule if self.use_depthwise else ConvModule
        )
        self.conv1 = conv(
            self.in_channels,
            hidden,
            3,
            stride=1,
            padding=1,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            name="conv1",
            dtype=dt,
        )
        self.conv2 = DepthwiseSeparableConvModule(
            hidden,
            self.out_channels,
            self.kernel_size,
            stride=1,
            padding=self.kernel_size // 2,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            name="conv2",
            dtype=dt,
        )

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size)
        return config

"""The Darknet bottleneck of YOLO-style CSP layers (mmdet's layout)."""

import keras

from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.depthwise_separable_conv_module import (
    DepthwiseSeparableConvModule,
)
from keraspose.registry import register


@register
class DarknetBottleneck(keras.layers.Layer):
    """A 1x1 ``ConvModule`` then a 3x3 one, plus an optional identity.

    Reference: Redmon and Farhadi, "YOLOv3: An Incremental Improvement",
    2018, as used in mmdet's ``CSPLayer``. Sublayers are named ``conv1`` and
    ``conv2`` as in mmdet. As there, the identity is added only when
    ``add_identity`` is set *and* ``in_channels == out_channels``, and
    ``use_depthwise`` only replaces the 3x3 convolution.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        expansion: hidden channels are ``int(out_channels * expansion)``.
        add_identity: add the input to the output (same channels only).
        use_depthwise: make the 3x3 convolution depthwise separable.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config (mmdet's default: BN with
            ``momentum=0.03, eps=0.001``).
        act_cfg: MMPose activation config (``Swish``, i.e. SiLU).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> block = DarknetBottleneck(8, 8)
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
        conv_cfg=None,
        norm_cfg=dict(type="BN", momentum=0.03, eps=0.001),  # noqa: B006
        act_cfg=dict(type="Swish"),  # noqa: B006 (mmdet defaults)
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.expansion = expansion
        self.add_identity = bool(add_identity)
        self.use_depthwise = bool(use_depthwise)
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self._identity = self.add_identity and in_channels == out_channels
        self._make_convs(int(out_channels * expansion), self.dtype_policy)

    def _make_convs(self, hidden, dt):
        self.conv1 = ConvModule(
            self.in_channels,
            hidden,
            1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            name="conv1",
            dtype=dt,
        )
        conv = (
            DepthwiseSeparableConvModule if self.use_depthwise else ConvModule
        )
        self.conv2 = conv(
            hidden,
            self.out_channels,
            3,
            stride=1,
            padding=1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            name="conv2",
            dtype=dt,
        )

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds cost time exponential in
        # the nesting depth with a dynamic batch size.
        self.conv1.build(input_shape)
        self.conv2.build(self.conv1.compute_output_shape(input_shape))

    def call(self, x, training=None, norm_training=None):
        out = self.conv1(x, training=training, norm_training=norm_training)
        out = self.conv2(out, training=training, norm_training=norm_training)
        return out + x if self._identity else out

    def compute_output_shape(self, input_shape):
        return self.conv2.compute_output_shape(
            self.conv1.compute_output_shape(input_shape)
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            expansion=self.expansion,
            add_identity=self.add_identity,
            use_depthwise=self.use_depthwise,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        return config

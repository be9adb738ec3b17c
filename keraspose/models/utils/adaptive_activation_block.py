"""DEKR's adaptive activation block (deformable conv with affine taps)."""

import keras
from keras import ops

from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.deform_conv2d import DeformConv2d
from keraspose.models.utils.norm import build_activation
from keraspose.models.utils.norm import build_norm_layer
from keraspose.models.utils.symbolic_build import build_by_symbolic_call
from keraspose.registry import register

# Rows: tap dy, tap dx, 1 (the 3x3 grid in homogeneous coordinates).
_REGULAR_MATRIX = (
    (-1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0),
    (-1.0, 0.0, 1.0, -1.0, 0.0, 1.0, -1.0, 0.0, 1.0),
    (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
)


@register
class AdaptiveActivationBlock(keras.layers.Layer):
    """Adaptive activation block of DEKR (Geng et al., "Bottom-Up Human
    Pose Estimation Via Disentangled Keypoint Regression", CVPR 2021).

    A grouped 3x3 convolution (``transform_matrix_conv``) predicts one 2x3
    affine matrix per group and pixel; the matrix applied to the regular
    3x3 grid gives the sampling offsets of a grouped deformable 3x3
    convolution (``adapt_conv``), followed by a norm (``norm``), the
    residual and an activation (``act``). As in MMPose, the affine image
    of the grid is passed to the deformable convolution as the offset
    itself (it is not made relative to the grid).

    Sublayer names are MMPose's. ``transform_matrix_conv`` is initialised
    normal (std 0.001), zero bias: the init MMPose's ``DEKRHead`` (the
    block's only user) applies to it; ``adapt_conv`` keeps MMCV's
    Kaiming-uniform init, which the head's init does not reach either.

    Args:
        in_channels: input channels; must equal ``out_channels`` (the
            residual connection adds input and output).
        out_channels: output channels.
        groups: groups of both convolutions (DEKR: the keypoint count).
        norm_cfg: MMPose norm config.
        act_cfg: MMPose activation config.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> block = AdaptiveActivationBlock(4, 4, groups=2)
    >>> block(np.zeros((1, 5, 5, 4), "float32")).shape
    (1, 5, 5, 4)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        groups=1,
        norm_cfg=dict(type="BN"),  # noqa: B006 (MMPose default)
        act_cfg=dict(type="ReLU"),  # noqa: B006 (MMPose default)
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.groups = int(groups)
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                "Expected in_channels and out_channels divisible by groups. "
                f"Received: in_channels={self.in_channels}, out_channels="
                f"{self.out_channels}, groups={self.groups}"
            )
        if self.in_channels != self.out_channels:
            raise ValueError(
                "AdaptiveActivationBlock adds its input to its output: "
                "expected in_channels == out_channels. Received: "
                f"in_channels={self.in_channels}, "
                f"out_channels={self.out_channels}"
            )
        dt = self.dtype_policy
        self.transform_matrix_conv = Conv2d(
            6 * self.groups,
            3,
            padding=1,
            groups=self.groups,
            use_bias=True,
            kernel_initializer=keras.initializers.RandomNormal(0.0, 0.001),
            name="transform_matrix_conv",
            dtype=dt,
        )
        self.adapt_conv = DeformConv2d(
            self.out_channels,
            3,
            padding=1,
            groups=self.groups,
            deform_groups=self.groups,
            name="adapt_conv",
            dtype=dt,
        )
        self.norm = build_norm_layer(norm_cfg, "norm", dt)
        self.act = build_activation(act_cfg, "act", dt)

    def build(self, input_shape):
        if input_shape[-1] != self.in_channels:
            raise ValueError(
                f"{self.name}: expected {self.in_channels} input channels. "
                f"Received input shape {input_shape}"
            )
        build_by_symbolic_call(self, input_shape)

    def call(self, x, training=None):
        residual = x
        affine = self.transform_matrix_conv(x)
        shape = ops.shape(affine)
        b, h, w = shape[0], shape[1], shape[2]
        # (B, H, W, G, 2, 3) @ (3, 9) -> (B, H, W, G, 2, 9), in float32.
        affine = ops.reshape(
            ops.cast(affine, "float32"), (b, h, w, self.groups, 2, 3)
        )
        grid = ops.convert_to_tensor(_REGULAR_MATRIX, "float32")
        offset = ops.matmul(affine, grid)
        # Per group and tap the pair (row 0, row 1): MMCV's (dy, dx).
        offset = ops.transpose(offset, (0, 1, 2, 3, 5, 4))
        offset = ops.reshape(offset, (b, h, w, 18 * self.groups))
        y = self.adapt_conv(x, offset)
        y = self.norm(y, training=training)
        return self.act(y + residual)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.out_channels)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            groups=self.groups,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        return config

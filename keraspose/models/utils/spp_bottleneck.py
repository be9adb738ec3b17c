"""Spatial pyramid pooling block of YOLOv3-SPP (mmdet's ``SPPBottleneck``)."""

import keras
from keras import ops

from keraspose.models.utils.conv_module import ConvModule
from keraspose.registry import register


@register
class SPPBottleneck(keras.layers.Layer):
    """1x1 conv, parallel stride-1 max-pools concatenated, 1x1 conv.

    Reference: He et al., "Spatial Pyramid Pooling in Deep Convolutional
    Networks for Visual Recognition", ECCV 2014, in the YOLOv3-SPP form used
    by mmdet's CSPDarknet and CSPNeXt. ``conv1`` halves the channels; its
    output and its max-pools (kernel ``k``, stride 1, padding ``k // 2``)
    are concatenated on the channel axis (input first, then the pools in
    order) and ``conv2`` maps them to ``out_channels``. The pools pad with
    ``-inf`` like PyTorch (the input follows an activation that can be
    negative, e.g. SiLU, so zero padding would differ at the borders).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_sizes: odd kernel sizes of the max-pools.
        conv_cfg: accepted for MMPose compatibility (plain conv only).
        norm_cfg: MMPose norm config (mmdet's default: BN with
            ``momentum=0.03, eps=0.001``).
        act_cfg: MMPose activation config (``Swish``, i.e. SiLU).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> spp = SPPBottleneck(8, 16)
    >>> spp(np.zeros((1, 6, 6, 8), "float32")).shape
    (1, 6, 6, 16)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_sizes=(5, 9, 13),
        conv_cfg=None,
        norm_cfg=dict(type="BN", momentum=0.03, eps=0.001),  # noqa: B006
        act_cfg=dict(type="Swish"),  # noqa: B006 (mmdet defaults)
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        kernel_sizes = (
            (kernel_sizes,)
            if isinstance(kernel_sizes, int)
            else tuple(kernel_sizes)
        )
        if not all(
            isinstance(k, int) and k > 0 and k % 2 for k in kernel_sizes
        ):
            raise ValueError(
                "Expected `kernel_sizes` to be positive odd ints (a stride-1 "
                "pool padded by k // 2 keeps the size only for odd k). "
                f"Received: kernel_sizes={kernel_sizes!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_sizes = kernel_sizes
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        mid = in_channels // 2
        dt = self.dtype_policy
        self.conv1 = ConvModule(
            in_channels,
            mid,
            1,
            stride=1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            name="conv1",
            dtype=dt,
        )
        self.conv2 = ConvModule(
            mid * (len(kernel_sizes) + 1),
            out_channels,
            1,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            name="conv2",
            dtype=dt,
        )

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds cost time exponential in
        # the nesting depth with a dynamic batch size.
        self.conv1.build(input_shape)
        shape = self.conv1.compute_output_shape(input_shape)
        self.conv2.build(
            (*shape[:-1], shape[-1] * (len(self.kernel_sizes) + 1))
        )

    def call(self, x, training=None, norm_training=None):
        x = self.conv1(x, training=training, norm_training=norm_training)
        feats = [x]
        for k in self.kernel_sizes:
            p = k // 2
            padded = ops.pad(
                x,
                ((0, 0), (p, p), (p, p), (0, 0)),
                constant_values=float("-inf"),
            )
            feats.append(ops.max_pool(padded, k, strides=1, padding="valid"))
        x = ops.concatenate(feats, axis=-1)
        return self.conv2(x, training=training, norm_training=norm_training)

    def compute_output_shape(self, input_shape):
        shape = self.conv1.compute_output_shape(input_shape)
        return self.conv2.compute_output_shape(
            (*shape[:-1], shape[-1] * (len(self.kernel_sizes) + 1))
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            kernel_sizes=self.kernel_sizes,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        return config

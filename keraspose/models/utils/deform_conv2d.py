"""Deformable 2D convolution with MMCV's semantics, in ``keras.ops``."""

import keras
from keras import ops

from keraspose.models.utils.conv2d import conv_geometry_config
from keraspose.models.utils.conv2d import conv_output_hw
from keraspose.models.utils.conv2d import set_conv_geometry
from keraspose.registry import register


def kaiming_uniform_relu():
    """MMCV's ``DeformConv2d`` init (``kaiming_uniform_``, ReLU gain)."""
    return keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_in", distribution="uniform"
    )


@register
class DeformConv2d(keras.layers.Layer):
    """Deformable convolution (Dai et al., "Deformable Convolutional
    Networks", ICCV 2017), equal to MMCV's ``mmcv.ops.DeformConv2d``.

    Each kernel tap ``(i, j)`` of output pixel ``(y, x)`` reads the input at
    ``(y * stride - pad + i * dilation + dy, x * stride - pad + j * dilation
    + dx)`` by bilinear interpolation, where corners outside the map count
    as zeros (MMCV's im2col kernel). Offsets are channels-last with MMCV's
    channel order: for each deformable group, for each tap ``i * kw + j``,
    the pair ``(dy, dx)``; input channel ``c`` belongs to deformable group
    ``c // (in_channels // deform_groups)``. As in MMCV there is no bias.

    The taps are gathered with one ``take`` per bilinear corner on the
    flattened input, then reduced by one (grouped) matrix product, so the
    layer runs (and differentiates) on every backend. Sampling positions
    are computed in float32 also under mixed precision.

    Args:
        filters: number of output channels (MMCV's ``out_channels``).
        kernel_size: int or pair.
        strides: int or pair.
        padding: int or pair, zero padding on each side.
        dilation_rate: int or pair.
        groups: convolution groups (the kernel is
            ``(kh, kw, in_channels // groups, filters)``).
        deform_groups: deformable groups (offset groups).
        kernel_initializer: MMCV's Kaiming-uniform (ReLU) by default.
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Call arguments:
        x: (B, H, W, C) input, or a pair ``(x, offset)``.
        offset: (B, H_out, W_out, deform_groups * 2 * kh * kw) offsets.

    Example:

    >>> import numpy as np
    >>> conv = DeformConv2d(8, 3, padding=1)
    >>> x = np.zeros((1, 6, 6, 4), "float32")
    >>> conv(x, np.zeros((1, 6, 6, 18), "float32")).shape
    (1, 6, 6, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding=0,
        dilation_rate=1,
        groups=1,
        deform_groups=1,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        set_conv_geometry(
            self, filters, kernel_size, strides, padding, dilation_rate, groups
        )
        self.deform_groups = int(deform_groups)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or kaiming_uniform_relu()
        )
        if self.deform_groups < 1:
            raise ValueError(
                "Expected a positive `deform_groups`. Received: "
                f"deform_groups={self.deform_groups}"
            )

    def build(self, x_shape, offset_shape=None):
        if offset_shape is None and isinstance(x_shape[0], list | tuple):
            x_shape, offset_shape = x_shape
        in_channels = x_shape[-1]
        if (
            in_channels is None
            or in_channels % self.groups
            or in_channels % self.deform_groups
        ):
            raise ValueError(
                f"{self.name}: expected input channels divisible by "
                f"groups={self.groups} and deform_groups="
                f"{self.deform_groups}. Received input shape {x_shape}"
            )
        taps = self.kernel_size[0] * self.kernel_size[1]
        expected = self.deform_groups * 2 * taps
        if offset_shape is not None and offset_shape[-1] != expected:
            raise ValueError(
                f"{self.name}: expected offsets with deform_groups * 2 * "
                f"kh * kw = {expected} channels. Received offset shape "
                f"{offset_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, in_channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
        )

    def call(self, x, offset=None):
        if offset is None:
            x, offset = x
        kh, kw = self.kernel_size
        taps = kh * kw
        dg = self.deform_groups
        groups = self.groups
        shape = ops.shape(x)
        b, h, w = shape[0], x.shape[1], x.shape[2]
        c = x.shape[-1]
        cg = c // dg
        ho, wo = offset.shape[1], offset.shape[2]
        compute_dtype = self.compute_dtype

        # Sampling positions (B, Ho, Wo, DG, taps), float32.
        off = ops.reshape(ops.cast(offset, "float32"), (b, ho, wo, dg, taps, 2))
        (sh, sw), (ph, pw) = self.strides, self.padding
        dh, dw = self.dilation_rate
        base_y = (
            ops.arange(ho, dtype="float32")[:, None] * sh
            - ph
            + ops.convert_to_tensor(
                [(t // kw) * dh for t in range(taps)], "float32"
            )[None, :]
        )  # (Ho, taps)
        base_x = (
            ops.arange(wo, dtype="float32")[:, None] * sw
            - pw
            + ops.convert_to_tensor(
                [(t % kw) * dw for t in range(taps)], "float32"
            )[None, :]
        )  # (Wo, taps)
        py = off[..., 0] + base_y[None, :, None, None, :]
        px = off[..., 1] + base_x[None, None, :, None, :]
        y0 = ops.floor(py)
        x0 = ops.floor(px)
        ly = py - y0
        lx = px - x0

        # Flat rows of (B * H * W * DG, Cg): ((b * H + y) * W + x) * DG + g.
        table = ops.reshape(ops.cast(x, "float32"), (-1, cg))
        b_idx = ops.reshape(ops.arange(b, dtype="int32"), (-1, 1, 1, 1, 1))
        g_idx = ops.reshape(ops.arange(dg, dtype="int32"), (1, 1, 1, -1, 1))
        sampled = None
        for cy, cx, wgt in (
            (y0, x0, (1.0 - ly) * (1.0 - lx)),
            (y0, x0 + 1.0, (1.0 - ly) * lx),
            (y0 + 1.0, x0, ly * (1.0 - lx)),
            (y0 + 1.0, x0 + 1.0, ly * lx),
        ):
            valid = (cy >= 0) & (cy <= h - 1) & (cx >= 0) & (cx <= w - 1)
            wgt = ops.where(valid, wgt, ops.zeros_like(wgt))
            yi = ops.cast(ops.clip(cy, 0, h - 1), "int32")
            xi = ops.cast(ops.clip(cx, 0, w - 1), "int32")
            rows = ((b_idx * h + yi) * w + xi) * dg + g_idx
            vals = ops.take(table, ops.reshape(rows, (-1,)), axis=0)
            term = ops.reshape(wgt, (-1, 1)) * vals
            sampled = term if sampled is None else sampled + term
        # (B*Ho*Wo, DG, taps, Cg) -> (B*Ho*Wo, taps, C)
        cols = ops.reshape(sampled, (-1, dg, taps, cg))
        cols = ops.cast(cols, compute_dtype)
        if dg > 1:
            cols = ops.transpose(cols, (0, 2, 1, 3))
        cols = ops.reshape(cols, (-1, taps, c))

        kernel = ops.cast(self.kernel, compute_dtype)
        cin, cout = c // groups, self.filters // groups
        if groups == 1:
            out = ops.matmul(
                ops.reshape(cols, (-1, taps * c)),
                ops.reshape(kernel, (taps * c, self.filters)),
            )
        else:
            # (n, taps, G, Cin) -> (G, n, taps * Cin)
            cols = ops.reshape(cols, (-1, taps, groups, cin))
            cols = ops.reshape(
                ops.transpose(cols, (2, 0, 1, 3)), (groups, -1, taps * cin)
            )
            # (kh, kw, Cin, G * Cout) -> (G, taps * Cin, Cout)
            kern = ops.reshape(kernel, (taps, cin, groups, cout))
            kern = ops.reshape(
                ops.transpose(kern, (2, 0, 1, 3)), (groups, taps * cin, cout)
            )
            out = ops.matmul(cols, kern)  # (G, n, Cout)
            out = ops.reshape(ops.transpose(out, (1, 0, 2)), (-1, self.filters))
        return ops.reshape(out, (b, ho, wo, self.filters))

    def compute_output_shape(self, x_shape, offset_shape=None):
        if offset_shape is None and isinstance(x_shape[0], list | tuple):
            x_shape, offset_shape = x_shape
        ho, wo = conv_output_hw(self, x_shape[1], x_shape[2])
        return (x_shape[0], ho, wo, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            conv_geometry_config(self), deform_groups=self.deform_groups
        )
        return config

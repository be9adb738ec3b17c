"""Transposed convolution computed as a sub-pixel convolution."""

import keras
import numpy as np
from keras import ops

from keraspose.registry import register

# MMPose's deconv kernel sizes and their (padding, output_padding).
_DECONV_PADDING = {4: (1, 0), 3: (1, 1), 2: (0, 0)}


def _subpixel_plan(kernel_size, padding):
    """Maps a stride-2 transposed conv onto a stride-1 conv + depth-to-space.

    For output pixel ``o = 2 m + r`` a transposed convolution reads input
    ``m + d`` through kernel tap ``k = r + padding - 2 d``. Returns the tap
    offsets ``d`` covered (``d_min``, ``d_max``) and, for each sub-pixel conv
    tap ``t`` and phase ``r``, the transposed-conv tap (or -1 for zero).
    """
    d_min = min(-((kernel_size - 1 - r - padding) // 2) for r in (0, 1))
    d_max = max((r + padding) // 2 for r in (0, 1))
    taps = d_max - d_min + 1
    table = np.full((taps, 2), -1, dtype=np.int64)
    for t in range(taps):
        d = d_min + t
        for r in (0, 1):
            k = r + padding - 2 * d
            if 0 <= k < kernel_size:
                table[t, r] = k
    return d_min, d_max, table


@register
class ConvTranspose2d(keras.layers.Layer):
    """Stride-2 transposed convolution, numerically equal to PyTorch's.

    ``torch.nn.ConvTranspose2d(stride=2)`` with MMPose's kernel sizes (4, 3 or
    2, with the matching padding / output padding) doubles the resolution.
    This layer computes it as a stride-1 convolution that emits the four
    sub-pixel phases, followed by depth-to-space. The result is identical,
    but the weight gradient is a plain convolution gradient, which is about 5x
    faster than the transposed-convolution gradient on JAX/CPU.

    The trainable kernel keeps the transposed convolution's layout: shape
    ``(k, k, in_channels, filters)`` with ``kernel[ky, kx, i, o]`` equal to
    PyTorch's ``weight[i, o, ky, kx]``, so MMPose weights load directly.
    The parameter count equals PyTorch's.

    Args:
        filters: output channels.
        kernel_size: 4, 3 or 2 (padding 1/1/0, output padding 0/1/0).
        use_bias: whether to add a bias (MMPose heads use none).
        kernel_initializer: kernel initializer.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> layer = ConvTranspose2d(4, kernel_size=4, use_bias=False)
    >>> layer(np.zeros((1, 8, 6, 3), "float32")).shape
    (1, 16, 12, 4)
    """

    def __init__(
        self,
        filters,
        kernel_size=4,
        use_bias=False,
        kernel_initializer=None,
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if kernel_size not in _DECONV_PADDING:
            raise ValueError(
                "Expected `kernel_size` in (4, 3, 2) as in MMPose's deconv "
                f"layers. Received: kernel_size={kernel_size!r}"
            )
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer
            or keras.initializers.RandomNormal(mean=0.0, stddev=0.001)
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        padding, _ = _DECONV_PADDING[self.kernel_size]
        self._d_min, self._d_max, table = _subpixel_plan(
            self.kernel_size, padding
        )
        taps = table.shape[0]
        k = self.kernel_size
        # Index into the flattened (k*k + 1) kernel; k*k is a zero row.
        index = np.full((taps, taps, 2, 2), k * k, dtype=np.int64)
        for ty in range(taps):
            for tx in range(taps):
                for ry in (0, 1):
                    for rx in (0, 1):
                        ky, kx = table[ty, ry], table[tx, rx]
                        if ky >= 0 and kx >= 0:
                            index[ty, tx, ry, rx] = ky * k + kx
        self._taps = taps
        self._index = index.reshape(-1)

    def build(self, input_shape):
        in_channels = input_shape[-1]
        k = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(k, k, in_channels, self.filters),
            initializer=self.kernel_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
            )

    def subpixel_kernel(self):
        """Returns the ``(t, t, in, 4 * filters)`` stride-1 kernel."""
        k, taps = self.kernel_size, self._taps
        kernel = self.kernel
        in_channels = kernel.shape[2]
        flat = ops.reshape(kernel, (k * k, in_channels, self.filters))
        flat = ops.concatenate(
            [flat, ops.zeros((1, in_channels, self.filters), flat.dtype)],
            axis=0,
        )
        sub = ops.take(flat, self._index, axis=0)
        sub = ops.reshape(sub, (taps, taps, 2, 2, in_channels, self.filters))
        sub = ops.transpose(sub, (0, 1, 4, 2, 3, 5))
        return ops.reshape(sub, (taps, taps, in_channels, 4 * self.filters))

    def call(self, x):
        lo, hi = -self._d_min, self._d_max
        if lo or hi:
            x = ops.pad(x, ((0, 0), (lo, hi), (lo, hi), (0, 0)))
        y = ops.conv(x, self.subpixel_kernel(), strides=1, padding="valid")
        shape = ops.shape(y)
        n, h, w = shape[0], shape[1], shape[2]
        y = ops.reshape(y, (n, h, w, 2, 2, self.filters))
        y = ops.transpose(y, (0, 1, 3, 2, 4, 5))
        y = ops.reshape(y, (n, 2 * h, 2 * w, self.filters))
        if self.use_bias:
            y = y + self.bias
        return y

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        return (
            n,
            None if h is None else 2 * h,
            None if w is None else 2 * w,
            self.filters,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(
                self.kernel_initializer
            ),
            bias_initializer=keras.initializers.serialize(
                self.bias_initializer
            ),
        )
        return config

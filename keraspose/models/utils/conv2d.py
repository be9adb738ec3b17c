"""A 2D convolution with PyTorch's padding semantics."""

import keras
from keras import ops

from keraspose.registry import register


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(
            f"Expected `{name}` to be an int or a pair of ints. "
            f"Received: {name}={value!r}"
        )
    return value


def kaiming_normal_fan_out():
    """MMPose's default conv init (``kaiming_init``, fan_out, ReLU)."""
    return keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_out", distribution="untruncated_normal"
    )


@register
class Conv2d(keras.layers.Layer):
    """2D convolution, channels-last, padded like ``torch.nn.Conv2d``.

    Keras' ``padding="same"`` pads strided convolutions asymmetrically, which
    shifts features against weights trained in PyTorch. This layer pads
    ``padding`` pixels on every side, exactly as PyTorch does, so MMPose
    weights give MMPose's numbers. The kernel has shape
    ``(kh, kw, in_channels // groups, filters)``.

    Args:
        filters: number of output channels.
        kernel_size: int or pair.
        strides: int or pair.
        padding: int or pair of zero-padding pixels on each side.
        dilation_rate: int or pair.
        groups: number of channel groups.
        use_bias: whether to add a bias.
        kernel_initializer: initializer of the kernel (MMPose's Kaiming
            fan-out normal by default).
        bias_initializer: initializer of the bias.
        **kwargs: base layer arguments (``name``, ``dtype``...).

    Example:

    >>> import numpy as np
    >>> conv = Conv2d(8, 3, strides=2, padding=1)
    >>> conv(np.zeros((1, 32, 32, 3), "float32")).shape
    (1, 16, 16, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding=0,
        dilation_rate=1,
        groups=1,
        use_bias=True,
        kernel_initializer=None,
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = _pair(padding, "padding")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        self.groups = int(groups)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or kaiming_normal_fan_out()
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        if self.filters % self.groups:
            raise ValueError(
                "Expected `filters` divisible by `groups`. Received: "
                f"filters={self.filters}, groups={self.groups}"
            )
        same = all(
            s == 1 and 2 * p == (k - 1) * d
            for s, p, k, d in zip(
                self.strides, self.padding, self.kernel_size, self.dilation_rate
            )
        )
        if same:
            self._mode = "same"
        elif self.padding == (0, 0):
            self._mode = "valid"
        else:
            self._mode = "pad"

    def build(self, input_shape):
        in_channels = input_shape[-1]
        if in_channels is None or in_channels % self.groups:
            raise ValueError(
                f"{self.name}: expected input channels divisible by "
                f"groups={self.groups}. Received input shape {input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(*self.kernel_size, in_channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
            )

    def call(self, x):
        padding = self._mode
        if padding == "pad":
            ph, pw = self.padding
            x = ops.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
            padding = "valid"
        y = ops.conv(
            x,
            self.kernel,
            strides=self.strides,
            padding=padding,
            dilation_rate=self.dilation_rate,
        )
        if self.use_bias:
            y = y + self.bias
        return y

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        out = []
        for size, k, s, p, d in zip(
            (h, w),
            self.kernel_size,
            self.strides,
            self.padding,
            self.dilation_rate,
        ):
            out.append(
                None
                if size is None
                else (size + 2 * p - d * (k - 1) - 1) // s + 1
            )
        return (n, out[0], out[1], self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(
                self.kernel_initializer
            ),
            bias_initializer=keras.initializers.serialize(
                self.bias_initializer
            ),
        )
        return config

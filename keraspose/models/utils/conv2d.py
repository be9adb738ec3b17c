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


def set_conv_geometry(
    layer, filters, kernel_size, strides, padding, dilation_rate, groups
):
    """Validates and stores the PyTorch-style geometry of a conv layer.

    Shared by :class:`Conv2d` and ``DeformConv2d``: sets ``filters``,
    ``kernel_size``, ``strides``, ``padding``, ``dilation_rate`` (pairs) and
    ``groups`` on ``layer`` and checks that ``filters`` divides by
    ``groups``.
    """
    layer.filters = int(filters)
    layer.kernel_size = _pair(kernel_size, "kernel_size")
    layer.strides = _pair(strides, "strides")
    layer.padding = _pair(padding, "padding")
    layer.dilation_rate = _pair(dilation_rate, "dilation_rate")
    layer.groups = int(groups)
    if layer.groups < 1:
        raise ValueError(
            f"Expected a positive `groups`. Received: groups={layer.groups}"
        )
    if layer.filters % layer.groups:
        raise ValueError(
            "Expected `filters` divisible by `groups`. Received: "
            f"filters={layer.filters}, groups={layer.groups}"
        )


def conv_geometry_config(layer):
    """The config entries written by :func:`set_conv_geometry`."""
    return dict(
        filters=layer.filters,
        kernel_size=layer.kernel_size,
        strides=layer.strides,
        padding=layer.padding,
        dilation_rate=layer.dilation_rate,
        groups=layer.groups,
        kernel_initializer=keras.initializers.serialize(
            layer.kernel_initializer
        ),
    )


def conv_output_hw(layer, h, w):
    """PyTorch's output height and width (``None`` stays ``None``)."""
    out = []
    for size, k, s, p, d in zip(
        (h, w),
        layer.kernel_size,
        layer.strides,
        layer.padding,
        layer.dilation_rate,
    ):
        out.append(
            None if size is None else (size + 2 * p - d * (k - 1) - 1) // s + 1
        )
    return out


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
        set_conv_geometry(
            self, filters, kernel_size, strides, padding, dilation_rate, groups
        )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or kaiming_normal_fan_out()
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
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
        ho, wo = conv_output_hw(self, h, w)
        return (n, ho, wo, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            conv_geometry_config(self),
            use_bias=self.use_bias,
            bias_initializer=keras.initializers.serialize(
                self.bias_initializer
            ),
        )
        return config

"""Patch embedding of vision transformers (MMCV's ``PatchEmbed``)."""

import math

import keras
from keras import ops

from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv2d import _pair
from keraspose.models.utils.layer_norm import build_layer_norm
from keraspose.registry import register

_ADAPTIVE = ("corner", "same")


def torch_linear_initializers(fan_in):
    """PyTorch's default ``nn.Linear`` / ``nn.Conv2d`` initializers.

    ``kaiming_uniform_(a=sqrt(5))`` is U(+-1/sqrt(fan_in)) for the weight
    and the bias alike.

    Args:
        fan_in: input features (``in_channels * kh * kw`` for a conv).

    Returns:
        ``(kernel_initializer, bias_initializer)``.
    """
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return (
        keras.initializers.VarianceScaling(
            scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
        ),
        keras.initializers.RandomUniform(-bound, bound),
    )


@register
class PatchEmbed(keras.layers.Layer):
    """Splits images into patches and embeds them with a strided conv.

    Reference: Dosovitskiy et al., "An Image is Worth 16x16 Words:
    Transformers for Image Recognition at Scale", ICLR 2021. MMCV's
    ``PatchEmbed``: a ``Conv2d`` ``projection`` (PyTorch's default init)
    and an optional ``norm`` over the channels. A string ``padding``
    ("corner": bottom/right, or "same": centred) pads the input to
    whole patches before the conv (MMCV's ``AdaptivePadding``); an int
    pads every side like ``torch.nn.Conv2d`` (ViTPose uses ``padding=2``,
    which turns 256x192 images into a 16x12 grid of 16-pixel patches).

    The output is the channels-last grid of patch embeddings
    ``(N, h, w, embed_dims)``; MMCV returns the same values flattened to
    ``(N, h * w, embed_dims)`` together with ``(h, w)``.

    Args:
        in_channels: input channels.
        embed_dims: embedding size (conv filters).
        conv_type: only "Conv2d".
        kernel_size: patch size, int or pair.
        stride: conv stride (None: ``kernel_size``).
        padding: int / pair of conv padding, or "corner" / "same".
        dilation: conv dilation.
        bias: conv bias.
        norm_cfg: optional norm config (``dict(type="LN")``).
        input_size: an expected input size ``(H, W)``: sets
            ``init_input_size`` and ``init_out_size`` (the grid size), as
            MMCV; None leaves both None.
        init_cfg: accepted for MMCV compatibility (not stored).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> embed = PatchEmbed(embed_dims=8, kernel_size=16, stride=16,
    ...                    padding=2, input_size=(256, 192))
    >>> embed.init_out_size
    (16, 12)
    >>> embed(np.zeros((1, 256, 192, 3), "float32")).shape
    (1, 16, 12, 8)
    """

    def __init__(
        self,
        in_channels=3,
        embed_dims=768,
        conv_type="Conv2d",
        kernel_size=16,
        stride=16,
        padding="corner",
        dilation=1,
        bias=True,
        norm_cfg=None,
        input_size=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        conv_name = (
            conv_type.get("type")
            if isinstance(conv_type, dict)
            else (conv_type)
        )
        if conv_name != "Conv2d":
            raise ValueError(
                "PatchEmbed supports conv_type='Conv2d' only. "
                f"Received: conv_type={conv_type!r}"
            )
        if isinstance(padding, str) and padding not in _ADAPTIVE:
            raise ValueError(
                f"Expected padding to be an int, a pair or one of {_ADAPTIVE}."
                f" Received: padding={padding!r}"
            )
        self.in_channels = int(in_channels)
        self.embed_dims = int(embed_dims)
        self.conv_type = conv_type
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(kernel_size if stride is None else stride, "stride")
        self.padding = (
            padding if isinstance(padding, str) else (_pair(padding, "padding"))
        )
        self.dilation = _pair(dilation, "dilation")
        self.bias = bool(bias)
        self.norm_cfg = norm_cfg
        self.input_size = (
            None if not input_size else _pair(input_size, "input_size")
        )
        dt = self.dtype_policy
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        kernel_init, bias_init = torch_linear_initializers(fan_in)
        self.projection = Conv2d(
            self.embed_dims,
            self.kernel_size,
            strides=self.stride,
            padding=0 if isinstance(self.padding, str) else self.padding,
            dilation_rate=self.dilation,
            use_bias=self.bias,
            kernel_initializer=kernel_init,
            bias_initializer=bias_init,
            name="projection",
            dtype=dt,
        )
        self.norm = (
            None
            if norm_cfg is None
            else build_layer_norm(norm_cfg, name="norm", dtype=dt)
        )
        if self.input_size is None:
            self.init_input_size = None
            self.init_out_size = None
        else:
            self.init_input_size = self.input_size
            self.init_out_size = self.output_size(self.input_size)

    def _adaptive_pad(self, size):
        """MMCV's ``AdaptivePadding.get_pad_shape``: (pad_h, pad_w)."""
        pads = []
        for n, k, s, d in zip(
            size, self.kernel_size, self.stride, self.dilation
        ):
            out = math.ceil(n / s)
            pads.append(max((out - 1) * s + (k - 1) * d + 1 - n, 0))
        return tuple(pads)

    def output_size(self, input_size):
        """The patch grid ``(h, w)`` of an input of size ``(H, W)``."""
        size = tuple(int(n) for n in input_size)
        if isinstance(self.padding, str):
            size = tuple(n + p for n, p in zip(size, self._adaptive_pad(size)))
            padding = (0, 0)
        else:
            padding = self.padding
        return tuple(
            (n + 2 * p - d * (k - 1) - 1) // s + 1
            for n, p, d, k, s in zip(
                size, padding, self.dilation, self.kernel_size, self.stride
            )
        )

    def _padded_shape(self, input_shape):
        n, h, w, c = input_shape
        if not isinstance(self.padding, str) or h is None or w is None:
            return (n, h, w, c)
        pad_h, pad_w = self._adaptive_pad((h, w))
        return (n, h + pad_h, w + pad_w, c)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "PatchEmbed expects (N, H, W, C) images. "
                f"Received input shape {tuple(input_shape)}"
            )
        if input_shape[-1] is not None and input_shape[-1] != self.in_channels:
            raise ValueError(
                f"PatchEmbed expects {self.in_channels} input channels. "
                f"Received input shape {tuple(input_shape)}"
            )
        shape = self._padded_shape(tuple(input_shape))
        self.projection.build(shape)
        if self.norm is not None:
            self.norm.build(self.projection.compute_output_shape(shape))

    def call(self, x):
        if isinstance(self.padding, str):
            h, w = x.shape[1], x.shape[2]
            if h is None or w is None:
                raise ValueError(
                    f"PatchEmbed(padding={self.padding!r}) needs static "
                    f"image sizes. Received shape {tuple(x.shape)}"
                )
            pad_h, pad_w = self._adaptive_pad((h, w))
            if pad_h or pad_w:
                if self.padding == "corner":
                    top, left = 0, 0
                else:
                    top, left = pad_h // 2, pad_w // 2
                x = ops.pad(
                    x,
                    ((0, 0), (top, pad_h - top), (left, pad_w - left), (0, 0)),
                )
        x = self.projection(x)
        if self.norm is not None:
            x = self.norm(x)
        return x

    def compute_output_shape(self, input_shape):
        return self.projection.compute_output_shape(
            self._padded_shape(tuple(input_shape))
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            embed_dims=self.embed_dims,
            conv_type=self.conv_type,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            bias=self.bias,
            norm_cfg=self.norm_cfg,
            input_size=self.input_size,
        )
        return config

"""Temporal convolutional network of VideoPose3D (Pavllo et al., CVPR 2019).

Channels-last: sequences are (B, T, C) where PyTorch's ``Conv1d`` takes
(B, C, T). Layers carry MMPose's module paths (``expand_conv``,
``tcn_blocks_0_conv1_0``, ...) so MMPose checkpoints load by name.
"""

import math

import keras
from keras import ops

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.utils.norm import build_activation
from keraspose.models.utils.norm import build_norm_layer
from keraspose.models.utils.symbolic_build import build_by_symbolic_call
from keraspose.registry import register

_CONV1D_TYPES = ("Conv1d", "Conv")
_BN1D_TYPES = ("BN1d", "BN", "SyncBN", "BatchNorm1d", "BatchNorm")


def check_conv_cfg(conv_cfg, owner):
    """Raises unless ``conv_cfg`` asks for a plain 1D convolution."""
    kind = (conv_cfg or {"type": "Conv1d"}).get("type", "Conv1d")
    if kind not in _CONV1D_TYPES:
        raise ValueError(
            f"{owner} supports conv_cfg=dict(type='Conv1d') only. Received: "
            f"conv_cfg={conv_cfg!r}"
        )


def build_norm1d(norm_cfg, name, dtype):
    """A BatchNormalization over the last axis for MMPose's ``BN1d``."""
    cfg = dict(norm_cfg)
    if cfg.get("type", "BN1d") not in _BN1D_TYPES:
        raise ValueError(
            f"Expected a 1D batch norm config (type in {_BN1D_TYPES}). "
            f"Received: norm_cfg={norm_cfg!r}"
        )
    cfg["type"] = "SyncBN" if cfg.get("type") == "SyncBN" else "BN"
    return build_norm_layer(cfg, name, dtype)


class _MaxNormClip(keras.constraints.Constraint):
    """Scales a kernel down to a Frobenius norm of ``max_norm`` (after each
    optimizer update; the layer also clips before each forward pass)."""

    def __init__(self, max_norm):
        self.max_norm = float(max_norm)

    def __call__(self, w):
        return w * clip_factor(w, self.max_norm)

    def get_config(self):
        return {"max_norm": self.max_norm}


def clip_factor(w, max_norm):
    """``max_norm / (|w| + 1e-6)`` where ``|w| > max_norm``, else 1."""
    norm = ops.sqrt(ops.sum(ops.square(ops.cast(w, "float32"))))
    factor = ops.where(norm > max_norm, max_norm / (norm + 1e-6), 1.0)
    return ops.cast(factor, w.dtype)


class _Conv1d(keras.layers.Conv1D):
    """``keras.layers.Conv1D`` with PyTorch's default initialisation and
    MMPose's optional weight-norm clipping (``WeightNormClipHook``).

    PyTorch's ``Conv1d`` draws kernel and bias from U(+-1/sqrt(fan_in)).
    With ``max_norm`` the kernel used by each forward pass is scaled to a
    Frobenius norm of at most ``max_norm`` (MMPose clips the parameter in
    place before every forward pass), and a kernel constraint keeps the
    stored kernel clipped after each optimizer update.
    """

    def __init__(self, filters, kernel_size, max_norm=None, **kwargs):
        self.max_norm = max_norm
        if max_norm is not None:
            kwargs.setdefault("kernel_constraint", _MaxNormClip(max_norm))
        kwargs.setdefault(
            "kernel_initializer",
            keras.initializers.VarianceScaling(
                scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
            ),
        )
        super().__init__(
            filters,
            kernel_size,
            padding="valid",
            data_format="channels_last",
            **kwargs,
        )

    def build(self, input_shape):
        if self.use_bias:
            fan_in = int(input_shape[-1]) * int(self.kernel_size[0])
            bound = 1.0 / math.sqrt(fan_in)
            self.bias_initializer = keras.initializers.RandomUniform(
                -bound, bound
            )
        super().build(input_shape)

    def call(self, inputs):
        kernel = self.kernel
        if self.max_norm is not None:
            kernel = kernel * ops.stop_gradient(
                clip_factor(kernel, self.max_norm)
            )
        outputs = ops.conv(
            inputs,
            kernel,
            strides=list(self.strides),
            padding="valid",
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )
        if self.use_bias:
            outputs = outputs + ops.reshape(self.bias, (1, 1, self.filters))
        return outputs


def conv1d(filters, kernel_size, **kwargs):
    """A channels-last PyTorch ``Conv1d`` (no padding, PyTorch's default
    initialisation, optional ``max_norm`` clipping) as a Keras layer."""
    return _Conv1d(filters, kernel_size, **kwargs)


class _ConvModule1d(keras.layers.Layer):
    """Conv1d + BN1d + ReLU named ``conv`` / ``bn`` / ``activate`` (MMCV's
    ``ConvModule`` with ``bias='auto'``: no bias before a norm)."""

    def __init__(
        self,
        out_channels,
        kernel_size,
        stride,
        dilation,
        norm_cfg,
        max_norm,
        **kwargs,
    ):
        super().__init__(**kwargs)
        dt = self.dtype_policy
        self.conv = _Conv1d(
            out_channels,
            kernel_size,
            strides=stride,
            dilation_rate=dilation,
            use_bias=norm_cfg is None,
            max_norm=max_norm,
            name="conv",
            dtype=dt,
        )
        self.bn = (
            build_norm1d(norm_cfg, "bn", dt) if norm_cfg is not None else None
        )
        self.activate = build_activation(dict(type="ReLU"), "activate", dt)

    def build(self, input_shape):
        build_by_symbolic_call(self, input_shape)

    def call(self, x, training=None):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x, training=training)
        return self.activate(x)


#: Options that ``TCN`` passes on to its blocks (same names and config).
_BLOCK_OPTIONS = (
    "dropout",
    "causal",
    "residual",
    "use_stride_conv",
    "conv_cfg",
    "norm_cfg",
    "max_norm",
)


def _set_block_options(layer, **options):
    """Stores :data:`_BLOCK_OPTIONS` on ``layer`` and returns its dropout
    layer (None for rate 0)."""
    layer.dropout = float(options["dropout"])
    layer.causal = bool(options["causal"])
    layer.residual = bool(options["residual"])
    layer.use_stride_conv = bool(options["use_stride_conv"])
    layer.conv_cfg = options["conv_cfg"]
    layer.norm_cfg = options["norm_cfg"]
    layer.max_norm = options["max_norm"]
    if layer.dropout > 0:
        return keras.layers.Dropout(
            layer.dropout, name="dropout", dtype=layer.dtype_policy
        )
    return None


def _block_options_config(layer):
    return {key: getattr(layer, key) for key in _BLOCK_OPTIONS}


@register
class BasicTemporalBlock(keras.layers.Layer):
    """One residual block of VideoPose3D's TCN (MMPose's
    ``BasicTemporalBlock``).

    ``conv1`` is a dilated (or, with ``use_stride_conv``, strided) temporal
    convolution, ``conv2`` a 1x1 convolution, each with BN and ReLU, then
    dropout. The residual takes the input frames aligned with the output:
    ``x[:, pad + shift : T - pad + shift]`` where ``pad = (kernel_size - 1)
    * dilation // 2`` and, when causal, ``shift = kernel_size // 2 *
    dilation``; with ``use_stride_conv`` it is every ``kernel_size``-th frame
    from ``shift + kernel_size // 2`` (``shift = kernel_size // 2`` when
    causal) and the dilation is 1.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        mid_channels: output channels of ``conv1``.
        kernel_size: temporal kernel size of ``conv1``.
        dilation: dilation of ``conv1`` (ignored with ``use_stride_conv``).
        dropout: dropout rate (0 for none).
        causal: causal convolutions (the output frame is the last input
            frame of its window).
        residual: add the residual connection.
        use_stride_conv: strided instead of dilated convolutions (for
            inputs exactly one receptive field long).
        conv_cfg: ``dict(type="Conv1d")`` only.
        norm_cfg: 1D batch norm config (``BN1d``).
        max_norm: clip each convolution kernel to this Frobenius norm.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> block = BasicTemporalBlock(8, 8, mid_channels=8, kernel_size=3,
    ...                            dilation=3)
    >>> block(np.zeros((1, 27, 8), "float32")).shape
    (1, 21, 8)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        mid_channels=1024,
        kernel_size=3,
        dilation=3,
        dropout=0.25,
        causal=False,
        residual=True,
        use_stride_conv=False,
        conv_cfg=dict(type="Conv1d"),  # noqa: B006 (MMPose default)
        norm_cfg=dict(type="BN1d"),  # noqa: B006 (MMPose default)
        max_norm=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_conv_cfg(conv_cfg, type(self).__name__)
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.mid_channels = int(mid_channels)
        self.kernel_size = int(kernel_size)
        self.dilation = int(dilation)
        self.drop = _set_block_options(
            self,
            dropout=dropout,
            causal=causal,
            residual=residual,
            use_stride_conv=use_stride_conv,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            max_norm=max_norm,
        )
        ks = self.kernel_size
        self.pad = (ks - 1) * self.dilation // 2
        if self.use_stride_conv:
            self.stride, conv_dilation = ks, 1
            self.causal_shift = ks // 2 if self.causal else 0
        else:
            self.stride, conv_dilation = 1, self.dilation
            self.causal_shift = ks // 2 * self.dilation if self.causal else 0
        dt = self.dtype_policy
        self.conv1_0 = _ConvModule1d(
            self.mid_channels,
            ks,
            self.stride,
            conv_dilation,
            norm_cfg,
            max_norm,
            name="conv1_0",
            dtype=dt,
        )
        self.conv2_0 = _ConvModule1d(
            self.out_channels,
            1,
            1,
            1,
            norm_cfg,
            max_norm,
            name="conv2_0",
            dtype=dt,
        )
        self.short_cut = None
        if self.residual and self.in_channels != self.out_channels:
            self.short_cut = _Conv1d(
                self.out_channels,
                1,
                max_norm=max_norm,
                name="short_cut",
                dtype=dt,
            )

    def build(self, input_shape):
        build_by_symbolic_call(self, input_shape)

    def _check_length(self, length):
        if length is None:
            return
        if self.use_stride_conv:
            ok = self.causal_shift + self.kernel_size // 2 < length
        else:
            lo = self.pad + self.causal_shift
            ok = 0 <= lo < length - self.pad + self.causal_shift <= length
        if not ok:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} (kernel_size="
                f"{self.kernel_size}, dilation={self.dilation}, "
                f"use_stride_conv={self.use_stride_conv}) needs a longer "
                f"sequence. Received {length} frames."
            )

    def _residual(self, x):
        if self.use_stride_conv:
            start = self.causal_shift + self.kernel_size // 2
            return x[:, start :: self.kernel_size]
        start = self.pad + self.causal_shift
        end = self.causal_shift - self.pad  # offset from the end
        return x[:, start : (end if end < 0 else None)]

    def call(self, x, training=None):
        self._check_length(x.shape[1])
        out = self.conv1_0(x, training=training)
        if self.drop is not None:
            out = self.drop(out, training=training)
        out = self.conv2_0(out, training=training)
        if self.drop is not None:
            out = self.drop(out, training=training)
        if self.residual:
            res = self._residual(x)
            if self.short_cut is not None:
                res = self.short_cut(res)
            out = out + res
        return out

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            mid_channels=self.mid_channels,
            kernel_size=self.kernel_size,
            dilation=self.dilation,
            **_block_options_config(self),
        )
        return config


@register
class TCN(BaseBackbone):
    """Temporal convolutional network backbone of VideoPose3D.

    Reference: Pavllo et al., "3D human pose estimation in video with
    temporal convolutions and semi-supervised training", CVPR 2019
    (https://arxiv.org/abs/1811.11742). Arguments and defaults follow
    MMPose's ``TCN``.

    Input is a channels-last sequence (B, T, in_channels), where MMPose
    takes (B, in_channels, T); ``PoseLifter`` flattens its (B, T, K, C)
    keypoints to (B, T, K * C), the channel order of MMPose's reshaped
    keypoint labels. ``expand_conv`` (kernel ``kernel_sizes[0]``, strided
    with ``use_stride_conv``) is followed by dropout and ``num_blocks``
    :class:`BasicTemporalBlock` s whose dilations are the running product
    of the kernel sizes. The output is the tuple of every block's output
    (B, T_i, stem_channels); a receptive field of ``prod(kernel_sizes)``
    frames gives T_last = 1 (e.g. 243 frames with ``(3, 3, 3, 3, 3)``).

    As in MMPose, ``init_cfg``'s Kaiming entry only covers ``Conv2d`` (so
    the 1D convolutions keep PyTorch's default initialisation), and
    ``max_norm`` clips every convolution kernel to that Frobenius norm
    before each forward pass (here: in the forward pass, and after each
    optimizer update through a kernel constraint).

    Args:
        in_channels: input channels (num_keypoints * keypoint dims).
        stem_channels: feature channels.
        num_blocks: number of temporal blocks; must equal
            ``len(kernel_sizes) - 1``.
        kernel_sizes: odd kernel sizes of ``expand_conv`` and each block.
        dropout: dropout rate.
        causal: causal convolutions (for real-time use).
        residual: residual connections in the blocks.
        use_stride_conv: strided convolutions for inputs exactly one
            receptive field long (weights interchangeable with the dilated
            model).
        conv_cfg: ``dict(type="Conv1d")`` only.
        norm_cfg: 1D batch norm config (``BN1d``).
        max_norm: optional maximum kernel norm.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> tcn = TCN(in_channels=34, stem_channels=16)
    >>> [tuple(o.shape) for o in tcn(np.zeros((1, 243, 34), "float32"))]
    [(1, 235, 16), (1, 217, 16)]
    """

    def __init__(
        self,
        in_channels,
        stem_channels=1024,
        num_blocks=2,
        kernel_sizes=(3, 3, 3),
        dropout=0.25,
        causal=False,
        residual=True,
        use_stride_conv=False,
        conv_cfg=dict(type="Conv1d"),  # noqa: B006 (MMPose default)
        norm_cfg=dict(type="BN1d"),  # noqa: B006 (MMPose default)
        max_norm=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(init_cfg=init_cfg, **kwargs)
        owner = type(self).__name__
        check_conv_cfg(conv_cfg, owner)
        kernel_sizes = tuple(int(k) for k in kernel_sizes)
        if num_blocks != len(kernel_sizes) - 1:
            raise ValueError(
                f"{owner} needs len(kernel_sizes) == num_blocks + 1. "
                f"Received: num_blocks={num_blocks}, "
                f"kernel_sizes={kernel_sizes}"
            )
        if any(k % 2 != 1 for k in kernel_sizes):
            raise ValueError(
                f"{owner} supports odd kernel sizes only. Received: "
                f"kernel_sizes={kernel_sizes}"
            )
        if max_norm is not None and not max_norm > 0:
            raise ValueError(
                f"{owner} expects max_norm > 0 or None. Received: "
                f"max_norm={max_norm!r}"
            )
        self.in_channels = int(in_channels)
        self.stem_channels = int(stem_channels)
        self.num_blocks = int(num_blocks)
        self.kernel_sizes = kernel_sizes
        self.drop = _set_block_options(
            self,
            dropout=dropout,
            causal=causal,
            residual=residual,
            use_stride_conv=use_stride_conv,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            max_norm=max_norm,
        )
        dt = self.dtype_policy
        k0 = kernel_sizes[0]
        self.expand_conv = _ConvModule1d(
            self.stem_channels,
            k0,
            k0 if self.use_stride_conv else 1,
            1,
            norm_cfg,
            max_norm,
            name="expand_conv",
            dtype=dt,
        )
        self.tcn_blocks = []
        dilation = k0
        for i in range(1, self.num_blocks + 1):
            self.tcn_blocks.append(
                BasicTemporalBlock(
                    in_channels=self.stem_channels,
                    out_channels=self.stem_channels,
                    mid_channels=self.stem_channels,
                    kernel_size=kernel_sizes[i],
                    dilation=dilation,
                    **_block_options_config(self),
                    name=f"tcn_blocks_{i - 1}",
                    dtype=dt,
                )
            )
            dilation *= kernel_sizes[i]

    @property
    def receptive_field(self):
        """Frames seen by one output frame: the product of kernel sizes."""
        return math.prod(self.kernel_sizes)

    def call(self, x, training=None):
        if len(x.shape) != 3 or (
            x.shape[-1] is not None and x.shape[-1] != self.in_channels
        ):
            raise ValueError(
                f"{type(self).__name__} expects sequences of shape (B, T, "
                f"{self.in_channels}). Received shape {tuple(x.shape)}"
            )
        x = self.expand_conv(x, training=training)
        if self.drop is not None:
            x = self.drop(x, training=training)
        outs = []
        for block in self.tcn_blocks:
            x = block(x, training=training)
            outs.append(x)
        return tuple(outs)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            stem_channels=self.stem_channels,
            num_blocks=self.num_blocks,
            kernel_sizes=list(self.kernel_sizes),
            **_block_options_config(self),
        )
        return config

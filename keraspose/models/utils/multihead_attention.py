"""Multi-head self-attention of vision transformers (mmpretrain's)."""

import keras
from keras import ops

from keraspose.models.utils.drop_path import drop_path
from keraspose.models.utils.drop_path import parse_dropout_layer
from keraspose.models.utils.layer_scale import LayerScale
from keraspose.models.utils.patch_embed import torch_linear_initializers
from keraspose.registry import register


@register
class MultiheadAttention(keras.layers.Layer):
    """Multi-head self-attention on tokens ``(N, L, C)``.

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017;
    as in Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021.
    mmpretrain's ``MultiheadAttention``: one ``qkv`` projection (its output
    is read as ``(3, num_heads, head_dims)``, PyTorch's layout), softmax
    attention with scale ``head_dims ** -0.5``, the ``proj`` projection,
    ``proj_drop`` dropout, an optional layer scale ``gamma1`` and the
    ``dropout_layer`` (MMCV's ``Dropout`` or ``DropPath``) applied before the
    caller adds the shortcut. Linear layers start with PyTorch's default
    init. Without attention dropout in training the attention runs as
    ``keras.ops.dot_product_attention`` (fused kernels where the backend
    has them).

    mmpretrain quirks kept: a given ``qk_scale`` is ignored (the scale stays
    ``head_dims ** -0.5``); ``v_shortcut`` adds the values of the single
    head (``num_heads`` must be 1).

    Args:
        embed_dims: token size after the projections.
        num_heads: attention heads.
        input_dims: input token size (None: ``embed_dims``).
        attn_drop: dropout rate of the attention weights (training only).
        proj_drop: dropout rate after ``proj``.
        dropout_layer: MMCV dropout config applied to the output.
        qkv_bias: bias of ``qkv``.
        qk_scale: accepted, no effect (mmpretrain's behaviour).
        proj_bias: bias of ``proj``.
        v_shortcut: add the values to the output.
        use_layer_scale: deprecated switch of the layer scale (init 1e-5
            unless ``layer_scale_init_value`` is set).
        layer_scale_init_value: > 0 adds ``gamma1`` with this init value.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> attn = MultiheadAttention(embed_dims=16, num_heads=2)
    >>> attn(np.zeros((2, 5, 16), "float32")).shape
    (2, 5, 16)
    """

    def __init__(
        self,
        embed_dims,
        num_heads,
        input_dims=None,
        attn_drop=0.0,
        proj_drop=0.0,
        dropout_layer=dict(type="Dropout", drop_prob=0.0),  # noqa: B006
        qkv_bias=True,
        qk_scale=None,
        proj_bias=True,
        v_shortcut=False,
        use_layer_scale=False,
        layer_scale_init_value=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.embed_dims = int(embed_dims)
        self.num_heads = int(num_heads)
        self.input_dims = int(input_dims or embed_dims)
        if self.num_heads < 1 or self.embed_dims % self.num_heads:
            raise ValueError(
                "Expected embed_dims to be a multiple of num_heads >= 1. "
                f"Received: embed_dims={embed_dims}, num_heads={num_heads}"
            )
        if v_shortcut and self.num_heads != 1:
            raise ValueError(
                "v_shortcut adds the values of a single head: expected "
                f"num_heads=1. Received: num_heads={num_heads}"
            )
        self.head_dims = self.embed_dims // self.num_heads
        self.attn_drop = float(attn_drop)
        self.proj_drop = float(proj_drop)
        self.dropout_layer = dropout_layer
        self._out_drop_type, self._out_drop_rate = parse_dropout_layer(
            dropout_layer
        )
        self.qkv_bias = bool(qkv_bias)
        self.qk_scale = qk_scale
        self.proj_bias = bool(proj_bias)
        self.v_shortcut = bool(v_shortcut)
        self.use_layer_scale = bool(use_layer_scale)
        self.layer_scale_init_value = float(layer_scale_init_value)
        dt = self.dtype_policy

        def linear(units, fan_in, use_bias, name):
            kernel_init, bias_init = torch_linear_initializers(fan_in)
            return keras.layers.Dense(
                units,
                use_bias=use_bias,
                kernel_initializer=kernel_init,
                bias_initializer=bias_init,
                name=name,
                dtype=dt,
            )

        self.qkv = linear(
            3 * self.embed_dims, self.input_dims, self.qkv_bias, "qkv"
        )
        self.proj = linear(
            self.embed_dims, self.embed_dims, self.proj_bias, "proj"
        )
        self.attn_dropout = keras.layers.Dropout(
            self.attn_drop, name="attn_drop", dtype=dt
        )
        self.proj_dropout = keras.layers.Dropout(
            self.proj_drop, name="proj_drop", dtype=dt
        )
        self.out_drop = (
            keras.layers.Dropout(self._out_drop_rate, name="out_drop", dtype=dt)
            if self._out_drop_type == "Dropout"
            else None
        )
        self.seed_generator = (
            keras.random.SeedGenerator()
            if self._out_drop_type == "DropPath" and self._out_drop_rate > 0
            else None
        )
        self.gamma1 = None
        if self.use_layer_scale or self.layer_scale_init_value > 0:
            self.gamma1 = LayerScale(
                self.embed_dims,
                layer_scale_init_value=self.layer_scale_init_value or 1e-5,
                name="gamma1",
                dtype=dt,
            )

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if input_shape[-1] is not None and input_shape[-1] != self.input_dims:
            raise ValueError(
                f"MultiheadAttention expects tokens of size {self.input_dims}"
                f". Received input shape {input_shape}"
            )
        self.qkv.build(input_shape)
        out_shape = (*input_shape[:-1], self.embed_dims)
        self.proj.build(out_shape)
        if self.gamma1 is not None:
            self.gamma1.build(out_shape)

    def _attention(self, q, k, v, training):
        """Softmax attention on (B, L, heads, head_dims) tensors."""
        scale = self.head_dims**-0.5
        if not (training and self.attn_drop > 0):
            return ops.dot_product_attention(q, k, v, scale=scale)
        scores = ops.einsum("bqhd,bkhd->bhqk", q * scale, k)
        weights = self.attn_dropout(ops.softmax(scores), training=training)
        return ops.einsum("bhqk,bkhd->bqhd", weights, v)

    def call(self, x, training=None):
        length = x.shape[1] if x.shape[1] is not None else ops.shape(x)[1]
        qkv = ops.reshape(
            self.qkv(x), (-1, length, 3, self.num_heads, self.head_dims)
        )
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        out = self._attention(q, k, v, training)
        out = ops.reshape(out, (-1, length, self.embed_dims))
        out = self.proj_dropout(self.proj(out), training=training)
        if self.gamma1 is not None:
            out = self.gamma1(out)
        if self.out_drop is not None:
            out = self.out_drop(out, training=training)
        else:
            out = drop_path(
                out, self._out_drop_rate, self.seed_generator, training
            )
        if self.v_shortcut:
            out = ops.reshape(v, (-1, length, self.head_dims)) + out
        return out

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.embed_dims)

    def get_config(self):
        config = super().get_config()
        config.update(
            embed_dims=self.embed_dims,
            num_heads=self.num_heads,
            input_dims=self.input_dims,
            attn_drop=self.attn_drop,
            proj_drop=self.proj_drop,
            dropout_layer=self.dropout_layer,
            qkv_bias=self.qkv_bias,
            qk_scale=self.qk_scale,
            proj_bias=self.proj_bias,
            v_shortcut=self.v_shortcut,
            use_layer_scale=self.use_layer_scale,
            layer_scale_init_value=self.layer_scale_init_value,
        )
        return config

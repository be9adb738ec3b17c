"""Pre-norm transformer encoder layer of ViT (mmpretrain's)."""

import keras

from keraspose.models.utils.ffn import FFN
from keraspose.models.utils.layer_norm import build_layer_norm
from keraspose.models.utils.multihead_attention import MultiheadAttention
from keraspose.registry import register


@register
class TransformerEncoderLayer(keras.layers.Layer):
    """One encoder layer of a Vision Transformer on tokens ``(N, L, C)``.

    Reference: Dosovitskiy et al., "An Image is Worth 16x16 Words:
    Transformers for Image Recognition at Scale", ICLR 2021. mmpretrain's
    ``TransformerEncoderLayer`` (pre-norm):
    ``x = x + attn(ln1(x))`` then ``x = x + ffn(ln2(x))``, where ``attn``
    is :class:`MultiheadAttention` and ``ffn`` MMCV's :class:`FFN` (GELU);
    both end with stochastic depth ``drop_path_rate`` and dropout
    ``drop_rate``, and with layer scales ``gamma1`` / ``gamma2`` when
    ``layer_scale_init_value > 0``. The FFN's linear layers start as
    mmpretrain's ``init_weights`` leaves them (Xavier uniform, biases
    N(0, 1e-6)); the attention keeps PyTorch's default init.

    Args:
        embed_dims: token size.
        num_heads: attention heads.
        feedforward_channels: FFN hidden size.
        layer_scale_init_value: > 0 adds the layer scales.
        drop_rate: dropout after the attention / FFN projections.
        attn_drop_rate: dropout of the attention weights.
        drop_path_rate: stochastic depth of both branches.
        num_fcs: FFN linear layers.
        qkv_bias: bias of the ``qkv`` projection.
        ffn_type: "origin" (mmpretrain's "swiglu_fused" is not supported).
        act_cfg: FFN activation config.
        norm_cfg: norm config of ``ln1`` / ``ln2`` (``LN``; eps 1e-5 by
            default, mmpretrain's ViT passes 1e-6).
        init_cfg: accepted for MMPose compatibility (not stored).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> layer = TransformerEncoderLayer(16, 2, 64)
    >>> layer(np.zeros((2, 5, 16), "float32")).shape
    (2, 5, 16)
    """

    def __init__(
        self,
        embed_dims,
        num_heads,
        feedforward_channels,
        layer_scale_init_value=0.0,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.0,
        num_fcs=2,
        qkv_bias=True,
        ffn_type="origin",
        act_cfg=dict(type="GELU"),  # noqa: B006
        norm_cfg=dict(type="LN"),  # noqa: B006 (mmpretrain defaults)
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if ffn_type != "origin":
            raise ValueError(
                "TransformerEncoderLayer supports ffn_type='origin' only. "
                f"Received: ffn_type={ffn_type!r}"
            )
        self.embed_dims = int(embed_dims)
        self.num_heads = int(num_heads)
        self.feedforward_channels = int(feedforward_channels)
        self.layer_scale_init_value = float(layer_scale_init_value)
        self.drop_rate = float(drop_rate)
        self.attn_drop_rate = float(attn_drop_rate)
        self.drop_path_rate = float(drop_path_rate)
        self.num_fcs = num_fcs
        self.qkv_bias = bool(qkv_bias)
        self.ffn_type = ffn_type
        self.act_cfg = act_cfg
        self.norm_cfg = norm_cfg
        dt = self.dtype_policy
        drop_path = dict(type="DropPath", drop_prob=self.drop_path_rate)
        self.ln1 = build_layer_norm(norm_cfg, name="ln1", dtype=dt)
        self.attn = MultiheadAttention(
            embed_dims=self.embed_dims,
            num_heads=self.num_heads,
            attn_drop=self.attn_drop_rate,
            proj_drop=self.drop_rate,
            dropout_layer=drop_path,
            qkv_bias=self.qkv_bias,
            layer_scale_init_value=self.layer_scale_init_value,
            name="attn",
            dtype=dt,
        )
        self.ln2 = build_layer_norm(norm_cfg, name="ln2", dtype=dt)
        self.ffn = FFN(
            embed_dims=self.embed_dims,
            feedforward_channels=self.feedforward_channels,
            num_fcs=num_fcs,
            ffn_drop=self.drop_rate,
            dropout_layer=drop_path,
            act_cfg=act_cfg,
            layer_scale_init_value=self.layer_scale_init_value,
            name="ffn",
            dtype=dt,
        )
        for layer in self.ffn.linears:
            layer.kernel_initializer = keras.initializers.GlorotUniform()
            layer.bias_initializer = keras.initializers.RandomNormal(
                stddev=1e-6
            )

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in (self.ln1, self.attn, self.ln2, self.ffn):
            layer.build(shape)

    def call(self, x, training=None):
        x = x + self.attn(self.ln1(x), training=training)
        return self.ffn(self.ln2(x), identity=x, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            embed_dims=self.embed_dims,
            num_heads=self.num_heads,
            feedforward_channels=self.feedforward_channels,
            layer_scale_init_value=self.layer_scale_init_value,
            drop_rate=self.drop_rate,
            attn_drop_rate=self.attn_drop_rate,
            drop_path_rate=self.drop_path_rate,
            num_fcs=self.num_fcs,
            qkv_bias=self.qkv_bias,
            ffn_type=self.ffn_type,
            act_cfg=self.act_cfg,
            norm_cfg=self.norm_cfg,
        )
        return config

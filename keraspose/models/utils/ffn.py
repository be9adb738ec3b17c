"""Feed-forward network of transformer layers (MMCV's ``FFN``)."""

import keras

from keraspose.models.utils.drop_path import drop_path
from keraspose.models.utils.drop_path import parse_dropout_layer
from keraspose.models.utils.layer_scale import LayerScale
from keraspose.models.utils.norm import build_activation
from keraspose.models.utils.patch_embed import torch_linear_initializers
from keraspose.registry import register


@register
class FFN(keras.layers.Layer):
    """Feed-forward network with an identity connection.

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017.
    MMCV's ``FFN``: ``num_fcs - 1`` blocks ``Linear -> activation ->
    Dropout`` (``layers_{i}_0``, ``layers_{i}_1``, ``layers_{i}_2``), then
    ``Linear`` back to ``embed_dims`` (``layers_{num_fcs - 1}``) and
    ``Dropout`` (``layers_{num_fcs}``), an optional layer scale
    ``gamma2``, the ``dropout_layer`` (MMCV's ``Dropout`` / ``DropPath``)
    and, with ``add_identity``, the shortcut ``identity + out`` (``identity``
    defaults to the input). Layer names are MMCV's module paths, so
    checkpoints map one-to-one; linear layers start with PyTorch's default
    init.

    Args:
        embed_dims: token size.
        feedforward_channels: hidden size.
        num_fcs: number of linear layers (>= 2).
        act_cfg: MMCV activation config (``ReLU`` by default, as MMCV).
        ffn_drop: dropout rate after the activations and the last linear.
        dropout_layer: MMCV dropout config before the shortcut, or None.
        add_identity: add the shortcut.
        init_cfg: accepted for MMCV compatibility (not stored).
        layer_scale_init_value: > 0 adds ``gamma2`` with this init value.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> ffn = FFN(embed_dims=8, feedforward_channels=32)
    >>> ffn(np.zeros((2, 5, 8), "float32")).shape
    (2, 5, 8)
    """

    def __init__(
        self,
        embed_dims=256,
        feedforward_channels=1024,
        num_fcs=2,
        act_cfg=dict(type="ReLU", inplace=True),  # noqa: B006 (MMCV's)
        ffn_drop=0.0,
        dropout_layer=None,
        add_identity=True,
        init_cfg=None,
        layer_scale_init_value=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(num_fcs, int) or num_fcs < 2:
            raise ValueError(
                f"Expected num_fcs to be an int >= 2. Received: {num_fcs!r}"
            )
        self.embed_dims = int(embed_dims)
        self.feedforward_channels = int(feedforward_channels)
        self.num_fcs = num_fcs
        self.act_cfg = act_cfg
        self.ffn_drop = float(ffn_drop)
        self.dropout_layer = dropout_layer
        self._drop_type, self._drop_rate = parse_dropout_layer(dropout_layer)
        self.add_identity = bool(add_identity)
        self.layer_scale_init_value = float(layer_scale_init_value)
        dt = self.dtype_policy

        def linear(units, fan_in, name):
            kernel_init, bias_init = torch_linear_initializers(fan_in)
            return keras.layers.Dense(
                units,
                kernel_initializer=kernel_init,
                bias_initializer=bias_init,
                name=name,
                dtype=dt,
            )

        self.blocks = []
        in_channels = self.embed_dims
        for i in range(num_fcs - 1):
            self.blocks.append(
                [
                    linear(
                        self.feedforward_channels,
                        in_channels,
                        f"layers_{i}_0",
                    ),
                    build_activation(act_cfg, f"layers_{i}_1", dtype=dt),
                    keras.layers.Dropout(
                        self.ffn_drop, name=f"layers_{i}_2", dtype=dt
                    ),
                ]
            )
            in_channels = self.feedforward_channels
        self.fc_out = linear(
            self.embed_dims, in_channels, f"layers_{num_fcs - 1}"
        )
        self.drop_out = keras.layers.Dropout(
            self.ffn_drop, name=f"layers_{num_fcs}", dtype=dt
        )
        self.gamma2 = (
            LayerScale(
                self.embed_dims,
                layer_scale_init_value=self.layer_scale_init_value,
                name="gamma2",
                dtype=dt,
            )
            if self.layer_scale_init_value > 0
            else None
        )
        self.out_drop = (
            keras.layers.Dropout(
                self._drop_rate, name="dropout_layer", dtype=dt
            )
            if self._drop_type == "Dropout" and self._drop_rate > 0
            else None
        )
        self.seed_generator = (
            keras.random.SeedGenerator()
            if self._drop_type == "DropPath" and self._drop_rate > 0
            else None
        )

    @property
    def linears(self):
        """The linear layers in order (for initializer overrides)."""
        return [block[0] for block in self.blocks] + [self.fc_out]

    def build(self, input_shape):
        shape = tuple(input_shape)
        if shape[-1] is not None and shape[-1] != self.embed_dims:
            raise ValueError(
                f"FFN expects tokens of size {self.embed_dims}. "
                f"Received input shape {shape}"
            )
        for layer in self.linears:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        if self.gamma2 is not None:
            self.gamma2.build(shape)

    def call(self, x, identity=None, training=None):
        out = x
        for fc, act, drop in self.blocks:
            out = drop(act(fc(out)), training=training)
        out = self.drop_out(self.fc_out(out), training=training)
        if self.gamma2 is not None:
            out = self.gamma2(out)
        if self.out_drop is not None:
            out = self.out_drop(out, training=training)
        elif self.seed_generator is not None:
            out = drop_path(out, self._drop_rate, self.seed_generator, training)
        if not self.add_identity:
            return out
        return (x if identity is None else identity) + out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            embed_dims=self.embed_dims,
            feedforward_channels=self.feedforward_channels,
            num_fcs=self.num_fcs,
            act_cfg=self.act_cfg,
            ffn_drop=self.ffn_drop,
            dropout_layer=self.dropout_layer,
            add_identity=self.add_identity,
            layer_scale_init_value=self.layer_scale_init_value,
        )
        return config

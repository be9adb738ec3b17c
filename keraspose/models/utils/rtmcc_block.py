"""RTMPose's Gated Attention Unit (``RTMCCBlock``), ``Scale`` and ``rope``."""

import math

import keras
import numpy as np
from keras import ops

from keraspose.models.utils.drop_path import drop_path
from keraspose.models.utils.scale_norm import ScaleNorm
from keraspose.registry import register

_ACTIVATIONS = ("SiLU", "ReLU")
_ATTN_TYPES = ("self-attn", "cross-attn")


def _rope_tables(positions, half_size):
    """sin / cos of ``position * 10000 ** (i / half)`` as float32 tables.

    MMPose builds its frequencies as ``10000 ** -(-i / half)`` (sic: they
    grow with ``i``) in float32; the product is rounded to float32 like
    PyTorch's and the sine / cosine are taken in float64 on the host, so the
    tables equal PyTorch's to one float32 ulp.
    """
    freq_seq = -np.arange(half_size, dtype=np.float32) / np.float32(half_size)
    inv_freq = np.float32(10000.0 ** (-freq_seq.astype(np.float64)))
    sinusoid = positions.astype(np.float32)[..., None] * inv_freq
    sinusoid = sinusoid.astype(np.float32).astype(np.float64)
    return np.sin(sinusoid).astype(np.float32), np.cos(sinusoid).astype(
        np.float32
    )


def rope(x, dim):
    """Rotary position embedding along static axes, as MMPose's ``rope``.

    Reference: Su et al., "RoFormer: Enhanced Transformer with Rotary
    Position Embedding", 2021.

    The positions number the elements of the axes ``dim`` in row-major
    order; the last axis (even size) is split into halves ``x1, x2`` that are
    rotated to ``[x1 cos - x2 sin, x2 cos + x1 sin]``. The axes in ``dim``
    and the last axis must have static sizes. The tables follow MMPose
    exactly, including its broadcasting (with ``dim=0`` on a 2-D input the
    result gains a leading axis of size 1).

    Args:
        x: input tensor.
        dim: int or list of ints, the position axes.

    Returns:
        The rotated tensor.

    Example:

    >>> import numpy as np
    >>> rope(np.ones((1, 3, 4), "float32"), dim=1).shape
    (1, 3, 4)
    """
    x = ops.convert_to_tensor(x)
    shape = tuple(x.shape)
    dims = [dim] if isinstance(dim, int) else list(dim)
    spatial = [shape[i] for i in dims]
    if any(s is None for s in spatial) or shape[-1] is None:
        raise ValueError(
            "rope needs static sizes on the position axes and the last "
            f"axis. Received shape {shape} with dim={dim!r}"
        )
    if shape[-1] % 2:
        raise ValueError(
            "rope needs an even last axis (it is split in halves). "
            f"Received shape {shape}"
        )
    positions = np.arange(int(np.prod(spatial))).reshape(spatial)
    for _ in range(dims[-1] + 1, len(shape) - 1):
        positions = positions[..., None]
    half = shape[-1] // 2
    sin, cos = _rope_tables(positions, half)
    # MMPose broadcasts position[..., None] against inv_freq[None, None, :].
    sin = sin.reshape((1,) * max(0, 3 - sin.ndim) + sin.shape)
    cos = cos.reshape(sin.shape)
    sin = ops.cast(ops.convert_to_tensor(sin), x.dtype)
    cos = ops.cast(ops.convert_to_tensor(cos), x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return ops.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


def _torch_linear_init():
    """PyTorch's default ``nn.Linear`` weight init (U(+-1/sqrt(fan_in)))."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
    )


def _torch_linear_bias_init(fan_in):
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return keras.initializers.RandomUniform(-bound, bound)


@register
class Scale(keras.layers.Layer):
    """Multiplies the last axis by a learned vector (MMPose's ``Scale``).

    Args:
        dim: size of the last axis.
        init_value: initial value of every entry.
        trainable: whether the vector is trained (MMPose's ``trainable``).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> Scale(3, init_value=2.0)(np.ones((1, 3), "float32")).shape
    (1, 3)
    """

    def __init__(self, dim, init_value=1.0, trainable=True, **kwargs):
        super().__init__(trainable=trainable, **kwargs)
        self.dim = int(dim)
        self.init_value = float(init_value)

    def build(self, input_shape):
        self.scale = self.add_weight(
            name="scale",
            shape=(self.dim,),
            initializer=keras.initializers.Constant(self.init_value),
        )

    def call(self, x):
        return x * ops.cast(self.scale, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(dim=self.dim, init_value=self.init_value)
        return config


@register
class RTMCCBlock(keras.layers.Layer):
    """Gated Attention Unit of RTMPose's head (MMPose's ``RTMCCBlock``).

    References: Hua et al., "Transformer Quality in Linear Time" (GAU),
    ICML 2022; Jiang et al., "RTMPose: Real-Time Multi-Person Pose
    Estimation based on MMPose", 2023.

    On tokens ``x`` (B, N, in_token_dims): ``ScaleNorm``, a linear layer
    ``uv`` and the activation give ``u``, ``v`` (expansion ``e =
    in_token_dims * expansion_factor``) and a shared base of size ``s``;
    ``q, k = base * gamma + beta`` (optionally rotated with :func:`rope`);
    the attention is ``relu(q k^T / sqrt(s)) ** 2`` (plus a relative
    position bias ``w[j - i + N - 1]`` with ``use_rel_bias``), and the
    output is ``o(u * (attention @ v))``. With ``attn_type="cross-attn"``
    the input is ``(x, k, v)``: ``uv`` gives ``u`` and ``q``, and ``k_fc``
    / ``v_fc`` project the given keys and values (the relative bias then
    comes from the rotated vectors ``a`` and ``b``). When ``in_token_dims ==
    out_token_dims`` a residual ``res_scale(x)`` is added (``drop_path``
    applies to the attention branch). Weights are named like MMPose's
    parameters: ``uv``, ``o``, ``ln`` (its ``g``), ``gamma``, ``beta``,
    ``w`` (or ``a``, ``b``), ``k_fc``, ``v_fc``, ``res_scale``.

    Args:
        num_token: number of tokens N (sizes ``w``: 2 N - 1).
        in_token_dims: input token size.
        out_token_dims: output token size.
        expansion_factor: ``e = in_token_dims * expansion_factor``.
        s: size of the shared query/key base.
        eps: ``ScaleNorm`` epsilon.
        dropout_rate: dropout on the attention matrix.
        drop_path: stochastic depth rate of the attention branch.
        attn_type: "self-attn" or "cross-attn".
        act_fn: "SiLU" or "ReLU".
        bias: whether the linear layers have biases.
        use_rel_bias: add the learned relative position bias.
        pos_enc: rotate queries and keys with :func:`rope`.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np
    >>> gau = RTMCCBlock(num_token=17, in_token_dims=32, out_token_dims=32,
    ...                  s=16)
    >>> gau(np.zeros((2, 17, 32), "float32")).shape
    (2, 17, 32)
    """

    def __init__(
        self,
        num_token,
        in_token_dims,
        out_token_dims,
        expansion_factor=2,
        s=128,
        eps=1e-5,
        dropout_rate=0.0,
        drop_path=0.0,
        attn_type="self-attn",
        act_fn="SiLU",
        bias=False,
        use_rel_bias=True,
        pos_enc=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if attn_type not in _ATTN_TYPES:
            raise ValueError(
                f"Expected attn_type in {_ATTN_TYPES}. Received: "
                f"attn_type={attn_type!r}"
            )
        if act_fn not in _ACTIVATIONS:
            raise ValueError(
                f"Expected act_fn in {_ACTIVATIONS}. Received: "
                f"act_fn={act_fn!r}"
            )
        for name, value in (
            ("num_token", num_token),
            ("in_token_dims", in_token_dims),
            ("out_token_dims", out_token_dims),
            ("s", s),
        ):
            if int(value) <= 0:
                raise ValueError(
                    f"Expected {name} > 0. Received: {name}={value!r}"
                )
        if not 0.0 <= float(dropout_rate) < 1.0:
            raise ValueError(
                "Expected dropout_rate in [0, 1). Received: "
                f"dropout_rate={dropout_rate!r}"
            )
        if not 0.0 <= float(drop_path) < 1.0:
            raise ValueError(
                "Expected drop_path in [0, 1). Received: "
                f"drop_path={drop_path!r}"
            )
        uses_rope = pos_enc or (use_rel_bias and attn_type == "cross-attn")
        if uses_rope and int(s) % 2:
            raise ValueError(
                "Rotary embeddings (pos_enc, or the cross-attention relative "
                f"bias) need an even s. Received: s={s!r}"
            )
        self.num_token = int(num_token)
        self.in_token_dims = int(in_token_dims)
        self.out_token_dims = int(out_token_dims)
        self.expansion_factor = expansion_factor
        self.s = int(s)
        self.eps = float(eps)
        self.dropout_rate = float(dropout_rate)
        self.drop_path_rate = float(drop_path)
        self.attn_type = attn_type
        self.act_fn = act_fn
        self.bias = bool(bias)
        self.use_rel_bias = bool(use_rel_bias)
        self.pos_enc = bool(pos_enc)
        self.e = int(self.in_token_dims * expansion_factor)
        self.sqrt_s = math.sqrt(self.s)
        self.shortcut = self.in_token_dims == self.out_token_dims

        dt = self.dtype_policy
        fan_in = self.in_token_dims

        def linear(units, name, kernel_init, in_dims):
            return keras.layers.Dense(
                units,
                use_bias=self.bias,
                kernel_initializer=kernel_init,
                bias_initializer=_torch_linear_bias_init(in_dims),
                name=name,
                dtype=dt,
            )

        self_attn = attn_type == "self-attn"
        uv_units = 2 * self.e + self.s if self_attn else self.e + self.s
        self.uv = linear(uv_units, "uv", "glorot_uniform", fan_in)
        self.o = linear(self.out_token_dims, "o", _torch_linear_init(), self.e)
        if not self_attn:
            self.k_fc = linear(self.s, "k_fc", "glorot_uniform", fan_in)
            self.v_fc = linear(self.e, "v_fc", "glorot_uniform", fan_in)
        self.ln = ScaleNorm(
            self.in_token_dims, eps=self.eps, name="ln", dtype=dt
        )
        if self.shortcut:
            self.res_scale = Scale(
                self.in_token_dims, name="res_scale", dtype=dt
            )
        self.dropout = (
            keras.layers.Dropout(self.dropout_rate, name="dropout", dtype=dt)
            if self.dropout_rate > 0
            else None
        )
        self.seed_generator = (
            keras.random.SeedGenerator() if self.drop_path_rate > 0 else None
        )

    def build(self, input_shape):
        uniform = keras.initializers.RandomUniform(0.0, 1.0)
        if self.use_rel_bias:
            if self.attn_type == "self-attn":
                self.w = self.add_weight(
                    name="w",
                    shape=(2 * self.num_token - 1,),
                    initializer=uniform,
                )
            else:
                self.a = self.add_weight(
                    name="a", shape=(1, self.s), initializer=uniform
                )
                self.b = self.add_weight(
                    name="b", shape=(1, self.s), initializer=uniform
                )
        if self.attn_type == "self-attn":
            self.gamma = self.add_weight(
                name="gamma", shape=(2, self.s), initializer=uniform
            )
            self.beta = self.add_weight(
                name="beta", shape=(2, self.s), initializer=uniform
            )
            x_shape = input_shape
        else:
            x_shape, k_shape, v_shape = input_shape
            self.k_fc.build(k_shape)
            self.v_fc.build(v_shape)
        self.ln.build(x_shape)
        self.uv.build(x_shape)
        self.o.build(tuple(x_shape[:-1]) + (self.e,))
        if self.shortcut:
            self.res_scale.build(x_shape)

    def rel_pos_bias(self, seq_len, k_len=None):
        """Relative position bias (1, seq_len, k_len) as MMPose computes it."""
        if self.attn_type == "self-attn":
            if seq_len > self.num_token:
                raise ValueError(
                    f"RTMCCBlock was built for num_token={self.num_token} "
                    f"but received {seq_len} tokens (use_rel_bias needs "
                    "at most num_token)."
                )
            i = np.arange(seq_len)
            index = i[None, :] - i[:, None] + seq_len - 1
            return ops.expand_dims(ops.take(self.w, index, axis=0), 0)
        a = rope(ops.tile(self.a, (seq_len, 1)), dim=0)
        b = rope(ops.tile(self.b, (k_len, 1)), dim=0)
        return ops.matmul(a, ops.transpose(b, (0, 2, 1)))

    def _forward(self, inputs, training=None):
        if self.attn_type == "self-attn":
            x = inputs
        else:
            x, k, v = inputs
        x = self.ln(x)
        uv = self.uv(x)
        uv = ops.silu(uv) if self.act_fn == "SiLU" else ops.relu(uv)
        if self.attn_type == "self-attn":
            e = self.e
            u, v, base = uv[..., :e], uv[..., e : 2 * e], uv[..., 2 * e :]
            gamma = ops.cast(self.gamma, base.dtype)
            beta = ops.cast(self.beta, base.dtype)
            base = ops.expand_dims(base, 2) * gamma + beta  # (B, N, 2, s)
            if self.pos_enc:
                base = rope(base, dim=1)
            q, k = base[:, :, 0], base[:, :, 1]
        else:
            u, q = uv[..., : self.e], uv[..., self.e :]
            k = self.k_fc(k)
            v = self.v_fc(v)
            if self.pos_enc:
                q = rope(q, 1)
                k = rope(k, 1)
        qk = ops.matmul(q, ops.transpose(k, (0, 2, 1)))
        if self.use_rel_bias:
            if self.attn_type == "self-attn":
                bias = self.rel_pos_bias(q.shape[1])
            else:
                bias = self.rel_pos_bias(q.shape[1], k.shape[1])
            bias = ops.cast(bias, qk.dtype)
            qk = qk + bias[:, : q.shape[1], : k.shape[1]]
        kernel = ops.square(ops.relu(qk / self.sqrt_s))
        if self.dropout is not None:
            kernel = self.dropout(kernel, training=training)
        x = u * ops.matmul(kernel, v)
        return self.o(x)

    def call(self, inputs, training=None):
        main = self._forward(inputs, training=training)
        if self.seed_generator is not None:
            main = drop_path(
                main, self.drop_path_rate, self.seed_generator, training
            )
        if not self.shortcut:
            return main
        res = inputs[0] if self.attn_type == "cross-attn" else inputs
        return self.res_scale(res) + main

    def compute_output_shape(self, input_shape):
        x_shape = (
            input_shape if self.attn_type == "self-attn" else input_shape[0]
        )
        return tuple(x_shape[:-1]) + (self.out_token_dims,)

    def get_config(self):
        config = super().get_config()
        config.update(
            num_token=self.num_token,
            in_token_dims=self.in_token_dims,
            out_token_dims=self.out_token_dims,
            expansion_factor=self.expansion_factor,
            s=self.s,
            eps=self.eps,
            dropout_rate=self.dropout_rate,
            drop_path=self.drop_path_rate,
            attn_type=self.attn_type,
            act_fn=self.act_fn,
            bias=self.bias,
            use_rel_bias=self.use_rel_bias,
            pos_enc=self.pos_enc,
        )
        return config

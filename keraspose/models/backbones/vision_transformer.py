"""Vision Transformer backbone (mmpretrain's, as ViTPose uses it)."""

import keras
import numpy as np
from keras import ops

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.utils.layer_norm import build_layer_norm
from keraspose.models.utils.patch_embed import PatchEmbed
from keraspose.models.utils.resize import interpolate
from keraspose.models.utils.transformer_encoder_layer import (
    TransformerEncoderLayer,
)
from keraspose.registry import register


def _arch(embed_dims, num_layers, num_heads, feedforward_channels):
    return dict(
        embed_dims=embed_dims,
        num_layers=num_layers,
        num_heads=num_heads,
        feedforward_channels=feedforward_channels,
    )


# mmpretrain's arch_zoo (note "small" is its own 768-wide 8-layer ViT, not
# DeiT-S / ViTPose-S, which configs pass as a dict).
_ARCH_ZOO = {
    **dict.fromkeys(["s", "small"], _arch(768, 8, 8, 768 * 3)),
    **dict.fromkeys(["b", "base"], _arch(768, 12, 12, 3072)),
    **dict.fromkeys(["l", "large"], _arch(1024, 24, 16, 4096)),
    **dict.fromkeys(["h", "huge"], _arch(1280, 32, 16, 5120)),
    **dict.fromkeys(["eva-g", "eva-giant"], _arch(1408, 40, 16, 6144)),
    **dict.fromkeys(["deit-t", "deit-tiny"], _arch(192, 12, 3, 192 * 4)),
    **dict.fromkeys(
        ["deit-s", "deit-small", "dinov2-s", "dinov2-small"],
        _arch(384, 12, 6, 384 * 4),
    ),
    **dict.fromkeys(["deit-b", "deit-base"], _arch(768, 12, 12, 768 * 4)),
    **dict.fromkeys(["dinov2-g", "dinov2-giant"], _arch(1536, 40, 24, 6144)),
}
_ARCH_KEYS = ("embed_dims", "num_layers", "num_heads", "feedforward_channels")
_OUT_TYPES = ("raw", "cls_token", "featmap", "avg_featmap")
_INTERPOLATE_MODES = ("bilinear", "bicubic")


def _to_2tuple(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(
            f"Expected `{name}` to be an int or a pair of ints. "
            f"Received: {name}={value!r}"
        )
    return value


def _arch_settings(arch):
    if isinstance(arch, str):
        key = arch.lower()
        if key not in _ARCH_ZOO:
            raise ValueError(
                f"Unknown VisionTransformer arch {arch!r}; expected one of "
                f"{sorted(_ARCH_ZOO)} or a dict with keys {list(_ARCH_KEYS)}."
            )
        return dict(_ARCH_ZOO[key])
    if not isinstance(arch, dict):
        raise ValueError(
            "Expected arch to be a name or a dict with keys "
            f"{list(_ARCH_KEYS)}. Received: arch={arch!r}"
        )
    missing = [k for k in _ARCH_KEYS if k not in arch]
    if missing:
        raise ValueError(
            f"A custom arch needs the keys {list(_ARCH_KEYS)}; missing "
            f"{missing}. Received: arch={arch!r}"
        )
    return {k: int(arch[k]) for k in _ARCH_KEYS}


def resize_pos_embed(
    pos_embed, src_shape, dst_shape, mode="bicubic", num_extra_tokens=1
):
    """Resizes ``(1, extra + h * w, C)`` position embeddings to a new grid.

    mmpretrain's ``resize_pos_embed``: the extra (class) tokens are kept,
    the grid part is resized as a ``(1, h, w, C)`` image with
    ``F.interpolate(..., align_corners=False)`` semantics (bicubic uses
    PyTorch's ``a = -0.75``), in float32.

    Args:
        pos_embed: ``(1, L, C)`` embeddings.
        src_shape: their grid ``(h, w)``.
        dst_shape: the new grid ``(h', w')``.
        mode: "bicubic" or "bilinear".
        num_extra_tokens: leading tokens not on the grid.

    Returns:
        ``(1, extra + h' * w', C)`` embeddings (the input if the grids are
        equal).

    Example:

    >>> import numpy as np
    >>> pos = np.zeros((1, 1 + 4 * 3, 8), "float32")
    >>> tuple(resize_pos_embed(pos, (4, 3), (6, 5)).shape)
    (1, 31, 8)
    """
    src_h, src_w = src_shape
    dst_h, dst_w = dst_shape
    if (src_h, src_w) == (dst_h, dst_w):
        return pos_embed
    length, channels = pos_embed.shape[1], pos_embed.shape[2]
    if length != src_h * src_w + num_extra_tokens:
        raise ValueError(
            f"The length of pos_embed ({length}) does not match the grid "
            f"{src_h}x{src_w} plus {num_extra_tokens} extra token(s)."
        )
    dtype = pos_embed.dtype
    pos_embed = ops.cast(pos_embed, "float32")
    extra = pos_embed[:, :num_extra_tokens]
    grid = ops.reshape(
        pos_embed[:, num_extra_tokens:], (1, src_h, src_w, channels)
    )
    grid = interpolate(
        grid, size=(dst_h, dst_w), mode=mode, align_corners=False
    )
    grid = ops.reshape(grid, (1, dst_h * dst_w, channels))
    return ops.cast(ops.concatenate([extra, grid], axis=1), dtype)


@register
class VisionTransformer(BaseBackbone):
    """Vision Transformer (ViT) backbone.

    References: Dosovitskiy et al., "An Image is Worth 16x16 Words:
    Transformers for Image Recognition at Scale", ICLR 2021; as the
    backbone of Xu et al., "ViTPose: Simple Vision Transformer Baselines
    for Human Pose Estimation", NeurIPS 2022.

    mmpretrain's ``VisionTransformer``, which MMPose's ViTPose configs build
    as ``mmpretrain.VisionTransformer``: a :class:`PatchEmbed`
    (``patch_embed``), an optional class token (``cls_token``), learned
    position embeddings (``pos_embed``, shape ``(1, extra + h * w, C)`` for
    the ``img_size`` grid), dropout, an optional ``pre_norm``, and
    ``num_layers`` pre-norm :class:`TransformerEncoderLayer` s
    (``layers_{i}``) with stochastic depth rising linearly from 0 to
    ``drop_path_rate``, then the final norm ``ln1``. Names follow
    mmpretrain's state dict (``layers_0_attn_qkv`` is
    ``layers.0.attn.qkv``), so checkpoints map one-to-one.

    Inputs of another size than ``img_size`` work: the position
    embeddings are resized to the new patch grid like mmpretrain's
    ``resize_pos_embed`` (``interpolate_mode``, ``align_corners=False``).
    Image sizes must be static.

    Outputs (one per ``out_indices`` entry, in layer order as mmpretrain,
    after ``ln1`` for the last layer):

    * ``"featmap"``: the patch tokens as a channels-last map
      ``(N, h, w, C)`` (mmpretrain: ``(N, C, h, w)``);
    * ``"cls_token"`` (mmpretrain's default): ``(N, C)``;
    * ``"avg_featmap"``: the mean patch token through ``ln2``, ``(N, C)``;
    * ``"raw"``: all tokens ``(N, L, C)``.

    mmpretrain behaviours kept: ``arch="small"`` is mmpretrain's 768-wide
    8-layer ViT (ViTPose-S passes a dict); the norms are ``LN`` with
    ``eps=1e-6``; ``frozen_stages=k > 0`` freezes ``pos_embed``,
    ``cls_token``, ``patch_embed``, ``pre_norm`` and layers ``1..k`` (run in
    inference mode, as their ``eval()``), plus ``ln1`` / ``ln2`` when ``k ==
    num_layers``, while ``frozen_stages=0`` freezes nothing; the patch conv
    has no bias with ``pre_norm``; the default ``patch_cfg`` pads inputs to
    whole patches at the bottom/right (MMCV's ``"corner"``). Initial
    weights: ``pos_embed`` N(0, 0.02) (mmengine truncates at +-2, i.e.
    100 standard deviations), ``cls_token`` zeros. An ``out_indices``
    entry equal to ``num_layers`` (accepted by mmpretrain but never
    output) is rejected here.

    Args:
        arch: a name of mmpretrain's arch zoo ("small", "base", "large",
            "huge", "deit-tiny", ...) or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads``, ``feedforward_channels``.
        img_size: the expected image size ``(H, W)`` (sets the
            ``pos_embed`` grid).
        patch_size: patch size (conv kernel and stride).
        in_channels: image channels.
        out_indices: layer indices to output (negative from the end).
        drop_rate: dropout after the position embedding and in the layers.
        drop_path_rate: stochastic depth of the last layer.
        qkv_bias: bias of the ``qkv`` projections.
        norm_cfg: ``LN`` config of all norms.
        final_norm: apply ``ln1`` after the last layer.
        out_type: "featmap", "cls_token", "avg_featmap" or "raw".
        with_cls_token: prepend the class token.
        frozen_stages: see above; -1 (or 0) freezes nothing.
        interpolate_mode: "bicubic" or "bilinear" ``pos_embed`` resizing.
        layer_scale_init_value: > 0 adds layer scales to every layer.
        patch_cfg: :class:`PatchEmbed` overrides (ViTPose: ``padding=2``).
        layer_cfgs: :class:`TransformerEncoderLayer` overrides, a dict for
            all layers or a list with one dict per layer.
        pre_norm: a norm after the position embedding (CLIP).
        init_cfg: MMPose init config; ``Pretrained`` warns (not loaded).
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> vit = keraspose.build(dict(
    ...     type="mmpretrain.VisionTransformer",
    ...     arch=dict(embed_dims=16, num_layers=2, num_heads=2,
    ...               feedforward_channels=32),
    ...     img_size=(64, 48), patch_size=16, with_cls_token=False,
    ...     out_type="featmap", patch_cfg=dict(padding=2)))
    >>> [f.shape for f in vit(np.zeros((1, 64, 48, 3), "float32"))]
    [(1, 4, 3, 16)]
    """

    arch_zoo = _ARCH_ZOO

    def __init__(
        self,
        arch="base",
        img_size=224,
        patch_size=16,
        in_channels=3,
        out_indices=-1,
        drop_rate=0.0,
        drop_path_rate=0.0,
        qkv_bias=True,
        norm_cfg=dict(type="LN", eps=1e-6),  # noqa: B006
        final_norm=True,
        out_type="cls_token",
        with_cls_token=True,
        frozen_stages=-1,
        interpolate_mode="bicubic",
        layer_scale_init_value=0.0,
        patch_cfg=dict(),  # noqa: B006
        layer_cfgs=dict(),  # noqa: B006 (mmpretrain defaults)
        pre_norm=False,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(init_cfg=init_cfg, **kwargs)
        settings = _arch_settings(arch)
        self.arch = arch
        self.arch_settings = settings
        self.embed_dims = settings["embed_dims"]
        self.num_layers = settings["num_layers"]
        self.img_size = _to_2tuple(img_size, "img_size")
        self.patch_size = patch_size
        self.in_channels = int(in_channels)
        if out_type not in _OUT_TYPES:
            raise ValueError(
                f"Expected out_type in {_OUT_TYPES}. "
                f"Received: out_type={out_type!r}"
            )
        if not with_cls_token and out_type == "cls_token":
            raise ValueError(
                "with_cls_token must be True when out_type='cls_token'. "
                f"Received: with_cls_token={with_cls_token!r}"
            )
        self.out_type = out_type
        self.with_cls_token = bool(with_cls_token)
        self.num_extra_tokens = 1 if self.with_cls_token else 0
        indices = [out_indices] if isinstance(out_indices, int) else out_indices
        if not isinstance(indices, list | tuple):
            raise ValueError(
                "Expected out_indices to be an int or a sequence of ints. "
                f"Received: out_indices={out_indices!r}"
            )
        normalized = []
        for index in indices:
            if not isinstance(index, int) or not (
                -self.num_layers <= index < self.num_layers
            ):
                raise ValueError(
                    f"Expected every out_indices entry in "
                    f"[{-self.num_layers}, {self.num_layers}) for "
                    f"{self.num_layers} layers. "
                    f"Received: out_indices={out_indices!r}"
                )
            normalized.append(index % self.num_layers)
        self.out_indices = tuple(normalized)
        if not isinstance(frozen_stages, int) or not (
            -1 <= frozen_stages <= self.num_layers
        ):
            raise ValueError(
                f"Expected frozen_stages in [-1, {self.num_layers}]. "
                f"Received: frozen_stages={frozen_stages!r}"
            )
        self.frozen_stages = frozen_stages
        if interpolate_mode not in _INTERPOLATE_MODES:
            raise ValueError(
                f"Expected interpolate_mode in {_INTERPOLATE_MODES}. "
                f"Received: interpolate_mode={interpolate_mode!r}"
            )
        self.interpolate_mode = interpolate_mode
        self.drop_rate = float(drop_rate)
        self.drop_path_rate = float(drop_path_rate)
        self.qkv_bias = bool(qkv_bias)
        self.norm_cfg = norm_cfg
        self.final_norm = bool(final_norm)
        self.layer_scale_init_value = float(layer_scale_init_value)
        self.patch_cfg = dict(patch_cfg or {})
        self.pre_norm_enabled = bool(pre_norm)
        if isinstance(layer_cfgs, dict):
            per_layer = [dict(layer_cfgs)] * self.num_layers
        else:
            per_layer = [dict(c) for c in layer_cfgs]
            if len(per_layer) != self.num_layers:
                raise ValueError(
                    f"Expected layer_cfgs to be a dict or {self.num_layers} "
                    f"dicts (one per layer). Received {len(per_layer)}."
                )
        self.layer_cfgs = layer_cfgs
        dt = self.dtype_policy

        embed_cfg = dict(
            in_channels=self.in_channels,
            input_size=self.img_size,
            embed_dims=self.embed_dims,
            conv_type="Conv2d",
            kernel_size=patch_size,
            stride=patch_size,
            bias=not self.pre_norm_enabled,
        )
        embed_cfg.update(self.patch_cfg)
        self.patch_embed = PatchEmbed(**embed_cfg, name="patch_embed", dtype=dt)
        self.patch_resolution = self.patch_embed.init_out_size
        self.num_patches = self.patch_resolution[0] * self.patch_resolution[1]
        self.drop_after_pos = keras.layers.Dropout(
            self.drop_rate, name="drop_after_pos", dtype=dt
        )
        rates = np.linspace(0, self.drop_path_rate, self.num_layers)
        self.layers = []
        for i in range(self.num_layers):
            cfg = dict(
                embed_dims=self.embed_dims,
                num_heads=settings["num_heads"],
                feedforward_channels=settings["feedforward_channels"],
                layer_scale_init_value=self.layer_scale_init_value,
                drop_rate=self.drop_rate,
                drop_path_rate=float(rates[i]),
                qkv_bias=self.qkv_bias,
                norm_cfg=norm_cfg,
            )
            cfg.update(per_layer[i])
            self.layers.append(
                TransformerEncoderLayer(**cfg, name=f"layers_{i}", dtype=dt)
            )
        self.pre_norm = (
            build_layer_norm(norm_cfg, name="pre_norm", dtype=dt)
            if self.pre_norm_enabled
            else None
        )
        self.ln1 = (
            build_layer_norm(norm_cfg, name="ln1", dtype=dt)
            if self.final_norm
            else None
        )
        self.ln2 = (
            build_layer_norm(norm_cfg, name="ln2", dtype=dt)
            if out_type == "avg_featmap"
            else None
        )
        self._freeze_stages()

    def _freeze_stages(self):
        if self.frozen_stages <= 0:
            return
        self.patch_embed.trainable = False
        if self.pre_norm is not None:
            self.pre_norm.trainable = False
        for layer in self.layers[: self.frozen_stages]:
            layer.trainable = False
        if self.frozen_stages == self.num_layers:
            for norm in (self.ln1, self.ln2):
                if norm is not None:
                    norm.trainable = False

    def build(self, input_shape):
        # Explicit builds: nested symbolic builds are slow.
        shape = tuple(input_shape)
        self.patch_embed.build(shape)
        frozen = self.frozen_stages > 0
        self.cls_token = (
            self.add_weight(
                shape=(1, 1, self.embed_dims),
                initializer="zeros",
                trainable=not frozen,
                name="cls_token",
            )
            if self.with_cls_token
            else None
        )
        self.pos_embed = self.add_weight(
            shape=(
                1,
                self.num_patches + self.num_extra_tokens,
                self.embed_dims,
            ),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            trainable=not frozen,
            name="pos_embed",
        )
        tokens = (shape[0], None, self.embed_dims)
        for layer in [self.pre_norm, *self.layers, self.ln1, self.ln2]:
            if layer is not None:
                layer.build(tokens)

    def _format_output(self, x, grid):
        if self.out_type == "raw":
            return x
        if self.out_type == "cls_token":
            return x[:, 0]
        patches = x[:, self.num_extra_tokens :]
        if self.out_type == "featmap":
            return ops.reshape(patches, (-1, *grid, self.embed_dims))
        return self.ln2(ops.mean(patches, axis=1))

    def call(self, x, training=None):
        x = self.patch_embed(x)
        grid = (x.shape[1], x.shape[2])
        if None in grid:
            raise ValueError(
                "VisionTransformer needs static image sizes (the position "
                f"embeddings are resized to the patch grid). Received a "
                f"patch grid of {grid}"
            )
        x = ops.reshape(x, (-1, grid[0] * grid[1], self.embed_dims))
        if self.cls_token is not None:
            cls = ops.cast(self.cls_token, x.dtype)
            cls = ops.broadcast_to(cls, (ops.shape(x)[0], 1, self.embed_dims))
            x = ops.concatenate([cls, x], axis=1)
        pos = resize_pos_embed(
            self.pos_embed,
            self.patch_resolution,
            grid,
            mode=self.interpolate_mode,
            num_extra_tokens=self.num_extra_tokens,
        )
        x = x + ops.cast(pos, x.dtype)
        frozen = self.frozen_stages > 0
        x = self.drop_after_pos(x, training=training and not frozen)
        if self.pre_norm is not None:
            x = self.pre_norm(x)
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x, training=training and i >= self.frozen_stages)
            if i == self.num_layers - 1 and self.ln1 is not None:
                x = self.ln1(x)
            if i in self.out_indices:
                outs.append(self._format_output(x, grid))
        return tuple(outs)

    def compute_output_shape(self, input_shape):
        n = input_shape[0]
        grid = self.patch_embed.compute_output_shape(tuple(input_shape))[1:3]
        if self.out_type == "featmap":
            shape = (n, *grid, self.embed_dims)
        elif self.out_type == "raw":
            length = (
                None
                if None in grid
                else grid[0] * grid[1] + self.num_extra_tokens
            )
            shape = (n, length, self.embed_dims)
        else:
            shape = (n, self.embed_dims)
        return tuple(
            shape for i in range(self.num_layers) if i in self.out_indices
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            arch=self.arch,
            img_size=self.img_size,
            patch_size=self.patch_size,
            in_channels=self.in_channels,
            out_indices=self.out_indices,
            drop_rate=self.drop_rate,
            drop_path_rate=self.drop_path_rate,
            qkv_bias=self.qkv_bias,
            norm_cfg=self.norm_cfg,
            final_norm=self.final_norm,
            out_type=self.out_type,
            with_cls_token=self.with_cls_token,
            frozen_stages=self.frozen_stages,
            interpolate_mode=self.interpolate_mode,
            layer_scale_init_value=self.layer_scale_init_value,
            patch_cfg=self.patch_cfg,
            layer_cfgs=self.layer_cfgs,
            pre_norm=self.pre_norm_enabled,
        )
        return config

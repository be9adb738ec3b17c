"""RTMPose's head: large-kernel conv, MLP and a GAU to SimCC vectors."""

import keras

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.heads.coord_cls_heads import _simcc_common as common
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.rtmcc_block import RTMCCBlock
from keraspose.models.utils.scale_norm import ScaleNorm
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg
from keraspose.utils.checks import size_pair

_GAU_DEFAULTS = dict(
    hidden_dims=256,
    s=128,
    expansion_factor=2,
    dropout_rate=0.0,
    drop_path=0.0,
    act_fn="ReLU",
    use_rel_bias=False,
    pos_enc=False,
)


def _normal(std):
    return keras.initializers.RandomNormal(mean=0.0, stddev=std)


@register
class RTMCCHead(BaseHead):
    """Top-down SimCC head of RTMPose (MMPose's ``RTMCCHead``).

    Reference: Jiang et al., "RTMPose: Real-Time Multi-Person Pose
    Estimation based on MMPose", 2023; the GAU is from Hua et al.,
    "Transformer Quality in Linear Time", ICML 2022.

    ``final_layer`` (a ``final_layer_kernel_size`` convolution to K maps)
    -> each map flattened row-major over (H, W) (PyTorch's order, so the
    MLP's weights map one-to-one) -> ``mlp_0`` (:class:`ScaleNorm`) and
    ``mlp_1`` (linear to ``hidden_dims``) -> ``gau`` (an
    :class:`RTMCCBlock` over the K keypoint tokens) -> ``cls_x`` / ``cls_y``
    (linear to ``Wx = int(w * r)`` / ``Wy = int(h * r)`` bins). Raw outputs
    are ``(pred_x (B, K, Wx), pred_y (B, K, Wy))``.

    ``loss_by_outputs`` gives ``loss_kpt`` (the loss on the codec's
    ``keypoint_x_labels`` / ``keypoint_y_labels`` / ``keypoint_weights``)
    and ``acc_pose`` (MMPose's ``simcc_pck_accuracy``; always computed, as
    in MMPose). ``predict`` averages the flipped pass after
    ``flip_vectors`` (no shift) and decodes with the SimCCLabel decoder;
    a decoder with ``decode_visibility`` adds ``keypoints_visible``.
    ``test_cfg["output_heatmaps"]`` adds ``heatmaps`` (B, Wy, Wx, K), the
    outer product of the normalized vectors (MMPose's
    ``get_simcc_normalized`` without sigma, for display only), and those
    vectors as ``keypoint_x_labels`` / ``keypoint_y_labels``.

    Initialisation follows MMPose's ``init_cfg``: convolutions normal(0.001),
    linear layers (the GAU's too) normal(0.01) with zero biases.

    Args:
        in_channels: channels of the last feature map (one int).
        out_channels: number of keypoints K.
        input_size: model input size (w, h).
        in_featuremap_size: size (w, h) of the last feature map.
        simcc_split_ratio: SimCC bins per input pixel.
        final_layer_kernel_size: kernel size of ``final_layer``.
        gau_cfg: dict of ``hidden_dims``, ``s``, ``expansion_factor``,
            ``dropout_rate``, ``drop_path``, ``act_fn``, ``use_rel_bias``,
            ``pos_enc`` (missing keys take MMPose's defaults).
        loss: loss config (``KLDiscretLoss`` with target weights).
        decoder: SimCCLabel config; its ``input_size`` and
            ``simcc_split_ratio`` must equal the head's.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="RTMCCHead", in_channels=8,
    ...     out_channels=3, input_size=(32, 64), in_featuremap_size=(1, 2),
    ...     gau_cfg=dict(hidden_dims=16, s=8)))
    >>> pred_x, pred_y = head((np.zeros((2, 2, 1, 8), "float32"),))
    >>> pred_x.shape, pred_y.shape
    ((2, 3, 64), (2, 3, 128))
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        input_size,
        in_featuremap_size,
        simcc_split_ratio=2.0,
        final_layer_kernel_size=1,
        gau_cfg=_GAU_DEFAULTS,
        loss=dict(type="KLDiscretLoss", use_target_weight=True),  # noqa: B006
        decoder=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(decoder=decoder, **kwargs)
        warn_unloadable_init_cfg(init_cfg, "RTMCCHead")
        common.check_in_channels(in_channels, "RTMCCHead")
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.input_size = size_pair(input_size, "input_size")
        self.in_featuremap_size = size_pair(
            in_featuremap_size, "in_featuremap_size"
        )
        if not float(simcc_split_ratio) > 0:
            raise ValueError(
                "Expected simcc_split_ratio > 0. Received: "
                f"simcc_split_ratio={simcc_split_ratio!r}"
            )
        self.simcc_split_ratio = float(simcc_split_ratio)
        self.final_layer_kernel_size = int(final_layer_kernel_size)
        unknown = sorted(set(gau_cfg or {}) - set(_GAU_DEFAULTS))
        if unknown:
            raise ValueError(
                f"Unknown gau_cfg keys {unknown}; expected keys among "
                f"{sorted(_GAU_DEFAULTS)}. Received: gau_cfg={gau_cfg!r}"
            )
        self.gau_cfg = {**_GAU_DEFAULTS, **(gau_cfg or {})}
        self.loss_module = build(loss)
        self.simcc_size = (
            int(self.input_size[0] * self.simcc_split_ratio),
            int(self.input_size[1] * self.simcc_split_ratio),
        )
        common.check_decoder(self, "RTMCCHead")

        dt = self.dtype_policy
        cfg = self.gau_cfg
        hidden = int(cfg["hidden_dims"])
        k = self.final_layer_kernel_size
        self.final_layer = Conv2d(
            self.out_channels,
            k,
            padding=k // 2,
            kernel_initializer=_normal(0.001),
            name="final_layer",
            dtype=dt,
        )
        flatten_dims = self.in_featuremap_size[0] * self.in_featuremap_size[1]
        self.mlp_0 = ScaleNorm(flatten_dims, name="mlp_0", dtype=dt)
        self.mlp_1 = keras.layers.Dense(
            hidden,
            use_bias=False,
            kernel_initializer=_normal(0.01),
            name="mlp_1",
            dtype=dt,
        )
        self.gau = RTMCCBlock(
            self.out_channels,
            hidden,
            hidden,
            s=cfg["s"],
            expansion_factor=cfg["expansion_factor"],
            dropout_rate=cfg["dropout_rate"],
            drop_path=cfg["drop_path"],
            attn_type="self-attn",
            act_fn=cfg["act_fn"],
            use_rel_bias=cfg["use_rel_bias"],
            pos_enc=cfg["pos_enc"],
            name="gau",
            dtype=dt,
        )
        # MMPose's init_cfg draws every nn.Linear, the GAU's included, from
        # normal(0.01) with zero biases.
        for dense in (self.gau.uv, self.gau.o):
            dense.kernel_initializer = _normal(0.01)
            dense.bias_initializer = keras.initializers.Zeros()
        self.cls_x = keras.layers.Dense(
            self.simcc_size[0],
            use_bias=False,
            kernel_initializer=_normal(0.01),
            name="cls_x",
            dtype=dt,
        )
        self.cls_y = keras.layers.Dense(
            self.simcc_size[1],
            use_bias=False,
            kernel_initializer=_normal(0.01),
            name="cls_y",
            dtype=dt,
        )

    def call(self, feats, training=None):
        x = feats[-1] if isinstance(feats, list | tuple) else feats
        common.check_flatten(
            x.shape, self.in_featuremap_size, "RTMCCHead", "feature maps"
        )
        x = self.final_layer(x)
        x = common.flatten_keypoint_maps(x)  # (B, K, H * W)
        x = self.mlp_1(self.mlp_0(x))
        x = self.gau(x, training=training)
        return self.cls_x(x), self.cls_y(x)

    def log_names(self, train_cfg=None):
        return ["loss_kpt", "acc_pose"]

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        return common.simcc_loss_by_outputs(self, outputs, targets, "RTMCCHead")

    def predict(self, feats, test_cfg=None, flip_indices=None):
        return common.simcc_predict(self, feats, test_cfg, flip_indices, None)

    def decode(self, outputs):
        return common.split_visibility(super().decode(outputs))

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            input_size=self.input_size,
            in_featuremap_size=self.in_featuremap_size,
            simcc_split_ratio=self.simcc_split_ratio,
            final_layer_kernel_size=self.final_layer_kernel_size,
            gau_cfg=dict(self.gau_cfg),
            loss=to_config(self.loss_module),
            decoder=to_config(self.decoder),
        )
        return config

"""SimCC head: deconvolutions, then linear layers to 1-D vectors."""

import keras

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.heads.coord_cls_heads import _simcc_common as common
from keraspose.models.utils.conv2d import Conv2d
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg
from keraspose.utils.checks import size_pair


def _normal(std):
    return keras.initializers.RandomNormal(mean=0.0, stddev=std)


@register
class SimCCHead(BaseHead):
    """Top-down SimCC head (MMPose's ``SimCCHead``).

    Reference: Li et al., "SimCC: a Simple Coordinate Classification
    Perspective for Human Pose Estimation", ECCV 2022.

    With deconvolutions, ``deconv_head`` is a :class:`HeatmapHead`
    (``deconv_type="heatmap"``) or a ``ViPNASHead`` (``"vipnas"``, built by
    name) with the given deconv / conv / final layers, and the maps are
    ``in_featuremap_size * 2 ** num_deconv``; without, an optional
    ``final_layer`` convolution (``dict(kernel_size=1)``) is applied to the
    last feature map. Each map is flattened row-major over (H, W)
    (PyTorch's order) and ``mlp_head_x`` / ``mlp_head_y`` (linear, with
    biases) give ``(pred_x (B, C, Wx), pred_y (B, C, Wy))`` with ``Wx =
    int(w * r)``; C is K, or the last deconv's channels when
    ``final_layer`` is None (as in MMPose).

    ``loss_by_outputs``, ``predict`` (flip test with ``flip_vectors``,
    decoding, ``decode_visibility``) behave as in :class:`RTMCCHead`; with
    ``test_cfg["output_heatmaps"]`` the vectors are normalized with the
    decoder's sigma first, as MMPose does for this head.

    Initialisation follows MMPose's ``init_cfg``: (de)convolutions
    normal(0.001), linear layers normal(0.01) with zero biases.

    Args:
        in_channels: channels of the last feature map (one int).
        out_channels: number of keypoints K.
        input_size: model input size (w, h).
        in_featuremap_size: size (w, h) of the last feature map.
        simcc_split_ratio: SimCC bins per input pixel.
        deconv_type: "heatmap" or "vipnas".
        deconv_out_channels: output channels of each deconvolution, or
            None/() for none.
        deconv_kernel_sizes: kernel size of each deconvolution.
        deconv_num_groups: groups of each deconvolution ("vipnas").
        conv_out_channels: output channels of each extra convolution.
        conv_kernel_sizes: kernel size of each extra convolution.
        final_layer: dict of the final conv (``kernel_size``, ``padding``)
            or None.
        loss: loss config (``KLDiscretLoss`` with target weights).
        decoder: SimCCLabel config; its ``input_size`` and
            ``simcc_split_ratio`` must equal the head's.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="SimCCHead", in_channels=8,
    ...     out_channels=3, input_size=(32, 64), in_featuremap_size=(1, 2),
    ...     deconv_out_channels=(8,), deconv_kernel_sizes=(4,)))
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
        deconv_type="heatmap",
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        deconv_num_groups=(16, 16, 16),
        conv_out_channels=None,
        conv_kernel_sizes=None,
        final_layer=dict(kernel_size=1),  # noqa: B006 (MMPose default)
        loss=dict(type="KLDiscretLoss", use_target_weight=True),  # noqa: B006
        decoder=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(decoder=decoder, **kwargs)
        warn_unloadable_init_cfg(init_cfg, "SimCCHead")
        if deconv_type not in ("heatmap", "vipnas"):
            raise ValueError(
                "Expected deconv_type 'heatmap' or 'vipnas'. Received: "
                f"deconv_type={deconv_type!r}"
            )
        common.check_in_channels(in_channels, "SimCCHead")
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
        self.deconv_type = deconv_type
        self.deconv_out_channels = tuple(deconv_out_channels or ())
        self.deconv_kernel_sizes = tuple(deconv_kernel_sizes or ())
        self.deconv_num_groups = tuple(deconv_num_groups or ())
        self.conv_out_channels = tuple(conv_out_channels or ())
        self.conv_kernel_sizes = tuple(conv_kernel_sizes or ())
        self.final_layer_cfg = final_layer
        self.loss_module = build(loss)
        self.simcc_size = (
            int(self.input_size[0] * self.simcc_split_ratio),
            int(self.input_size[1] * self.simcc_split_ratio),
        )
        common.check_decoder(self, "SimCCHead")

        dt = self.dtype_policy
        num_deconv = len(self.deconv_out_channels)
        self.final_layer = None
        self.deconv_head = None
        if num_deconv:
            self.heatmap_size = tuple(
                s * 2**num_deconv for s in self.in_featuremap_size
            )
            cfg = dict(
                in_channels=self.in_channels,
                out_channels=self.out_channels,
                deconv_out_channels=self.deconv_out_channels,
                conv_out_channels=self.conv_out_channels or None,
                conv_kernel_sizes=self.conv_kernel_sizes or None,
                final_layer=final_layer,
            )
            if deconv_type == "heatmap":
                cfg.update(
                    type="HeatmapHead",
                    deconv_kernel_sizes=self.deconv_kernel_sizes,
                )
            else:
                cfg.update(
                    type="ViPNASHead",
                    deconv_num_groups=self.deconv_num_groups,
                )
            self.deconv_head = build(cfg, name="deconv_head", dtype=dt)
        else:
            self.heatmap_size = self.in_featuremap_size
            if final_layer is not None:
                layer_cfg = dict(final_layer)
                self.final_layer = Conv2d(
                    self.out_channels,
                    layer_cfg.pop("kernel_size", 1),
                    padding=layer_cfg.pop("padding", 0),
                    kernel_initializer=_normal(0.001),
                    name="final_layer",
                    dtype=dt,
                )
        self.mlp_head_x = keras.layers.Dense(
            self.simcc_size[0],
            kernel_initializer=_normal(0.01),
            name="mlp_head_x",
            dtype=dt,
        )
        self.mlp_head_y = keras.layers.Dense(
            self.simcc_size[1],
            kernel_initializer=_normal(0.01),
            name="mlp_head_y",
            dtype=dt,
        )

    def call(self, feats, training=None):
        if self.deconv_head is None:
            x = feats[-1] if isinstance(feats, list | tuple) else feats
            if self.final_layer is not None:
                x = self.final_layer(x)
        else:
            x = self.deconv_head(feats, training=training)
        common.check_flatten(x.shape, self.heatmap_size, "SimCCHead", "maps")
        x = common.flatten_keypoint_maps(x)
        return self.mlp_head_x(x), self.mlp_head_y(x)

    def log_names(self, train_cfg=None):
        return ["loss_kpt", "acc_pose"]

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        return common.simcc_loss_by_outputs(self, outputs, targets, "SimCCHead")

    def predict(self, feats, test_cfg=None, flip_indices=None):
        sigma = self.decoder.sigma if self.decoder is not None else None
        return common.simcc_predict(self, feats, test_cfg, flip_indices, sigma)

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
            deconv_type=self.deconv_type,
            deconv_out_channels=self.deconv_out_channels,
            deconv_kernel_sizes=self.deconv_kernel_sizes,
            deconv_num_groups=self.deconv_num_groups,
            conv_out_channels=self.conv_out_channels,
            conv_kernel_sizes=self.conv_kernel_sizes,
            final_layer=self.final_layer_cfg,
            loss=to_config(self.loss_module),
            decoder=to_config(self.decoder),
        )
        return config

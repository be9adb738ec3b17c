"""Top-down heatmap head (SimpleBaseline)."""

import keras
from keras import ops

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.losses.combined_target_mse_loss import (
    CombinedTargetMSELoss,
)
from keraspose.models.utils.accuracy import heatmap_pck_accuracy
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_transpose2d import ConvTranspose2d
from keraspose.models.utils.norm import build_norm_layer
from keraspose.models.utils.tta import flip_heatmaps
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg


def _normal(std):
    return keras.initializers.RandomNormal(mean=0.0, stddev=std)


@register
class HeatmapHead(BaseHead):
    """Deconvolutions, optional convolutions and a final 1x1 convolution.

    Reference: Xiao et al., "Simple Baselines for Human Pose Estimation and
    Tracking", ECCV 2018. Arguments, defaults and initialisation (normal,
    std 0.001) follow MMPose's ``HeatmapHead``. Each deconvolution is a
    :class:`ConvTranspose2d` (exact, sub-pixel formulation); sublayers are
    named like MMPose's modules with ``.`` written ``_``
    (``deconv_layers_0``, ``deconv_layers_1``, ..., ``conv_layers_0``,
    ``final_layer``).

    Args:
        in_channels: channels of the last feature map.
        out_channels: number of keypoints K (3K for UDP combined maps,
            with ``UDPHeatmap(heatmap_type="combined")`` and
            ``CombinedTargetMSELoss``; flip test then needs
            ``flip_mode="udp_combined"``).
        deconv_out_channels: output channels of each deconvolution, or
            None/() for none.
        deconv_kernel_sizes: kernel size (4, 3 or 2) of each deconvolution.
        conv_out_channels: output channels of each extra convolution.
        conv_kernel_sizes: kernel size of each extra convolution.
        final_layer: dict of the final conv (``kernel_size``, ``padding``;
            ``dict(kernel_size=1)`` by default) or None for no final layer.
        loss: loss config (``KeypointMSELoss`` with target weights).
        decoder: codec config used by ``predict``.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="HeatmapHead", in_channels=8,
    ...     out_channels=3, deconv_out_channels=(8,), deconv_kernel_sizes=(4,)))
    >>> head((np.zeros((1, 4, 3, 8), "float32"),)).shape
    (1, 8, 6, 3)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        conv_out_channels=None,
        conv_kernel_sizes=None,
        final_layer=dict(kernel_size=1),  # noqa: B006 (MMPose default)
        loss=None,
        decoder=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(decoder=decoder, **kwargs)
        warn_unloadable_init_cfg(init_cfg, "HeatmapHead")
        self.in_channels = in_channels
        self.out_channels = int(out_channels)
        self.deconv_out_channels = tuple(deconv_out_channels or ())
        self.deconv_kernel_sizes = tuple(deconv_kernel_sizes or ())
        self.conv_out_channels = tuple(conv_out_channels or ())
        self.conv_kernel_sizes = tuple(conv_kernel_sizes or ())
        self.final_layer_cfg = final_layer
        self.loss_module = build(
            loss or {"type": "KeypointMSELoss", "use_target_weight": True}
        )
        if self.deconv_out_channels and len(self.deconv_out_channels) != len(
            self.deconv_kernel_sizes
        ):
            raise ValueError(
                '"deconv_out_channels" and "deconv_kernel_sizes" should be '
                "integer sequences with the same length. Received: "
                f"{self.deconv_out_channels} and {self.deconv_kernel_sizes}"
            )
        if self.conv_out_channels and len(self.conv_out_channels) != len(
            self.conv_kernel_sizes
        ):
            raise ValueError(
                '"conv_out_channels" and "conv_kernel_sizes" should be '
                "integer sequences with the same length. Received: "
                f"{self.conv_out_channels} and {self.conv_kernel_sizes}"
            )
        dt = self.dtype_policy
        self.deconv_layers = []
        for i, (ch, k) in enumerate(
            zip(self.deconv_out_channels, self.deconv_kernel_sizes)
        ):
            self.deconv_layers.append(
                ConvTranspose2d(
                    ch,
                    kernel_size=k,
                    use_bias=False,
                    kernel_initializer=_normal(0.001),
                    name=f"deconv_layers_{3 * i}",
                    dtype=dt,
                )
            )
            self.deconv_layers.append(
                build_norm_layer(None, f"deconv_layers_{3 * i + 1}", dt)
            )
        self.conv_layers = []
        for i, (ch, k) in enumerate(
            zip(self.conv_out_channels, self.conv_kernel_sizes)
        ):
            self.conv_layers.append(
                Conv2d(
                    ch,
                    k,
                    padding=(k - 1) // 2,
                    kernel_initializer=_normal(0.001),
                    name=f"conv_layers_{3 * i}",
                    dtype=dt,
                )
            )
            self.conv_layers.append(
                build_norm_layer(None, f"conv_layers_{3 * i + 1}", dt)
            )
        if final_layer is not None:
            cfg = dict(final_layer)
            self.final_layer = Conv2d(
                self.out_channels,
                cfg.pop("kernel_size", 1),
                padding=cfg.pop("padding", 0),
                kernel_initializer=_normal(0.001),
                name="final_layer",
                dtype=dt,
            )
        else:
            self.final_layer = None

    def call(self, feats, training=None):
        x = feats[-1] if isinstance(feats, list | tuple) else feats
        layers = list(self.deconv_layers) + list(self.conv_layers)
        for conv, norm in zip(layers[::2], layers[1::2]):
            x = ops.relu(norm(conv(x), training=training))
        if self.final_layer is not None:
            x = self.final_layer(x)
        return x

    @property
    def num_keypoints(self):
        """K: ``out_channels``, or ``out_channels // 3`` for UDP combined
        maps (a ``combined`` decoder or a ``CombinedTargetMSELoss``)."""
        group = getattr(self.decoder, "num_channels_per_keypoint", 1)
        if isinstance(self.loss_module, CombinedTargetMSELoss):
            group = 3
        return self.out_channels // group

    def log_names(self, train_cfg=None):
        names = ["loss_kpt"]
        if (train_cfg or {}).get("compute_acc", True):
            names.append("acc_pose")
        return names

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        gt = self._require(targets, "heatmaps", "HeatmapHead.loss")
        weights = self._require(targets, "keypoint_weights", "HeatmapHead.loss")
        if outputs.shape[-1] != gt.shape[-1]:
            raise ValueError(
                f"HeatmapHead predicts {outputs.shape[-1]} keypoints "
                f"(out_channels) but the targets have {gt.shape[-1]}: set "
                "out_channels to the dataset's keypoint count."
            )
        if tuple(outputs.shape[1:3]) != tuple(gt.shape[1:3]):
            raise ValueError(
                f"HeatmapHead outputs heatmaps of size {outputs.shape[1:3]} "
                f"(H, W) but the target heatmaps are {gt.shape[1:3]}: check "
                "the codec's heatmap_size against the input size."
            )
        losses = {"loss_kpt": self.loss_module(outputs, gt, weights)}
        if (train_cfg or {}).get("compute_acc", True):
            step = self.out_channels // self.num_keypoints
            if step > 1:
                # Combined maps: MMPose's accuracy fails on 3K channels
                # against K weights (its configs set compute_acc=False);
                # keraspose measures it on the disc channels.
                outputs, gt = outputs[..., ::step], gt[..., ::step]
            losses["acc_pose"] = heatmap_pck_accuracy(outputs, gt, weights)
        return losses

    def predict(self, feats, test_cfg=None, flip_indices=None):
        test_cfg = test_cfg or {}
        if test_cfg.get("flip_test", False):
            _feats, _feats_flip = feats
            heatmaps = self(_feats, training=False)
            flipped = flip_heatmaps(
                self(_feats_flip, training=False),
                flip_indices=flip_indices,
                flip_mode=test_cfg.get("flip_mode", "heatmap"),
                shift_heatmap=test_cfg.get("shift_heatmap", False),
            )
            heatmaps = (heatmaps + flipped) * 0.5
        else:
            heatmaps = self(feats, training=False)
        preds = self.decode(heatmaps)
        if test_cfg.get("output_heatmaps", False):
            preds["heatmaps"] = heatmaps
        return preds

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            deconv_out_channels=self.deconv_out_channels,
            deconv_kernel_sizes=self.deconv_kernel_sizes,
            conv_out_channels=self.conv_out_channels,
            conv_kernel_sizes=self.conv_kernel_sizes,
            final_layer=self.final_layer_cfg,
            loss=to_config(self.loss_module),
            decoder=to_config(self.decoder),
        )
        return config

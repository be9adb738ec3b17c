"""DEKR head: root/keypoint heatmaps and disentangled displacements."""

import keras
import numpy as np
from keras import ops

from keraspose.models.backbones.resnet import ResidualBlock
from keraspose.models.heads.base_head import BaseHead
from keraspose.models.utils.adaptive_activation_block import (
    AdaptiveActivationBlock,
)
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.rescore_net import RescoreNet
from keraspose.models.utils.tta import flip_heatmaps
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg


def _normal(std=0.001):
    return keras.initializers.RandomNormal(mean=0.0, stddev=std)


@register
class DEKRHead(BaseHead):
    """Disentangled keypoint regression head.

    Reference: Geng et al., "Bottom-Up Human Pose Estimation Via
    Disentangled Keypoint Regression", CVPR 2021. MMPose's ``DEKRHead``,
    sublayers named as its modules:

    * ``heatmap_conv_layers_0`` (1x1 ConvModule, BN, ReLU),
      ``heatmap_conv_layers_1`` (a ResNet BasicBlock) and
      ``heatmap_conv_layers_2`` (1x1 conv) give ``heatmaps``
      (B, h, w, K + 1): the K keypoint heatmaps, the root heatmap last;
    * ``displacement_conv_layers_0`` (1x1 ConvModule to
      ``K * num_displacement_filters_per_keypoint`` channels), two
      :class:`AdaptiveActivationBlock` (deformable, K groups) and
      ``displacement_conv_layers_3`` (grouped 1x1 conv) give
      ``displacements`` (B, h, w, 2K), channel ``2k`` / ``2k + 1`` the x /
      y offset of keypoint k from the pixel (MMPose's channel order).

    Convolutions are initialised normal (std 0.001) and norms to one, as
    MMPose's default ``init_cfg``; the deformable convolutions keep MMCV's
    Kaiming-uniform init (MMPose's ``Normal`` init does not reach them).

    Losses (``loss_by_outputs``), MMPose's names: ``loss/heatmap``
    (``heatmap_loss`` with the pixel-wise ``heatmap_weights``, times
    ``heatmap_mask`` when the targets have it) and ``loss/displacement``
    (``displacement_loss`` with ``displacement_weights``).

    Inference is split (see ``BottomupPoseEstimator``): :meth:`predict`
    runs on the device (flip test as MMPose: heatmaps flipped with
    ``flip_indices + [K]`` and ``shift_heatmap``; displacements flipped in
    "offset" mode, their x channels amended by ``(s - 1) / s`` with ``s``
    the input-to-heatmap width ratio, then averaged), the codec's
    ``SPR.decode_device`` and, with ``rescore_cfg`` and skeleton links,
    the :class:`RescoreNet` (root scores times the predicted OKS, NaN ->
    0). :meth:`postprocess` runs on the host: ``SPR.decode_host``, pose
    NMS (``nearby_joints_nms`` when ``test_cfg["nms_dist_thr"] > 0``,
    ``max_num_people`` (30) instances at most, MMPose's order) and the
    final scores ``root_score * keypoint_scores``. As in MMPose,
    ``multiscale_test`` is not implemented for decoding. Unlike MMPose,
    batches of several images are supported.

    Args:
        in_channels: channels of the last feature map.
        num_keypoints: K.
        num_heatmap_filters: channels of the heatmap branch.
        num_displacement_filters_per_keypoint: channels per keypoint of
            the displacement branch.
        heatmap_loss: heatmap loss config (``KeypointMSELoss``).
        displacement_loss: displacement loss config
            (``SoftWeightSmoothL1Loss``).
        decoder: ``SPR`` codec config.
        rescore_cfg: ``RescoreNet`` arguments (``in_channels``,
            ``norm_indexes``, ``init_cfg``), or None for no rescoring.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="DEKRHead", in_channels=8,
    ...     num_keypoints=2, num_heatmap_filters=4,
    ...     num_displacement_filters_per_keypoint=2))
    >>> heatmaps, displacements = head((np.zeros((1, 6, 6, 8), "float32"),))
    >>> heatmaps.shape, displacements.shape
    ((1, 6, 6, 3), (1, 6, 6, 4))
    """

    def __init__(
        self,
        in_channels,
        num_keypoints,
        num_heatmap_filters=32,
        num_displacement_filters_per_keypoint=15,
        heatmap_loss=dict(  # noqa: B006 (MMPose default)
            type="KeypointMSELoss", use_target_weight=True
        ),
        displacement_loss=dict(  # noqa: B006 (MMPose default)
            type="SoftWeightSmoothL1Loss",
            use_target_weight=True,
            supervise_empty=False,
        ),
        decoder=None,
        rescore_cfg=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(decoder=decoder, **kwargs)
        warn_unloadable_init_cfg(init_cfg, "DEKRHead")
        self.in_channels = in_channels
        self.num_keypoints = int(num_keypoints)
        self.num_heatmap_filters = int(num_heatmap_filters)
        self.num_displacement_filters_per_keypoint = int(
            num_displacement_filters_per_keypoint
        )
        if self.num_keypoints < 1:
            raise ValueError(
                "Expected num_keypoints >= 1. Received: "
                f"num_keypoints={num_keypoints}"
            )
        k = self.num_keypoints
        dt = self.dtype_policy
        bn = dict(type="BN")

        hm0 = ConvModule(
            in_channels,
            self.num_heatmap_filters,
            1,
            norm_cfg=bn,
            name="heatmap_conv_layers_0",
            dtype=dt,
        )
        hm1 = ResidualBlock(
            self.num_heatmap_filters,
            zero_init_residual=False,
            name="heatmap_conv_layers_1",
            dtype=dt,
        )
        hm2 = Conv2d(
            1 + k,
            1,
            kernel_initializer=_normal(),
            name="heatmap_conv_layers_2",
            dtype=dt,
        )
        self.heatmap_conv_layers = [hm0, hm1, hm2]

        filters = k * self.num_displacement_filters_per_keypoint
        dp0 = ConvModule(
            in_channels,
            filters,
            1,
            norm_cfg=bn,
            name="displacement_conv_layers_0",
            dtype=dt,
        )
        dp1 = AdaptiveActivationBlock(
            filters,
            filters,
            groups=k,
            name="displacement_conv_layers_1",
            dtype=dt,
        )
        dp2 = AdaptiveActivationBlock(
            filters,
            filters,
            groups=k,
            name="displacement_conv_layers_2",
            dtype=dt,
        )
        dp3 = Conv2d(
            2 * k,
            1,
            groups=k,
            kernel_initializer=_normal(),
            name="displacement_conv_layers_3",
            dtype=dt,
        )
        self.displacement_conv_layers = [dp0, dp1, dp2, dp3]
        # MMPose's init_cfg: Normal(std=0.001) on every Conv2d.
        for conv in (hm0.conv, *hm1.convs, dp0.conv):
            conv.kernel_initializer = _normal()

        self.heatmap_loss_cfg = heatmap_loss
        self.displacement_loss_cfg = displacement_loss
        self.heatmap_loss_module = build(heatmap_loss)
        self.displacement_loss_module = build(displacement_loss)
        self.rescore_cfg = rescore_cfg
        if rescore_cfg is not None:
            self.rescore_net = RescoreNet(
                **dict(rescore_cfg), name="rescore_net", dtype=dt
            )
        else:
            self.rescore_net = None

    def build(self, input_shape):
        super().build(input_shape)
        if self.rescore_net is not None and not self.rescore_net.built:
            self.rescore_net.build((None, self.num_keypoints, 2))

    def call(self, feats, training=None):
        x = feats[-1] if isinstance(feats, list | tuple) else feats
        heatmaps = x
        for layer in self.heatmap_conv_layers:
            if isinstance(layer, Conv2d):
                heatmaps = layer(heatmaps)
            else:
                heatmaps = layer(heatmaps, training=training)
        displacements = x
        for layer in self.displacement_conv_layers:
            if isinstance(layer, Conv2d):
                displacements = layer(displacements)
            else:
                displacements = layer(displacements, training=training)
        return heatmaps, displacements

    # --- training ----------------------------------------------------------

    def log_names(self, train_cfg=None):
        return ["loss/heatmap", "loss/displacement"]

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        heatmaps, displacements = outputs
        owner = "DEKRHead.loss"
        gt_heatmaps = self._require(targets, "heatmaps", owner)
        heatmap_weights = self._require(targets, "heatmap_weights", owner)
        gt_disp = self._require(targets, "displacements", owner)
        disp_weights = self._require(targets, "displacement_weights", owner)
        for name, pred, gt in (
            ("heatmaps", heatmaps, gt_heatmaps),
            ("displacements", displacements, gt_disp),
        ):
            if tuple(pred.shape[1:]) != tuple(gt.shape[1:]):
                raise ValueError(
                    f"DEKRHead predicts {name} of shape "
                    f"{tuple(pred.shape[1:])} (h, w, C) but the targets "
                    f"have {tuple(gt.shape[1:])}: check num_keypoints, the "
                    "codec's heatmap_size and generate_keypoint_heatmaps."
                )
        # MMPose multiplies the pixel-wise weights into the mask; passing
        # their product as the mask gives the same numbers.
        mask = ops.cast(heatmap_weights, "float32")
        heatmap_mask = (
            targets.get("heatmap_mask") if isinstance(targets, dict) else None
        )
        if heatmap_mask is not None:
            mask = mask * ops.cast(heatmap_mask, "float32")[..., None]
        loss_heatmap = self.heatmap_loss_module(
            heatmaps, gt_heatmaps, None, mask
        )
        loss_disp = self.displacement_loss_module(
            displacements, gt_disp, disp_weights
        )
        return {"loss/heatmap": loss_heatmap, "loss/displacement": loss_disp}

    # --- inference ---------------------------------------------------------

    def predict(
        self,
        feats,
        test_cfg=None,
        flip_indices=None,
        input_size=None,
        aug_scales=None,
        skeleton_links=None,
    ):
        """Device stage of inference.

        Args:
            feats: features; ``[feats, feats_flipped]`` with ``flip_test``.
            test_cfg: MMPose's test options (``flip_test``,
                ``shift_heatmap``, ``multiscale_test``...).
            flip_indices: keypoint flip indices (flip test).
            input_size: (w, h) of the model input (flip test's x
                amendment; default: the decoder's ``input_size``).
            aug_scales: extra scales of a multi-scale test (MMPose raises
                NotImplementedError for it when decoding, and so do we).
            skeleton_links: the dataset's skeleton links, for the rescore
                net (no rescoring without them, as in MMPose).

        Returns:
            dict of tensors: ``SPR.decode_device``'s ``keypoints``
            (B, M, K, 2), ``root_scores`` (B, M) (rescored),
            ``keypoint_scores`` (B, M, K), ``instance_mask`` (B, M).
        """
        test_cfg = test_cfg or {}
        if test_cfg.get("multiscale_test", False):
            raise NotImplementedError(
                "DEKRHead does not decode multi-scale tests (neither does "
                "MMPose 1.3.2): set test_cfg['multiscale_test'] = False."
            )
        if self.decoder is None:
            raise ValueError(
                "DEKRHead has no decoder: pass decoder=dict(type='SPR', ...)."
            )
        if test_cfg.get("flip_test", False):
            if flip_indices is None:
                raise ValueError(
                    "flip_test needs flip_indices (the dataset metainfo's)."
                )
            if not isinstance(feats, list | tuple) or len(feats) != 2:
                raise ValueError("flip_test expects [feats, feats_flipped].")
            flip_indices = [int(i) for i in flip_indices]
            orig, flipped = feats
            heatmaps, displacements = self(orig, training=False)
            heatmaps_flip, disp_flip = self(flipped, training=False)
            heatmaps_flip = flip_heatmaps(
                heatmaps_flip,
                flip_indices=flip_indices + [len(flip_indices)],
                flip_mode="heatmap",
                shift_heatmap=test_cfg.get("shift_heatmap", False),
            )
            heatmaps = (heatmaps + heatmaps_flip) / 2.0
            disp_flip = flip_heatmaps(
                disp_flip,
                flip_indices=flip_indices,
                flip_mode="offset",
                shift_heatmap=False,
            )
            width = (
                input_size[0]
                if input_size is not None
                else self.decoder.input_size[0]
            )
            # MMPose's coordinate amendment of the flipped x offsets
            # (scale 1: the original scale).
            ratio = ops.cast(width, "float32") / float(heatmaps.shape[2])
            amend = (ratio - 1.0) / ratio
            k = self.num_keypoints
            is_x = ops.convert_to_tensor([1.0, 0.0] * k, disp_flip.dtype)
            disp_flip = disp_flip + ops.cast(amend, disp_flip.dtype) * is_x
            displacements = (displacements + disp_flip) / 2.0
        else:
            heatmaps, displacements = self(feats, training=False)
        preds = dict(self.decoder.decode_device(heatmaps, displacements))
        if self.rescore_net is not None and skeleton_links:
            scores = self.rescore_net(
                preds["keypoints"],
                preds["keypoint_scores"],
                skeleton=[list(link) for link in skeleton_links],
            )
            scores = ops.cast(scores, "float32")
            scores = ops.where(ops.isnan(scores), 0.0, scores)
            preds["root_scores"] = preds["root_scores"] * scores
        if test_cfg.get("output_heatmaps", False):
            preds["heatmaps"] = heatmaps
            preds["displacements"] = displacements
        return preds

    def postprocess(self, device_preds, test_cfg=None):
        """Host stage: ``SPR.decode_host``, pose NMS and final scores.

        Args:
            device_preds: :meth:`predict`'s dict as NumPy arrays.
            test_cfg: ``nms_dist_thr`` (NMS when > 0), ``nms_joints_thr``,
                ``max_num_people`` (30).

        Returns:
            dict of NumPy arrays padded to M instances (kept ones first):
            ``keypoints`` (B, M, K, 2) in model-input pixels,
            ``keypoint_scores`` (B, M, K) (root score times keypoint
            score, MMPose's output) and ``instance_mask`` (B, M).
        """
        test_cfg = test_cfg or {}
        host = self.decoder.decode_host(
            {
                key: np.asarray(device_preds[key])
                for key in (
                    "keypoints",
                    "root_scores",
                    "keypoint_scores",
                    "instance_mask",
                )
            }
        )
        keypoints = host["keypoints"]
        kpt_scores = host["keypoint_scores"]
        root = host["root_scores"]
        mask = host["instance_mask"]
        batch, m = mask.shape
        out_kpts = np.zeros_like(keypoints)
        out_scores = np.zeros_like(kpt_scores)
        out_mask = np.zeros_like(mask)
        dist_thr = test_cfg.get("nms_dist_thr", 0)
        for b in range(batch):
            n = int(mask[b].sum())
            keep = np.arange(n)
            if n > 0 and dist_thr > 0:
                from keraspose.evaluation.functional.nms import (
                    nearby_joints_nms,
                )

                kpts_db = [
                    dict(keypoints=keypoints[b, i], score=kpt_scores[b, i])
                    for i in range(n)
                ]
                keep = np.asarray(
                    nearby_joints_nms(
                        kpts_db,
                        dist_thr,
                        test_cfg.get("nms_joints_thr", None),
                        score_per_joint=True,
                        max_dets=test_cfg.get("max_num_people", 30),
                    ),
                    dtype=np.int64,
                ).reshape(-1)
            keep = keep[:m]
            count = len(keep)
            out_kpts[b, :count] = keypoints[b, keep]
            out_scores[b, :count] = root[b, keep][:, None] * kpt_scores[b, keep]
            out_mask[b, :count] = True
        return dict(
            keypoints=out_kpts.astype(np.float32),
            keypoint_scores=out_scores.astype(np.float32),
            instance_mask=out_mask.astype(bool),
        )

    def decode(self, outputs):
        """Both decoding stages on raw ``(heatmaps, displacements)``
        outputs (no rescoring, no NMS)."""
        heatmaps, displacements = outputs
        return self.decoder.decode(heatmaps, displacements)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            num_keypoints=self.num_keypoints,
            num_heatmap_filters=self.num_heatmap_filters,
            num_displacement_filters_per_keypoint=(
                self.num_displacement_filters_per_keypoint
            ),
            heatmap_loss=to_config(self.heatmap_loss_module),
            displacement_loss=to_config(self.displacement_loss_module),
            decoder=to_config(self.decoder),
            rescore_cfg=self.rescore_cfg,
        )
        return config

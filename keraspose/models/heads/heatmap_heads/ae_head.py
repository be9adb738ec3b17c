"""Associative embedding head (heatmaps + tags) for bottom-up pose."""

from keras import ops

from keraspose.models.heads.heatmap_heads.heatmap_head import HeatmapHead
from keraspose.models.utils.resize import interpolate
from keraspose.models.utils.tta import flip_heatmaps
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config


def aggregate_heatmaps(
    heatmaps, size=None, align_corners=False, mode="average"
):
    """Resizes heatmaps to one size and averages or concatenates them.

    MMPose's ``aggregate_heatmaps``, channels-last: every (B, H, W, C) map
    whose size differs from ``size`` (w, h) (default: the first map's) is
    resized bilinearly (PyTorch's ``F.interpolate`` semantics), then the
    maps are averaged (``mode="average"``, equal channel counts) or
    concatenated along the channels (``mode="concat"``).

    Args:
        heatmaps: list of (B, H, W, C) tensors.
        size: target (w, h), or None for the first map's size.
        align_corners: ``align_corners`` of the bilinear resize.
        mode: "average" or "concat".

    Returns:
        The aggregated (B, h, w, C') tensor.

    Example:

    >>> import numpy as np
    >>> a = np.ones((1, 2, 2, 1), "float32")
    >>> b = np.zeros((1, 4, 4, 1), "float32")
    >>> aggregate_heatmaps([a, b], size=(4, 4)).shape
    (1, 4, 4, 1)
    """
    if mode not in ("average", "concat"):
        raise ValueError(
            f"Expected mode 'average' or 'concat'. Received: mode={mode!r}"
        )
    if size is None:
        h, w = heatmaps[0].shape[1], heatmaps[0].shape[2]
    else:
        w, h = size
    out = []
    for maps in heatmaps:
        if len(maps.shape) != 4:
            raise ValueError(
                "aggregate_heatmaps expects (B, H, W, C) tensors. Received "
                f"shape {tuple(maps.shape)}"
            )
        if mode == "average" and maps.shape[-1] != heatmaps[0].shape[-1]:
            raise ValueError(
                "Averaged heatmaps need equal channel counts. Received "
                f"{[tuple(m.shape) for m in heatmaps]}"
            )
        if (maps.shape[1], maps.shape[2]) != (h, w):
            maps = interpolate(
                maps, size=(h, w), mode="bilinear", align_corners=align_corners
            )
        out.append(maps)
    if mode == "average":
        total = out[0]
        for maps in out[1:]:
            total = total + maps
        return total / float(len(out))
    return ops.concatenate(out, axis=-1)


@register
class AssociativeEmbeddingHead(HeatmapHead):
    """Heatmaps and grouping tags for bottom-up pose estimation.

    Reference: Newell et al., "Associative Embedding: End-to-End Learning
    for Joint Detection and Grouping", NeurIPS 2017. MMPose's
    ``AssociativeEmbeddingHead``: a :class:`HeatmapHead` (same layers and
    names: ``deconv_layers_*``, ``conv_layers_*``, ``final_layer``) whose
    single final convolution outputs ``K * (1 + tag_dim)`` channels
    (``K + tag_dim`` without ``tag_per_keypoint``); ``call`` splits them
    into ``heatmaps`` (B, h, w, K) and ``tags`` (B, h, w, C - K), tag
    channel ``l * K + k`` (MMPose's order).

    Losses (``loss_by_outputs``), named as MMPose: ``loss_kpt`` (the
    ``keypoint_loss`` on the heatmaps, masked by ``heatmap_mask``) and
    ``loss_pull`` / ``loss_push`` (the ``tag_loss``). Targets: ``heatmaps``
    (B, h, w, K), ``keypoint_indices`` (B, M, K, 2), ``keypoint_weights``
    (B, M, K) and optionally ``heatmap_mask`` (B, h, w). MMPose quirk:
    it concatenates the per-instance weights of the batch, (sum N, K), and
    passes them as (B, K) keypoint weights, which only works when every
    image holds exactly one instance; keraspose passes the per-image
    maximum over instances (a keypoint channel counts when any instance
    has it), equal to MMPose in that case. Without ``tag_per_keypoint``
    the tags are tiled K times along the channels, as MMPose repeats them.

    ``predict`` follows MMPose's test-time options (``test_cfg``):
    ``flip_test`` (feats ``[feats, feats_flipped]``: heatmaps flipped with
    ``flip_indices`` and averaged; flipped tags, keypoints swapped within
    each tag dimension, concatenated after the original tags, so the
    decoder sees ``2 * tag_dim`` tags), ``shift_heatmap``,
    ``multiscale_test`` (feats: one entry per scale, original first;
    heatmaps averaged at the first scale's size, tags of the original
    scale only), ``restore_heatmap_size`` (resize to the input size,
    ``input_size`` (w, h); as in MMPose it only acts with ``flip_test``),
    ``align_corners``. It returns the decoder's device stage
    (``AssociativeEmbedding.decode_device``); ``postprocess`` runs its
    host stage.

    Args:
        in_channels: channels of the last feature map.
        num_keypoints: K.
        tag_dim: tag dimensions L.
        tag_per_keypoint: one tag map per keypoint (else L shared maps).
        deconv_out_channels: see :class:`HeatmapHead`.
        deconv_kernel_sizes: see :class:`HeatmapHead`.
        conv_out_channels: see :class:`HeatmapHead`.
        conv_kernel_sizes: see :class:`HeatmapHead`.
        final_layer: see :class:`HeatmapHead`; None uses the features
            as outputs (they need ``K * (1 + tag_dim)`` channels).
        keypoint_loss: heatmap loss config (``KeypointMSELoss``).
        tag_loss: tag loss config (``AssociativeEmbeddingLoss``).
        decoder: ``AssociativeEmbedding`` codec config.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="AssociativeEmbeddingHead",
    ...     in_channels=8, num_keypoints=3, deconv_out_channels=None))
    >>> heatmaps, tags = head((np.zeros((1, 4, 4, 8), "float32"),))
    >>> heatmaps.shape, tags.shape
    ((1, 4, 4, 3), (1, 4, 4, 3))
    """

    def __init__(
        self,
        in_channels,
        num_keypoints,
        tag_dim=1,
        tag_per_keypoint=True,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        conv_out_channels=None,
        conv_kernel_sizes=None,
        final_layer=dict(kernel_size=1),  # noqa: B006 (MMPose default)
        keypoint_loss=dict(type="KeypointMSELoss"),  # noqa: B006
        tag_loss=dict(type="AssociativeEmbeddingLoss"),  # noqa: B006
        decoder=None,
        init_cfg=None,
        **kwargs,
    ):
        num_keypoints = int(num_keypoints)
        tag_dim = int(tag_dim)
        if num_keypoints < 1 or tag_dim < 1:
            raise ValueError(
                "Expected positive num_keypoints and tag_dim. Received: "
                f"num_keypoints={num_keypoints}, tag_dim={tag_dim}"
            )
        if tag_per_keypoint:
            out_channels = num_keypoints * (1 + tag_dim)
        else:
            out_channels = num_keypoints + tag_dim
        super().__init__(
            in_channels=in_channels,
            out_channels=out_channels,
            deconv_out_channels=deconv_out_channels,
            deconv_kernel_sizes=deconv_kernel_sizes,
            conv_out_channels=conv_out_channels,
            conv_kernel_sizes=conv_kernel_sizes,
            final_layer=final_layer,
            loss=keypoint_loss,
            decoder=decoder,
            init_cfg=init_cfg,
            **kwargs,
        )
        self._num_keypoints = num_keypoints
        self.tag_dim = tag_dim
        self.tag_per_keypoint = bool(tag_per_keypoint)
        self.keypoint_loss_module = self.loss_module
        self.tag_loss_module = build(tag_loss)

    @property
    def num_keypoints(self):
        """K, the number of keypoint heatmaps."""
        return self._num_keypoints

    def call(self, feats, training=None):
        output = super().call(feats, training=training)
        if output.shape[-1] != self.out_channels:
            raise ValueError(
                f"AssociativeEmbeddingHead expects {self.out_channels} "
                "output channels (K heatmaps + tags); the features give "
                f"{output.shape[-1]}. With final_layer=None the last "
                "feature map must have that many channels."
            )
        k = self._num_keypoints
        return output[..., :k], output[..., k:]

    # --- training ----------------------------------------------------------

    def log_names(self, train_cfg=None):
        return ["loss_kpt", "loss_pull", "loss_push"]

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        heatmaps, tags = outputs
        owner = "AssociativeEmbeddingHead.loss"
        gt = self._require(targets, "heatmaps", owner)
        indices = self._require(targets, "keypoint_indices", owner)
        weights = self._require(targets, "keypoint_weights", owner)
        if heatmaps.shape[-1] != gt.shape[-1]:
            raise ValueError(
                f"AssociativeEmbeddingHead predicts {heatmaps.shape[-1]} "
                f"keypoints but the target heatmaps have {gt.shape[-1]}: "
                "set num_keypoints to the dataset's keypoint count."
            )
        if tuple(heatmaps.shape[1:3]) != tuple(gt.shape[1:3]):
            raise ValueError(
                "AssociativeEmbeddingHead outputs heatmaps of size "
                f"{tuple(heatmaps.shape[1:3])} (H, W) but the targets are "
                f"{tuple(gt.shape[1:3])}: check the codec's heatmap_size."
            )
        mask = (
            targets.get("heatmap_mask") if isinstance(targets, dict) else None
        )
        if mask is not None:
            mask = ops.cast(mask, "float32")[..., None]  # (B, h, w, 1)
        weights = ops.cast(weights, "float32")
        if len(weights.shape) == 3:  # (B, M, K) -> (B, K), see docstring
            weights = ops.max(weights, axis=1)
        loss_kpt = self.keypoint_loss_module(heatmaps, gt, weights, mask)
        if not self.tag_per_keypoint:
            tags = ops.tile(tags, (1, 1, 1, self._num_keypoints))
        loss_pull, loss_push = self.tag_loss_module(tags, indices)
        return {
            "loss_kpt": loss_kpt,
            "loss_pull": loss_pull,
            "loss_push": loss_push,
        }

    # --- inference ---------------------------------------------------------

    def _flip_tags(self, tags, flip_indices, shift_heatmap=True):
        """Flips tag maps of the flipped image back (MMPose's
        ``_flip_tags``): mirror x, swap keypoints within each tag
        dimension (with ``tag_per_keypoint``), optionally shift by one
        pixel."""
        tags = ops.flip(tags, axis=2)
        if self.tag_per_keypoint:
            k, dim = self._num_keypoints, self.tag_dim
            if len(flip_indices) != k:
                raise ValueError(
                    f"Expected {k} flip_indices (one per keypoint). "
                    f"Received {len(flip_indices)}: {list(flip_indices)}"
                )
            shape = ops.shape(tags)
            grouped = ops.reshape(tags, (shape[0], shape[1], shape[2], dim, k))
            grouped = ops.take(grouped, list(flip_indices), axis=4)
            tags = ops.reshape(grouped, shape)
        if shift_heatmap:
            tags = ops.concatenate([tags[:, :, :1], tags[:, :, :-1]], axis=2)
        return tags

    def predict(
        self,
        feats,
        test_cfg=None,
        flip_indices=None,
        input_size=None,
        aug_scales=None,
    ):
        """Device stage of inference: merged maps, then the decoder's
        ``decode_device``.

        Args:
            feats: features (a tuple of maps); ``[feats, feats_flipped]``
                with ``flip_test``; a list with one such entry per scale
                with ``multiscale_test``.
            test_cfg: MMPose's test options (see the class docstring).
            flip_indices: keypoint flip indices (flip test).
            input_size: (w, h) of the model input, for
                ``restore_heatmap_size``.
            aug_scales: accepted from the estimator (unused: the
                features' sizes give the scales).

        Returns:
            dict of tensors: ``AssociativeEmbedding.decode_device``'s
            (``topk_vals``, ``topk_tags``, ``topk_locs``, ``heatmaps``,
            ``tags``).
        """
        test_cfg = test_cfg or {}
        multiscale = test_cfg.get("multiscale_test", False)
        flip_test = test_cfg.get("flip_test", False)
        shift_heatmap = test_cfg.get("shift_heatmap", False)
        align_corners = test_cfg.get("align_corners", False)
        if flip_test and flip_indices is None:
            raise ValueError(
                "flip_test needs flip_indices (the dataset metainfo's)."
            )
        size = None
        if test_cfg.get("restore_heatmap_size", False):
            if input_size is None:
                raise ValueError(
                    "test_cfg['restore_heatmap_size'] needs the model "
                    "input size: pass input_size=(w, h) to predict."
                )
            size = tuple(int(s) for s in input_size)
        scales = list(feats) if multiscale else [feats]
        all_heatmaps, all_tags = [], []
        for index, scale_feats in enumerate(scales):
            if not flip_test:
                heatmaps, tags = self(scale_feats, training=False)
            else:
                if not isinstance(scale_feats, list | tuple) or (
                    len(scale_feats) != 2
                ):
                    raise ValueError(
                        "flip_test expects [feats, feats_flipped] per scale."
                    )
                orig, flipped = scale_feats
                heatmaps, tags = self(orig, training=False)
                heatmaps_flip, tags_flip = self(flipped, training=False)
                heatmaps_flip = flip_heatmaps(
                    heatmaps_flip,
                    flip_indices=flip_indices,
                    flip_mode="heatmap",
                    shift_heatmap=shift_heatmap,
                )
                tags_flip = self._flip_tags(
                    tags_flip, flip_indices, shift_heatmap=shift_heatmap
                )
                heatmaps = aggregate_heatmaps(
                    [heatmaps, heatmaps_flip],
                    size=size,
                    align_corners=align_corners,
                    mode="average",
                )
                if index == 0:
                    tags = aggregate_heatmaps(
                        [tags, tags_flip],
                        size=size,
                        align_corners=align_corners,
                        mode="concat",
                    )
                else:
                    tags = None
            all_heatmaps.append(heatmaps)
            all_tags.append(tags)
        if len(all_heatmaps) > 1:
            heatmaps = aggregate_heatmaps(
                all_heatmaps, align_corners=align_corners, mode="average"
            )
        else:
            heatmaps = all_heatmaps[0]
        tags = all_tags[0]
        if self.decoder is None:
            raise ValueError(
                "AssociativeEmbeddingHead has no decoder: pass "
                "decoder=dict(type='AssociativeEmbedding', ...)."
            )
        return dict(self.decoder.decode_device(heatmaps, tags))

    def postprocess(self, device_preds, test_cfg=None):
        """Host stage: ``AssociativeEmbedding.decode_host`` (grouping,
        refinement, filling), batched.

        Args:
            device_preds: :meth:`predict`'s dict as NumPy arrays (other
                keys are ignored).
            test_cfg: unused (kept for the head contract).

        Returns:
            dict of NumPy arrays padded to M instances: ``keypoints``
            (B, M, K, 2) in model-input pixels, ``keypoint_scores``
            (B, M, K), ``bbox_scores`` (B, M), ``instance_mask`` (B, M).
        """
        return self.decoder.decode_host(device_preds)

    def decode(self, outputs):
        """Both decoding stages on raw ``(heatmaps, tags)`` outputs."""
        heatmaps, tags = outputs
        return self.decoder.decode(heatmaps, tags)

    def get_config(self):
        config = super().get_config()
        for key in ("out_channels", "loss"):
            config.pop(key)
        config.update(
            num_keypoints=self._num_keypoints,
            tag_dim=self.tag_dim,
            tag_per_keypoint=self.tag_per_keypoint,
            keypoint_loss=to_config(self.keypoint_loss_module),
            tag_loss=to_config(self.tag_loss_module),
        )
        return config

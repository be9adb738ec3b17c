"""Top-down pose estimator: one person per cropped input image."""

from keras import ops

from keraspose.models.pose_estimators.base import BasePoseEstimator
from keraspose.registry import register


@register
class TopdownPoseEstimator(BasePoseEstimator):
    """Top-down pose estimation (MMPose's ``TopdownPoseEstimator``).

    Each input image is a person crop warped to the model input size.
    ``model.predict(x)`` returns a dict with ``keypoints`` (N, K, 2),
    ``keypoint_scores`` (N, K) and, with a ``VisPredictHead``,
    ``keypoints_visible`` (N, K). When ``x`` carries ``input_center`` and
    ``input_scale`` (N, 2), keypoints are mapped back to the original image
    with ``kpt / input_size * input_scale + input_center - 0.5 * input_scale``
    (MMPose's ``add_pred_to_datasample``); otherwise they are in model-input
    pixels.

    With ``test_cfg["flip_test"]`` the preprocessed images are also run
    flipped and the head merges both passes (``flip_mode``,
    ``shift_heatmap``), using the metainfo's ``flip_indices``.

    See :class:`BasePoseEstimator` for the arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> model = keraspose.build(dict(
    ...     type="TopdownPoseEstimator",
    ...     backbone=dict(type="ResNet", depth=18, base_channels=8,
    ...                   stem_channels=8),
    ...     head=dict(type="HeatmapHead", in_channels=64, out_channels=3,
    ...               deconv_out_channels=(16,), deconv_kernel_sizes=(4,),
    ...               decoder=dict(type="MSRAHeatmap", input_size=(64, 64),
    ...                            heatmap_size=(4, 4), sigma=1))))
    >>> out = model.predict(np.zeros((2, 64, 64, 3), "float32"), verbose=0)
    >>> out["keypoints"].shape, out["keypoint_scores"].shape
    ((2, 3, 2), (2, 3))
    """

    def predict_from_inputs(self, inputs):
        images = self._images(inputs)
        x = self.data_preprocessor(images)
        flip_test = self.test_cfg.get("flip_test", False)
        if flip_test:
            feats = [
                self.extract_feat(x, False),
                self.extract_feat(ops.flip(x, axis=2), False),
            ]
            preds = self.head.predict(feats, self.test_cfg, self.flip_indices)
        else:
            preds = self.head.predict(
                self.extract_feat(x, False), self.test_cfg
            )
        decoder = self.head.decoder
        input_size = tuple(decoder.input_size) if decoder is not None else None
        image_size = (images.shape[2], images.shape[1])
        if input_size is not None and input_size != image_size:
            raise ValueError(
                f"Images are {image_size[0]}x{image_size[1]} (w x h) but the "
                f"head's codec expects input_size {input_size}; resize or "
                "warp the crops to the codec's input size."
            )
        if isinstance(inputs, dict) and "input_center" in inputs:
            if "input_scale" not in inputs:
                raise ValueError(
                    "Back-projection needs both 'input_center' and "
                    "'input_scale'; the input dict has only 'input_center'."
                )
            center = ops.cast(inputs["input_center"], "float32")[:, None, :]
            scale = ops.cast(inputs["input_scale"], "float32")[:, None, :]
            size = ops.convert_to_tensor(
                [float(image_size[0]), float(image_size[1])], "float32"
            )
            kpts = preds["keypoints"]
            preds["keypoints"] = kpts / size * scale + center - 0.5 * scale
        return preds

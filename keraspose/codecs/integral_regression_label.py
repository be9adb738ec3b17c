"""Normalised coordinates plus normalised heatmaps (integral regression)."""

import numpy as np

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.msra_heatmap import MSRAHeatmap
from keraspose.codecs.regression_label import decode_regression_outputs
from keraspose.codecs.regression_label import encode_regression_labels
from keraspose.registry import register


@register
class IntegralRegressionLabel(BaseKeypointCodec):
    """Regression labels and (sum-normalised) Gaussian heatmaps.

    References: Sun et al., "Integral Human Pose Regression", ECCV 2018;
    Nibali et al., "Numerical Coordinate Regression with Convolutional
    Neural Networks" (DSNT), 2018.

    As MMPose 1.x: ``keypoint_labels`` and ``keypoint_weights`` are those of
    :class:`RegressionLabel` (the weights mark visible, in-image keypoints;
    the heatmap codec's weights are discarded), ``heatmaps`` are
    :class:`MSRAHeatmap`'s, each channel divided by its sum plus ``1e-24``
    when ``normalize`` (an empty channel stays zero). ``decode`` is
    :class:`RegressionLabel`'s.

    Args:
        input_size: model input size (w, h).
        heatmap_size: heatmap size (W, H).
        sigma: Gaussian sigma in heatmap pixels.
        unbiased: DARK (sub-pixel) Gaussian heatmaps.
        blur_kernel_size: DARK modulation kernel size (kept for MMPose
            compatibility; decoding does not use heatmaps).
        normalize: normalise every heatmap channel to sum 1.

    Example:

    >>> import numpy as np
    >>> codec = IntegralRegressionLabel(input_size=(64, 64),
    ...     heatmap_size=(16, 16), sigma=2)
    >>> enc = codec.encode(np.array([[[32.0, 16.0]]]))
    >>> enc["heatmaps"].shape, round(float(enc["heatmaps"].sum()), 4)
    ((16, 16, 1), 1.0)
    >>> enc["keypoint_labels"].tolist()
    [[[0.5, 0.25]]]
    """

    label_keys = ("keypoint_labels", "keypoint_weights")
    field_keys = ("heatmaps",)

    def __init__(
        self,
        input_size,
        heatmap_size,
        sigma,
        unbiased=False,
        blur_kernel_size=11,
        normalize=True,
    ):
        self.heatmap_codec = MSRAHeatmap(
            input_size, heatmap_size, sigma, unbiased, blur_kernel_size
        )
        self.input_size = self.heatmap_codec.input_size
        self.heatmap_size = self.heatmap_codec.heatmap_size
        self.sigma = self.heatmap_codec.sigma
        self.unbiased = self.heatmap_codec.unbiased
        self.blur_kernel_size = self.heatmap_codec.blur_kernel_size
        self.normalize = bool(normalize)

    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one sample (N=1 instance) into labels and heatmaps.

        Args:
            keypoints: (1, K, 2) keypoints in model-input pixels.
            keypoints_visible: (1, K) visibility, or None.

        Returns:
            dict with ``keypoint_labels`` (1, K, 2), ``heatmaps`` (H, W, K)
            and ``keypoint_weights`` (1, K).
        """
        heatmaps = self.heatmap_codec.encode(keypoints, keypoints_visible)[
            "heatmaps"
        ]
        labels, weights = encode_regression_labels(
            keypoints, keypoints_visible, self.input_size
        )
        if self.normalize:
            total = heatmaps.sum(axis=(0, 1), keepdims=True) + np.float32(1e-24)
            heatmaps = (heatmaps / total).astype(np.float32)
        return dict(
            keypoint_labels=labels, heatmaps=heatmaps, keypoint_weights=weights
        )

    def decode(self, encoded):
        """Decodes normalised coordinates, as :class:`RegressionLabel`.

        Args:
            encoded: (B, K, 2) normalised coordinates (or (B, K, 4)).

        Returns:
            ``(keypoints (B, K, 2), scores (B, K))`` in model-input pixels.
        """
        return decode_regression_outputs(
            encoded, self.input_size, "IntegralRegressionLabel"
        )

    def get_config(self):
        return dict(
            input_size=self.input_size,
            heatmap_size=self.heatmap_size,
            sigma=self.sigma,
            unbiased=self.unbiased,
            blur_kernel_size=self.blur_kernel_size,
            normalize=self.normalize,
        )

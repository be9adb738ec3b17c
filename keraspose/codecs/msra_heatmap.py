"""MSRA Gaussian heatmap codec (SimpleBaseline, DARK)."""

import numpy as np
from keras import ops

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.base import check_keypoints
from keraspose.codecs.utils.gaussian_heatmap import generate_gaussian_heatmaps
from keraspose.codecs.utils.gaussian_heatmap import (
    generate_unbiased_gaussian_heatmaps,
)
from keraspose.codecs.utils.post_processing import get_heatmap_maximum
from keraspose.codecs.utils.post_processing import refine_keypoints
from keraspose.codecs.utils.post_processing import refine_keypoints_dark
from keraspose.registry import register
from keraspose.utils.checks import size_pair


@register
class MSRAHeatmap(BaseKeypointCodec):
    """Keypoints as Gaussian heatmaps, the "MSRA" way.

    References: Xiao et al., "Simple Baselines for Human Pose Estimation and
    Tracking", ECCV 2018; with ``unbiased=True``, Zhang et al.,
    "Distribution-Aware Coordinate Representation for Human Pose
    Estimation" (DARK), CVPR 2020.

    Numbers follow MMPose 1.x exactly, quirks included: the Gaussian window
    is centred on ``int(keypoint + 0.5)`` (truncation toward zero), a keypoint
    whose window lies fully outside the heatmap gets weight 0, and the plain
    decoder shifts the maximum by a quarter pixel toward the higher
    neighbour only when ``1 < x < W - 1`` (sic) for x.

    Args:
        input_size: model input size (w, h).
        heatmap_size: heatmap size (W, H).
        sigma: Gaussian sigma in heatmap pixels.
        unbiased: DARK encoding (sub-pixel Gaussian) and decoding.
        blur_kernel_size: DARK modulation kernel size (11 for sigma 2).

    Example:

    >>> import numpy as np
    >>> codec = MSRAHeatmap(input_size=(192, 256), heatmap_size=(48, 64),
    ...                     sigma=2)
    >>> enc = codec.encode(np.array([[[96.0, 128.0]]]))
    >>> enc["heatmaps"].shape, enc["keypoint_weights"].shape
    ((64, 48, 1), (1, 1))
    >>> kpts, scores = codec.decode(enc["heatmaps"][None])
    >>> np.asarray(kpts).round(1).tolist()
    [[[96.0, 128.0]]]
    """

    field_keys = ("heatmaps",)

    def __init__(
        self,
        input_size,
        heatmap_size,
        sigma,
        unbiased=False,
        blur_kernel_size=11,
    ):
        self.input_size = size_pair(input_size, "input_size")
        self.heatmap_size = size_pair(heatmap_size, "heatmap_size")
        if not sigma > 0:
            raise ValueError(f"Expected sigma > 0. Received: sigma={sigma!r}")
        self.sigma = float(sigma)
        self.unbiased = bool(unbiased)
        if int(blur_kernel_size) % 2 != 1:
            raise ValueError(
                "Expected an odd blur_kernel_size. Received: "
                f"blur_kernel_size={blur_kernel_size!r}"
            )
        self.blur_kernel_size = int(blur_kernel_size)
        self.scale_factor = (
            np.array(self.input_size) / self.heatmap_size
        ).astype(np.float32)

    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one sample's keypoints (N=1 instance) into heatmaps.

        Args:
            keypoints: (1, K, 2) keypoints in model-input pixels.
            keypoints_visible: (1, K) visibility, or None.

        Returns:
            dict with ``heatmaps`` (H, W, K) and ``keypoint_weights`` (1, K).
        """
        keypoints, keypoints_visible = check_keypoints(
            keypoints, keypoints_visible, "MSRAHeatmap"
        )
        if keypoints.shape[0] != 1:
            raise ValueError(
                "MSRAHeatmap only supports single-instance encoding "
                f"(keypoints of shape (1, K, 2)). Received shape "
                f"{keypoints.shape}"
            )
        generate = (
            generate_unbiased_gaussian_heatmaps
            if self.unbiased
            else generate_gaussian_heatmaps
        )
        heatmaps, weights = generate(
            self.heatmap_size,
            keypoints / self.scale_factor,
            keypoints_visible,
            self.sigma,
        )
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def decode(self, encoded):
        """Decodes heatmaps into keypoints in model-input pixels.

        Args:
            encoded: heatmaps (B, H, W, K), or (H, W, K) for one sample.

        Returns:
            ``(keypoints (B, K, 2), scores (B, K))``; for an unbatched input
            B is 1 (MMPose's (N, K, 2) with N=1).
        """
        heatmaps = ops.cast(ops.convert_to_tensor(encoded), "float32")
        if len(heatmaps.shape) == 3:
            heatmaps = heatmaps[None]
        if len(heatmaps.shape) != 4:
            raise ValueError(
                "MSRAHeatmap.decode expects heatmaps of shape (B, H, W, K). "
                f"Received shape {tuple(heatmaps.shape)}"
            )
        keypoints, scores = get_heatmap_maximum(heatmaps)
        if self.unbiased:
            keypoints = refine_keypoints_dark(
                keypoints, heatmaps, self.blur_kernel_size
            )
        else:
            keypoints = refine_keypoints(keypoints, heatmaps)
        keypoints = keypoints * ops.convert_to_tensor(self.scale_factor)
        return keypoints, scores

    def get_config(self):
        return dict(
            input_size=self.input_size,
            heatmap_size=self.heatmap_size,
            sigma=self.sigma,
            unbiased=self.unbiased,
            blur_kernel_size=self.blur_kernel_size,
        )

"""Megvii heatmap codec (CPN, MSPN, RSN)."""

import numpy as np
from keras import ops

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.base import check_keypoints
from keraspose.codecs.utils.opencv_blur import blur_matrix
from keraspose.codecs.utils.opencv_blur import check_blur_kernel_size
from keraspose.codecs.utils.post_processing import gaussian_blur
from keraspose.codecs.utils.post_processing import get_heatmap_maximum
from keraspose.codecs.utils.refinement import refine_keypoints_megvii
from keraspose.registry import register
from keraspose.utils.checks import size_pair


@register
class MegviiHeatmap(BaseKeypointCodec):
    """Keypoints as blurred impulses scaled to 255, the "Megvii" way.

    References: Li et al., "Rethinking on Multi-Stage Networks for Human
    Pose Estimation" (MSPN), 2019; Chen et al., "Cascaded Pyramid Network
    for Multi-Person Pose Estimation" (CPN), CVPR 2018.

    Encoding puts a unit impulse at the integer keypoint, blurs it like
    ``cv2.GaussianBlur(map, (kernel_size, kernel_size), 0)`` (OpenCV's
    kernel and ``BORDER_REFLECT_101``, reproduced in NumPy) and scales the
    map so that the impulse's pixel is 255. Decoding modulates the heatmaps
    (DARK's max-preserving blur), takes the maximum, moves it a quarter
    pixel toward the higher neighbour plus half a pixel when it is not on
    the two-pixel border, and reports ``score = max / 255 + 0.5``.

    Numbers follow MMPose 1.x, quirks included: the impulse is at
    ``int(keypoint / scale)`` (truncation toward zero, so coordinates in
    (-1, 0) land on pixel 0); a keypoint outside the heatmap gets weight 0,
    an invisible one keeps its weight and an empty map; scores are offset by
    0.5. Where a heatmap channel is all zeros MMPose's blur divides 0 by 0
    (NaN); keraspose returns the (-1, -1) keypoint and score 0.5 instead.

    Args:
        input_size: model input size (w, h).
        heatmap_size: heatmap size (W, H).
        kernel_size: odd Gaussian kernel size (encoding and decoding).

    Example:

    >>> import numpy as np
    >>> codec = MegviiHeatmap(input_size=(192, 256), heatmap_size=(48, 64),
    ...                       kernel_size=11)
    >>> enc = codec.encode(np.array([[[96.0, 128.0]]]))
    >>> enc["heatmaps"].shape, float(enc["heatmaps"].max())
    ((64, 48, 1), 255.0)
    >>> kpts, scores = codec.decode(enc["heatmaps"][None])
    >>> np.asarray(kpts).tolist(), np.asarray(scores).tolist()
    ([[[98.0, 130.0]]], [[1.5]])
    """

    field_keys = ("heatmaps",)

    def __init__(self, input_size, heatmap_size, kernel_size):
        self.input_size = size_pair(input_size, "input_size")
        self.heatmap_size = size_pair(heatmap_size, "heatmap_size")
        self.kernel_size = check_blur_kernel_size(kernel_size, "kernel_size")
        self.scale_factor = (
            np.array(self.input_size) / self.heatmap_size
        ).astype(np.float32)
        w, h = self.heatmap_size
        self._blur_x = blur_matrix(w, self.kernel_size)
        self._blur_y = blur_matrix(h, self.kernel_size)

    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one sample's keypoints (N=1 instance) into heatmaps.

        Args:
            keypoints: (1, K, 2) keypoints in model-input pixels.
            keypoints_visible: (1, K) visibility, or None.

        Returns:
            dict with ``heatmaps`` (H, W, K) float32 (peaks of 255) and
            ``keypoint_weights`` (1, K).
        """
        keypoints, keypoints_visible = check_keypoints(
            keypoints, keypoints_visible, "MegviiHeatmap"
        )
        if keypoints.shape[0] != 1:
            raise ValueError(
                "MegviiHeatmap only supports single-instance encoding "
                f"(keypoints of shape (1, K, 2)). Received shape "
                f"{keypoints.shape}"
            )
        w, h = self.heatmap_size
        center = np.trunc(keypoints[0] / self.scale_factor)
        center = np.clip(center, -(2**31), 2**31).astype(np.int64)
        kx, ky = center[:, 0], center[:, 1]
        labelled = keypoints_visible[0] >= 0.5
        inside = (kx >= 0) & (kx < w) & (ky >= 0) & (ky < h)
        weights = keypoints_visible.copy()
        weights[0] = np.where(labelled & ~inside, 0.0, weights[0])
        active = labelled & inside
        kx, ky = np.where(active, kx, 0), np.where(active, ky, 0)
        col = self._blur_x[:, kx].T  # (K, W)
        row = self._blur_y[:, ky].T  # (K, H)
        maps = row[:, :, None] * col[:, None, :]  # (K, H, W) float32
        peak = maps[np.arange(len(kx)), ky, kx]
        maps = maps / peak[:, None, None] * np.float32(255.0)
        maps = np.where(active[:, None, None], maps, np.float32(0.0))
        heatmaps = np.ascontiguousarray(maps.transpose(1, 2, 0), np.float32)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def decode(self, encoded):
        """Decodes heatmaps into keypoints in model-input pixels.

        Args:
            encoded: heatmaps (B, H, W, K), or (H, W, K) for one sample.

        Returns:
            ``(keypoints (B, K, 2), scores (B, K))``.
        """
        heatmaps = ops.cast(ops.convert_to_tensor(encoded), "float32")
        if len(heatmaps.shape) == 3:
            heatmaps = heatmaps[None]
        if len(heatmaps.shape) != 4:
            raise ValueError(
                "MegviiHeatmap.decode expects heatmaps of shape "
                f"(B, H, W, K). Received shape {tuple(heatmaps.shape)}"
            )
        heatmaps = gaussian_blur(heatmaps, self.kernel_size)
        keypoints, scores = get_heatmap_maximum(heatmaps)
        keypoints = refine_keypoints_megvii(keypoints, heatmaps)
        scores = scores / 255.0 + 0.5
        keypoints = keypoints * ops.convert_to_tensor(self.scale_factor)
        return keypoints, scores

    def get_config(self):
        return dict(
            input_size=self.input_size,
            heatmap_size=self.heatmap_size,
            kernel_size=self.kernel_size,
        )

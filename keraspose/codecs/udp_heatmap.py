"""UDP heatmap codec (Gaussian or combined disc + offset maps)."""

import numpy as np
from keras import ops

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.base import check_keypoints
from keraspose.codecs.utils.opencv_blur import check_blur_kernel_size
from keraspose.codecs.utils.post_processing import get_heatmap_maximum
from keraspose.codecs.utils.refinement import decode_udp_combined
from keraspose.codecs.utils.refinement import refine_keypoints_dark_udp
from keraspose.codecs.utils.udp import generate_offset_heatmap
from keraspose.codecs.utils.udp import generate_udp_gaussian_heatmaps
from keraspose.registry import register
from keraspose.utils.checks import size_pair

_TYPES = ("gaussian", "combined")


@register
class UDPHeatmap(BaseKeypointCodec):
    """Keypoints as heatmaps with Unbiased Data Processing (UDP).

    Reference: Huang et al., "The Devil is in the Details: Delving into
    Unbiased Data Processing for Human Pose Estimation", CVPR 2020.

    Coordinates map between the input and the heatmap with UDP's
    ``(input_size - 1) / (heatmap_size - 1)`` scale (pixel centres align).
    ``heatmap_type='gaussian'`` encodes sub-pixel Gaussians (H, W, K) and
    decodes with UDP's DARK refinement; ``heatmap_type='combined'`` encodes,
    per keypoint, a binary disc of radius ``radius_factor * max(W, H)`` and
    x / y offset maps divided by that radius, as (H, W, 3K) with MMPose's
    channel order ``[disc_0, x_0, y_0, disc_1, ...]`` (so flip test uses
    ``flip_mode='udp_combined'``), and decodes the blurred disc maximum plus
    the offsets there.

    Numbers follow MMPose 1.x, quirks included:

    * the decoder maps back with ``input_size / (heatmap_size - 1)``, not
      the encoder's ``(input_size - 1) / (heatmap_size - 1)``;
    * the Gaussian window is centred on ``int(keypoint + 0.5)`` (truncation
      toward zero); a keypoint whose window misses the heatmap gets weight
      0 (``gaussian`` only: ``combined`` keeps the weight of keypoints
      outside the heatmap);
    * keypoints whose heatmap has no positive maximum are still refined
      through MMPose's flat indexing (see
      :func:`~keraspose.codecs.utils.refinement.refine_keypoints_dark_udp`);
    * where a Gaussian heatmap channel is all zeros MMPose's blur divides
      0 by 0 and returns NaN; keraspose returns a finite keypoint instead.

    Args:
        input_size: model input size (w, h).
        heatmap_size: heatmap size (W, H), both at least 2.
        heatmap_type: "gaussian" or "combined".
        sigma: Gaussian sigma in heatmap pixels (``gaussian``).
        radius_factor: disc radius as a fraction of ``max(W, H)``
            (``combined``).
        blur_kernel_size: DARK modulation kernel size (``gaussian``); the
            disc maps are blurred with ``2 * blur_kernel_size + 1``
            (``combined``).

    Example:

    >>> import numpy as np
    >>> codec = UDPHeatmap(input_size=(192, 256), heatmap_size=(48, 64))
    >>> enc = codec.encode(np.array([[[95.5, 127.5]]]))
    >>> enc["heatmaps"].shape, enc["keypoint_weights"].tolist()
    ((64, 48, 1), [[1.0]])
    >>> kpts, scores = codec.decode(enc["heatmaps"][None])
    >>> np.asarray(kpts).round(1).tolist()
    [[[96.0, 128.0]]]
    """

    field_keys = ("heatmaps",)

    def __init__(
        self,
        input_size,
        heatmap_size,
        heatmap_type="gaussian",
        sigma=2.0,
        radius_factor=0.0546875,
        blur_kernel_size=11,
    ):
        self.input_size = size_pair(input_size, "input_size")
        self.heatmap_size = size_pair(heatmap_size, "heatmap_size")
        if min(self.heatmap_size) < 2:
            raise ValueError(
                "UDPHeatmap needs a heatmap of at least 2x2 pixels (it "
                "divides by heatmap_size - 1). Received: "
                f"heatmap_size={self.heatmap_size}"
            )
        if heatmap_type not in _TYPES:
            raise ValueError(
                f"Expected heatmap_type in {_TYPES}. Received: "
                f"heatmap_type={heatmap_type!r}"
            )
        self.heatmap_type = heatmap_type
        if not sigma > 0:
            raise ValueError(f"Expected sigma > 0. Received: sigma={sigma!r}")
        self.sigma = float(sigma)
        if not radius_factor > 0:
            raise ValueError(
                "Expected radius_factor > 0. Received: "
                f"radius_factor={radius_factor!r}"
            )
        self.radius_factor = float(radius_factor)
        self.blur_kernel_size = check_blur_kernel_size(
            blur_kernel_size, "blur_kernel_size"
        )
        self.scale_factor = (
            (np.array(self.input_size) - 1) / (np.array(self.heatmap_size) - 1)
        ).astype(np.float32)

    @property
    def num_channels_per_keypoint(self):
        """Heatmap channels per keypoint: 1 (gaussian) or 3 (combined)."""
        return 3 if self.heatmap_type == "combined" else 1

    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one sample's keypoints (N=1 instance) into heatmaps.

        Args:
            keypoints: (1, K, 2) keypoints in model-input pixels.
            keypoints_visible: (1, K) visibility, or None.

        Returns:
            dict with ``heatmaps`` (H, W, K) or (H, W, 3K) and
            ``keypoint_weights`` (1, K).
        """
        keypoints, keypoints_visible = check_keypoints(
            keypoints, keypoints_visible, "UDPHeatmap"
        )
        if keypoints.shape[0] != 1:
            raise ValueError(
                "UDPHeatmap only supports single-instance encoding "
                f"(keypoints of shape (1, K, 2)). Received shape "
                f"{keypoints.shape}"
            )
        scaled = keypoints / self.scale_factor
        if self.heatmap_type == "gaussian":
            heatmaps, weights = generate_udp_gaussian_heatmaps(
                self.heatmap_size, scaled, keypoints_visible, self.sigma
            )
        else:
            heatmaps, weights = generate_offset_heatmap(
                self.heatmap_size, scaled, keypoints_visible, self.radius_factor
            )
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def decode(self, encoded):
        """Decodes heatmaps into keypoints in model-input pixels.

        Args:
            encoded: heatmaps (B, H, W, C), or (H, W, C) for one sample;
                C = K (gaussian) or 3K (combined).

        Returns:
            ``(keypoints (B, K, 2), scores (B, K))``.
        """
        heatmaps = ops.cast(ops.convert_to_tensor(encoded), "float32")
        if len(heatmaps.shape) == 3:
            heatmaps = heatmaps[None]
        if len(heatmaps.shape) != 4:
            raise ValueError(
                "UDPHeatmap.decode expects heatmaps of shape (B, H, W, C). "
                f"Received shape {tuple(heatmaps.shape)}"
            )
        if self.heatmap_type == "gaussian":
            keypoints, scores = get_heatmap_maximum(heatmaps)
            keypoints = refine_keypoints_dark_udp(
                keypoints, heatmaps, self.blur_kernel_size
            )
        else:
            if heatmaps.shape[-1] % 3:
                raise ValueError(
                    "UDPHeatmap(heatmap_type='combined').decode expects 3K "
                    "channels (disc, x offset, y offset per keypoint). "
                    f"Received {heatmaps.shape[-1]} channels"
                )
            keypoints, scores = decode_udp_combined(
                heatmaps, self.blur_kernel_size, self.radius_factor
            )
        w, h = self.heatmap_size
        keypoints = keypoints / ops.convert_to_tensor(
            np.array([w - 1, h - 1], np.float32)
        )
        keypoints = keypoints * ops.convert_to_tensor(
            np.array(self.input_size, np.float32)
        )
        return keypoints, scores

    def get_config(self):
        return dict(
            input_size=self.input_size,
            heatmap_size=self.heatmap_size,
            heatmap_type=self.heatmap_type,
            sigma=self.sigma,
            radius_factor=self.radius_factor,
            blur_kernel_size=self.blur_kernel_size,
        )

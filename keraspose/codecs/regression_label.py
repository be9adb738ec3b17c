"""Normalised keypoint coordinates (DeepPose, RLE regression targets)."""

import numpy as np
from keras import ops

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.base import check_keypoints
from keraspose.registry import register
from keraspose.utils.checks import size_pair


def encode_regression_labels(keypoints, keypoints_visible, input_size):
    """Normalised coordinates and in-image weights (host, NumPy).

    Args:
        keypoints: (N, K, 2) keypoints in model-input pixels.
        keypoints_visible: (N, K) visibility, or None for all visible.
        input_size: model input size (w, h).

    Returns:
        ``(keypoint_labels (N, K, 2) float32, keypoint_weights (N, K)
        float32)``.
    """
    raw = np.asarray(keypoints, dtype=np.float32)
    keypoints, keypoints_visible = check_keypoints(
        keypoints, keypoints_visible, "RegressionLabel"
    )
    w, h = input_size
    inside = (keypoints >= 0) & (keypoints <= np.array([w - 1, h - 1]))
    valid = inside.all(axis=-1) & (keypoints_visible > 0.5)
    # divide in float64 and round once, as MMPose does
    labels = (keypoints / np.array([w, h])).astype(np.float32)
    finite = np.isfinite(raw[..., :2]).all(axis=-1, keepdims=True)
    labels = np.where(finite, labels, np.float32(0.0)).astype(np.float32)
    weights = np.where(valid, 1.0, 0.0).astype(np.float32)
    return labels, weights


def decode_regression_outputs(encoded, input_size, codec_name):
    """Normalised (B, K, 2) or (B, K, 4) outputs -> pixels and scores."""
    coords = ops.cast(ops.convert_to_tensor(encoded), "float32")
    if len(coords.shape) == 2:
        coords = coords[None]
    if len(coords.shape) != 3 or coords.shape[-1] not in (2, 4):
        raise ValueError(
            f"{codec_name}.decode expects normalised coordinates of shape "
            "(B, K, 2), or (B, K, 4) with RLE's sigmas. Received shape "
            f"{tuple(coords.shape)}"
        )
    if coords.shape[-1] == 4:
        scores = ops.mean(1.0 - coords[..., 2:4], axis=-1)
    else:
        scores = ops.ones_like(coords[..., 0])
    size = ops.convert_to_tensor(
        [float(input_size[0]), float(input_size[1])], "float32"
    )
    return coords[..., :2] * size, scores


@register
class RegressionLabel(BaseKeypointCodec):
    """Keypoints as coordinates normalised by the input size.

    References: Toshev & Szegedy, "DeepPose: Human Pose Estimation via Deep
    Neural Networks", CVPR 2014; Li et al., "Human Pose Regression with
    Residual Log-likelihood Estimation" (RLE), ICCV 2021.

    Follows MMPose 1.x: labels are ``keypoints / (w, h)`` (invisible and
    out-of-image keypoints keep their labels), and the weight of a keypoint
    is 1 only when it is visible (``> 0.5``) and inside
    ``[0, w - 1] x [0, h - 1]``, else 0. Non-finite keypoints get label 0
    and weight 0 (MMPose would propagate NaN). ``decode`` takes the head's
    (B, K, 2) output, or RLE's (B, K, 4) with sigmoid sigmas, whose score
    is ``mean(1 - sigma)`` (1 for plain coordinates).

    Args:
        input_size: model input size (w, h).

    Example:

    >>> import numpy as np
    >>> codec = RegressionLabel(input_size=(192, 256))
    >>> enc = codec.encode(np.array([[[96.0, 64.0], [-5.0, 10.0]]]))
    >>> enc["keypoint_labels"].tolist(), enc["keypoint_weights"].tolist()
    ([[[0.5, 0.25], [-0.02604166604578495, 0.0390625]]], [[1.0, 0.0]])
    >>> kpts, scores = codec.decode(enc["keypoint_labels"])
    >>> np.asarray(kpts)[0, 0].tolist(), np.asarray(scores).tolist()
    ([96.0, 64.0], [[1.0, 1.0]])
    """

    label_keys = ("keypoint_labels", "keypoint_weights")

    def __init__(self, input_size):
        self.input_size = size_pair(input_size, "input_size")

    def encode(self, keypoints, keypoints_visible=None):
        """Encodes one sample's instances into normalised labels.

        Args:
            keypoints: (N, K, 2) keypoints in model-input pixels.
            keypoints_visible: (N, K) visibility, or None.

        Returns:
            dict with ``keypoint_labels`` (N, K, 2) and ``keypoint_weights``
            (N, K).
        """
        labels, weights = encode_regression_labels(
            keypoints, keypoints_visible, self.input_size
        )
        return dict(keypoint_labels=labels, keypoint_weights=weights)

    def decode(self, encoded):
        """Decodes normalised coordinates into model-input pixels.

        Args:
            encoded: (B, K, 2) normalised coordinates, or (B, K, 4) with
                the sigmoid sigmas of RLE; (K, D) for one sample.

        Returns:
            ``(keypoints (B, K, 2), scores (B, K))``.
        """
        return decode_regression_outputs(
            encoded, self.input_size, "RegressionLabel"
        )

    def get_config(self):
        return dict(input_size=self.input_size)

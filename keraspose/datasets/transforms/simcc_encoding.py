"""SimCCLabel encoding as TensorFlow graph ops (the tf.data twin).

Registered for :class:`~keraspose.codecs.SimCCLabel` in
``graph_encoding.py``; the numbers equal ``SimCCLabel.encode`` (bins
``round(x * r)`` half to even from the float32 product, the same weight
rules and float32 Gaussians).
"""

import math

from keraspose.utils.lazy_import import tf


def _clean(keypoints, keypoints_visible):
    """NaN/inf keypoints become far away and invisible (weight 0)."""
    keypoints = tf.cast(keypoints, tf.float32)[..., :2]
    visible = tf.cast(keypoints_visible, tf.float32)
    finite = tf.reduce_all(tf.math.is_finite(keypoints), axis=-1)
    keypoints = tf.where(finite[..., None], keypoints, -1e6)
    visible = tf.where(finite, visible, 0.0)
    visible = tf.where(tf.math.is_nan(visible), 0.0, visible)
    return keypoints, visible


def encode_simcc_label_tf(codec, keypoints, keypoints_visible):
    """``codec.encode`` for a SimCCLabel: (N, K, 2), (N, K) -> dict.

    Args:
        codec: a :class:`~keraspose.codecs.SimCCLabel`.
        keypoints: (N, K, 2) keypoints in input pixels.
        keypoints_visible: (N, K) visibility.

    Returns:
        dict with ``keypoint_x_labels`` (N, K, Wx), ``keypoint_y_labels``
        (N, K, Wy) and ``keypoint_weights`` (N, K), float32 tensors.
    """
    keypoints, visible = _clean(keypoints, keypoints_visible)
    wx, wy = codec.label_size
    bins = tf.round(
        keypoints * tf.constant(codec.simcc_split_ratio, tf.float32)
    )
    mu_x, mu_y = bins[..., 0], bins[..., 1]
    labelled = visible >= 0.5
    if codec.smoothing_type == "gaussian":
        sx, sy = codec.sigma
        # float64 like the NumPy encoder's 3-sigma window test
        x64, y64 = tf.cast(mu_x, tf.float64), tf.cast(mu_y, tf.float64)
        outside = (
            (x64 - 3 * sx >= wx)
            | (y64 - 3 * sy >= wy)
            | (x64 + 3 * sx + 1 < 0)
            | (y64 + 3 * sy + 1 < 0)
        )
    else:
        outside = (mu_x >= wx) | (mu_y >= wy) | (mu_x < 0) | (mu_y < 0)
    weights = tf.where(labelled & outside, 0.0, visible)
    active = (labelled & ~outside)[..., None]
    labels = []
    for size, mu, sigma in (
        (wx, mu_x, codec.sigma[0]),
        (wy, mu_y, codec.sigma[1]),
    ):
        grid = tf.range(size, dtype=tf.float32)
        if codec.smoothing_type == "gaussian":
            d = grid - mu[..., None]
            values = tf.exp(
                -tf.square(d) / tf.constant(2 * sigma**2, tf.float32)
            )
            if codec.normalize:
                values = values / tf.constant(
                    sigma * math.sqrt(2 * math.pi), tf.float32
                )
        else:
            lsw = codec.label_smooth_weight
            fill = lsw / (size - 1) if lsw > 0 else 0.0
            values = tf.where(
                tf.equal(grid, mu[..., None]),
                tf.constant(1.0 - lsw, tf.float32),
                tf.constant(fill, tf.float32),
            )
        labels.append(tf.where(active, values, 0.0))
    return dict(
        keypoint_x_labels=labels[0],
        keypoint_y_labels=labels[1],
        keypoint_weights=weights,
    )

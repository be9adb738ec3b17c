"""Codec encoding as TensorFlow graph ops, for ``GenerateTarget``.

Codecs themselves stay free of TensorFlow (host NumPy ``encode``,
``keras.ops`` ``decode``). The data pipeline encodes with
:func:`graph_encode`: a graph-mode twin registered here for the codec class
(same numbers as its ``encode``, MMPose's integer truncation of the window
included), or else ``tf.numpy_function`` around ``encode``, which works for
any codec but holds the Python GIL per sample. Heatmaps are channels-last
(H, W, K).
"""

import numpy as np

from keraspose.codecs.msra_heatmap import MSRAHeatmap
from keraspose.utils.lazy_import import tf

_GRAPH_ENCODERS = {}


def register_graph_encoder(codec_cls):
    """Registers ``fn(codec, keypoints, keypoints_visible)`` for a codec."""

    def decorate(fn):
        _GRAPH_ENCODERS[codec_cls] = fn
        return fn

    return decorate


def graph_encode(codec, keypoints, keypoints_visible):
    """``codec.encode`` as graph ops: (N, K, 2), (N, K) -> dict of tensors."""
    for cls in type(codec).__mro__:
        if cls in _GRAPH_ENCODERS:
            return _GRAPH_ENCODERS[cls](codec, keypoints, keypoints_visible)
    return numpy_function_encode(codec, keypoints, keypoints_visible)


def numpy_function_encode(codec, keypoints, keypoints_visible):
    """Generic fallback: ``codec.encode`` wrapped in ``tf.numpy_function``."""
    num_keypoints = int(keypoints.shape[-2])
    probe = codec.encode(
        np.zeros((1, num_keypoints, 2), np.float32),
        np.ones((1, num_keypoints), np.float32),
    )
    keys = sorted(probe)

    def run(k, v):
        out = codec.encode(k, v)
        return [np.asarray(out[key], probe[key].dtype) for key in keys]

    values = tf.numpy_function(
        run,
        [
            tf.cast(keypoints, tf.float32),
            tf.cast(keypoints_visible, tf.float32),
        ],
        [tf.as_dtype(probe[key].dtype) for key in keys],
        stateful=False,
    )
    out = {}
    for key, value in zip(keys, values):
        shape = list(probe[key].shape)
        if key in codec.label_keys:
            shape[0] = None
        out[key] = tf.ensure_shape(value, shape)
    return out


@register_graph_encoder(MSRAHeatmap)
def _encode_msra_heatmap(codec, keypoints, keypoints_visible):
    generate = (
        generate_unbiased_gaussian_heatmaps_tf
        if codec.unbiased
        else generate_gaussian_heatmaps_tf
    )
    heatmaps, weights = generate(
        codec.heatmap_size,
        tf.cast(keypoints, tf.float32)[..., :2]
        / tf.constant(codec.scale_factor),
        keypoints_visible,
        codec.sigma,
    )
    return dict(heatmaps=heatmaps, keypoint_weights=weights)


def _clean(keypoints, keypoints_visible):
    """NaN/inf keypoints become far away and invisible (weight 0)."""
    keypoints = tf.cast(keypoints, tf.float32)
    visible = tf.cast(keypoints_visible, tf.float32)
    finite = tf.reduce_all(tf.math.is_finite(keypoints), axis=-1)
    keypoints = tf.where(finite[..., None], keypoints, -1e6)
    visible = tf.where(finite, visible, 0.0)
    visible = tf.where(tf.math.is_nan(visible), 0.0, visible)
    return keypoints, visible


def generate_gaussian_heatmaps_tf(
    heatmap_size, keypoints, keypoints_visible, sigma
):
    """MSRA heatmaps; see ``generate_gaussian_heatmaps``.

    Args:
        heatmap_size: (W, H) Python ints.
        keypoints: (N, K, 2) keypoints in heatmap pixels.
        keypoints_visible: (N, K).
        sigma: Python float.

    Returns:
        ``(heatmaps (H, W, K) float32, keypoint_weights (N, K) float32)``.
    """
    W, H = heatmap_size
    keypoints, visible = _clean(keypoints, keypoints_visible)
    radius = sigma * 3
    size = 2 * radius + 1
    length = float(len(range(0, int(-(-size // 1)))))  # ceil(size)
    center = float(size // 2)
    mu = tf.cast(tf.cast(keypoints + 0.5, tf.int64), tf.float64)  # trunc
    left = tf.cast(tf.cast(mu[..., 0] - radius, tf.int64), tf.float32)
    top = tf.cast(tf.cast(mu[..., 1] - radius, tf.int64), tf.float32)
    right = tf.cast(tf.cast(mu[..., 0] + radius + 1, tf.int64), tf.float32)
    bottom = tf.cast(tf.cast(mu[..., 1] + radius + 1, tf.int64), tf.float32)
    labelled = visible >= 0.5
    outside = (left >= W) | (top >= H) | (right < 0) | (bottom < 0)
    weights = tf.where(labelled & outside, 0.0, visible)
    active = labelled & ~outside  # (N, K)
    px = tf.range(W, dtype=tf.float32)
    py = tf.range(H, dtype=tf.float32)
    gx = px - left[..., None]  # (N, K, W)
    gy = py - top[..., None]  # (N, K, H)
    in_x = (gx >= 0) & (gx < length) & (px < right[..., None])
    in_y = (gy >= 0) & (gy < length) & (py < bottom[..., None])
    dx2 = tf.square(gx - center)
    dy2 = tf.square(gy - center)
    d2 = dy2[..., :, None] + dx2[..., None, :]  # (N, K, H, W)
    g = tf.exp(-d2 / tf.constant(2 * sigma**2, tf.float32))
    mask = in_y[..., :, None] & in_x[..., None, :] & active[..., None, None]
    g = tf.where(mask, g, 0.0)
    heatmaps = tf.transpose(tf.reduce_max(g, axis=0), (1, 2, 0))
    return heatmaps, weights


def generate_unbiased_gaussian_heatmaps_tf(
    heatmap_size, keypoints, keypoints_visible, sigma
):
    """DARK heatmaps; see ``generate_unbiased_gaussian_heatmaps``."""
    W, H = heatmap_size
    keypoints, visible = _clean(keypoints, keypoints_visible)
    radius = sigma * 3
    mu_x, mu_y = keypoints[..., 0], keypoints[..., 1]
    left, top = mu_x - radius, mu_y - radius
    right, bottom = mu_x + radius + 1, mu_y + radius + 1
    labelled = visible >= 0.5
    outside = (left >= W) | (top >= H) | (right < 0) | (bottom < 0)
    weights = tf.where(labelled & outside, 0.0, visible)
    active = labelled & ~outside
    x = tf.range(W, dtype=tf.float32)
    y = tf.range(H, dtype=tf.float32)
    dx2 = tf.square(x - mu_x[..., None])
    dy2 = tf.square(y - mu_y[..., None])
    d2 = dx2[..., None, :] + dy2[..., :, None]
    g = tf.exp(-d2 / tf.constant(2 * sigma**2, tf.float32))
    g = tf.where(active[..., None, None], g, 0.0)
    heatmaps = tf.transpose(tf.reduce_max(g, axis=0), (1, 2, 0))
    return heatmaps, weights

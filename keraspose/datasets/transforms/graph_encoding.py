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

from keraspose.codecs.integral_regression_label import IntegralRegressionLabel
from keraspose.codecs.megvii_heatmap import MegviiHeatmap
from keraspose.codecs.msra_heatmap import MSRAHeatmap
from keraspose.codecs.regression_label import RegressionLabel
from keraspose.codecs.simcc_label import SimCCLabel
from keraspose.codecs.udp_heatmap import UDPHeatmap
from keraspose.codecs.utils.opencv_blur import blur_matrix
from keraspose.datasets.transforms.simcc_encoding import encode_simcc_label_tf
from keraspose.utils.lazy_import import tf

_GRAPH_ENCODERS = {}


def register_graph_encoder(codec_cls):
    """Registers ``fn(codec, keypoints, keypoints_visible, **aux)`` for a
    codec (``aux``: the codec's ``auxiliary_encode_keys`` found in the
    sample)."""

    def decorate(fn):
        _GRAPH_ENCODERS[codec_cls] = fn
        return fn

    return decorate


def graph_encode(codec, keypoints, keypoints_visible, **aux):
    """``codec.encode`` as graph ops: (N, K, 2), (N, K) -> dict of tensors.

    ``aux`` holds the codec's ``auxiliary_encode_keys`` entries of the sample
    (passed to ``encode`` as keyword arguments).
    """
    for cls in type(codec).__mro__:
        if cls in _GRAPH_ENCODERS:
            return _GRAPH_ENCODERS[cls](
                codec, keypoints, keypoints_visible, **aux
            )
    if aux:
        raise NotImplementedError(
            f"{type(codec).__name__} takes auxiliary inputs {sorted(aux)} "
            "and has no graph-mode encoder; register one with "
            "register_graph_encoder."
        )
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


def _regression_labels_tf(input_size, keypoints, keypoints_visible):
    """``encode_regression_labels`` as graph ops (float64 division)."""
    w, h = input_size
    raw = tf.cast(keypoints, tf.float32)[..., :2]
    finite = tf.reduce_all(tf.math.is_finite(raw), axis=-1)
    keypoints, visible = _clean(raw, keypoints_visible)
    limit = tf.constant([w - 1, h - 1], tf.float32)
    inside = tf.reduce_all((keypoints >= 0) & (keypoints <= limit), axis=-1)
    valid = inside & (visible > 0.5)
    size = tf.constant([w, h], tf.float64)
    labels = tf.cast(tf.cast(keypoints, tf.float64) / size, tf.float32)
    labels = tf.where(finite[..., None], labels, 0.0)
    weights = tf.where(valid, 1.0, 0.0)
    return labels, weights


@register_graph_encoder(RegressionLabel)
def _encode_regression_label(codec, keypoints, keypoints_visible):
    labels, weights = _regression_labels_tf(
        codec.input_size, keypoints, keypoints_visible
    )
    return dict(keypoint_labels=labels, keypoint_weights=weights)


@register_graph_encoder(IntegralRegressionLabel)
def _encode_integral_regression_label(codec, keypoints, keypoints_visible):
    heatmaps = _encode_msra_heatmap(
        codec.heatmap_codec, keypoints, keypoints_visible
    )["heatmaps"]
    labels, weights = _regression_labels_tf(
        codec.input_size, keypoints, keypoints_visible
    )
    if codec.normalize:
        total = tf.reduce_sum(heatmaps, axis=(0, 1), keepdims=True) + 1e-24
        heatmaps = heatmaps / total
    return dict(
        keypoint_labels=labels, heatmaps=heatmaps, keypoint_weights=weights
    )


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
    # max(0, ...): no instances (N = 0) gives zero maps, not -inf.
    heatmaps = tf.transpose(
        tf.maximum(tf.reduce_max(g, axis=0), 0.0), (1, 2, 0)
    )
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
    # max(0, ...): no instances (N = 0) gives zero maps, not -inf.
    heatmaps = tf.transpose(
        tf.maximum(tf.reduce_max(g, axis=0), 0.0), (1, 2, 0)
    )
    return heatmaps, weights


# --- UDPHeatmap and MegviiHeatmap -------------------------------------------


def _single_instance(keypoints, codec_name):
    n = keypoints.shape[0]
    if n is not None and n != 1:
        raise ValueError(
            f"{codec_name} only supports single-instance encoding "
            f"(keypoints of shape (1, K, 2)). Received shape "
            f"{tuple(keypoints.shape)}"
        )


@register_graph_encoder(UDPHeatmap)
def _encode_udp_heatmap(codec, keypoints, keypoints_visible):
    _single_instance(keypoints, "UDPHeatmap")
    scaled = tf.cast(keypoints, tf.float32)[..., :2] / tf.constant(
        codec.scale_factor
    )
    if codec.heatmap_type == "gaussian":
        heatmaps, weights = generate_udp_gaussian_heatmaps_tf(
            codec.heatmap_size, scaled, keypoints_visible, codec.sigma
        )
    else:
        heatmaps, weights = generate_offset_heatmap_tf(
            codec.heatmap_size, scaled, keypoints_visible, codec.radius_factor
        )
    return dict(heatmaps=heatmaps, keypoint_weights=weights)


def generate_udp_gaussian_heatmaps_tf(
    heatmap_size, keypoints, keypoints_visible, sigma
):
    """UDP Gaussian heatmaps; see ``codecs/utils/udp.py``.

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
    length = float(len(np.arange(0, size, 1, dtype=np.float32)))
    half = size // 2
    mu = tf.cast(tf.cast(keypoints + 0.5, tf.int64), tf.float64)  # trunc
    left = tf.cast(tf.cast(mu[..., 0] - radius, tf.int64), tf.float32)
    top = tf.cast(tf.cast(mu[..., 1] - radius, tf.int64), tf.float32)
    right = tf.cast(tf.cast(mu[..., 0] + radius + 1, tf.int64), tf.float32)
    bottom = tf.cast(tf.cast(mu[..., 1] + radius + 1, tf.int64), tf.float32)
    labelled = visible >= 0.5
    outside = (left >= W) | (top >= H) | (right < 0) | (bottom < 0)
    weights = tf.where(labelled & outside, 0.0, visible)
    active = labelled & ~outside  # (N, K)
    # sub-pixel centre in the window, rounded to float32 (NumPy 1.x rules)
    frac = tf.cast(keypoints, tf.float64) - mu
    x0 = tf.cast(half + frac[..., 0], tf.float32)
    y0 = tf.cast(half + frac[..., 1], tf.float32)
    px = tf.range(W, dtype=tf.float32)
    py = tf.range(H, dtype=tf.float32)
    gx = px - left[..., None]  # (N, K, W)
    gy = py - top[..., None]  # (N, K, H)
    in_x = (gx >= 0) & (gx < length) & (px < right[..., None])
    in_y = (gy >= 0) & (gy < length) & (py < bottom[..., None])
    dx2 = tf.square(gx - x0[..., None])
    dy2 = tf.square(gy - y0[..., None])
    d2 = dy2[..., :, None] + dx2[..., None, :]  # (N, K, H, W)
    g = tf.exp(-d2 / tf.constant(2 * sigma**2, tf.float32))
    mask = in_y[..., :, None] & in_x[..., None, :] & active[..., None, None]
    g = tf.where(mask, g, 0.0)
    # max(0, ...): no instances (N = 0) gives zero maps, not -inf.
    heatmaps = tf.transpose(
        tf.maximum(tf.reduce_max(g, axis=0), 0.0), (1, 2, 0)
    )
    return heatmaps, weights


def generate_offset_heatmap_tf(
    heatmap_size, keypoints, keypoints_visible, radius_factor
):
    """UDP combined (disc + offset) maps; see ``codecs/utils/udp.py``.

    Returns:
        ``(heatmaps (H, W, 3K) float32, keypoint_weights (N, K) float32)``.
    """
    W, H = heatmap_size
    keypoints, visible = _clean(keypoints, keypoints_visible)
    radius = radius_factor * max(W, H)
    labelled = visible >= 0.5  # (N, K)
    n = tf.shape(keypoints)[0]
    # the last labelled instance of each keypoint wins
    order = tf.reduce_max(
        tf.where(labelled, tf.range(n)[:, None], -1), axis=0
    )  # (K,)
    mu = tf.gather(
        tf.transpose(keypoints, (1, 0, 2)),
        tf.maximum(order, 0),
        batch_dims=1,
    )  # (K, 2)
    mu = tf.cast(mu, tf.float64)
    x_off = (mu[:, 0:1] - tf.range(W, dtype=tf.float64)) / radius  # (K, W)
    y_off = (mu[:, 1:2] - tf.range(H, dtype=tf.float64)) / radius  # (K, H)
    disc = tf.square(x_off[:, None, :]) + tf.square(y_off[:, :, None]) <= 1
    k = tf.shape(mu)[0]
    maps = tf.stack(
        [
            tf.cast(disc, tf.float32),
            tf.broadcast_to(tf.cast(x_off, tf.float32)[:, None, :], [k, H, W]),
            tf.broadcast_to(tf.cast(y_off, tf.float32)[:, :, None], [k, H, W]),
        ],
        axis=-1,
    )  # (K, H, W, 3)
    maps = tf.where((order >= 0)[:, None, None, None], maps, 0.0)
    heatmaps = tf.reshape(tf.transpose(maps, (1, 2, 0, 3)), [H, W, -1])
    return heatmaps, visible


@register_graph_encoder(MegviiHeatmap)
def _encode_megvii_heatmap(codec, keypoints, keypoints_visible):
    _single_instance(keypoints, "MegviiHeatmap")
    W, H = codec.heatmap_size
    keypoints, visible = _clean(keypoints[..., :2], keypoints_visible)
    center = tf.cast(keypoints[0] / tf.constant(codec.scale_factor), tf.int64)
    kx, ky = center[:, 0], center[:, 1]
    labelled = visible[0] >= 0.5
    inside = (kx >= 0) & (kx < W) & (ky >= 0) & (ky < H)
    weights = tf.where((labelled & ~inside)[None], 0.0, visible)
    active = labelled & inside
    kx = tf.where(active, kx, 0)
    ky = tf.where(active, ky, 0)
    # OpenCV's blur of an impulse at (kx, ky) is an outer product of columns
    col = tf.gather(tf.constant(blur_matrix(W, codec.kernel_size).T), kx)
    row = tf.gather(tf.constant(blur_matrix(H, codec.kernel_size).T), ky)
    maps = row[:, :, None] * col[:, None, :]
    peak = tf.gather(row, ky, batch_dims=1) * tf.gather(col, kx, batch_dims=1)
    maps = maps / peak[:, None, None] * 255.0
    maps = tf.where(active[:, None, None], maps, 0.0)
    return dict(
        heatmaps=tf.transpose(maps, (1, 2, 0)), keypoint_weights=weights
    )


# --- SimCCLabel (graph ops in simcc_encoding.py) -----------------------------


@register_graph_encoder(SimCCLabel)
def _encode_simcc_label(codec, keypoints, keypoints_visible):
    return encode_simcc_label_tf(codec, keypoints, keypoints_visible)


import keraspose.datasets.transforms.lifting_encoding  # noqa: E402,F401,I001
import keraspose.datasets.transforms.ae_encoding  # noqa: E402,F401,I001
import keraspose.datasets.transforms.spr_encoding  # noqa: E402,F401,I001

"""SPR encoding as TensorFlow graph ops (the tf.data twin).

Registered for :class:`~keraspose.codecs.SPR` with
``register_graph_encoder``; the numbers equal ``SPR.encode`` (MMPose's):
float32 roots summed keypoint by keypoint, windows truncated from the
float64 difference, and the sequential overlap rule of the displacement
fields run as a ``tf.while_loop`` over the (dynamic) instances.
"""

from keraspose.codecs.spr import SPR
from keraspose.datasets.transforms.graph_encoding import _clean
from keraspose.datasets.transforms.graph_encoding import (
    generate_gaussian_heatmaps_tf,
)
from keraspose.datasets.transforms.graph_encoding import register_graph_encoder
from keraspose.utils.lazy_import import tf


def _roots_and_diagonals(keypoints, visible, root_type):
    """``get_instance_root`` and ``get_diagonal_lengths`` as graph ops."""
    mask = visible > 0  # (N, K)
    count = tf.reduce_sum(tf.cast(mask, tf.float32), axis=1)
    has_any = count > 0
    big = tf.constant(float("inf"), tf.float32)
    m3 = mask[..., None]
    lo = tf.reduce_min(tf.where(m3, keypoints, big), axis=1)
    hi = tf.reduce_max(tf.where(m3, keypoints, -big), axis=1)
    lo = tf.where(has_any[:, None], lo, 0.0)
    hi = tf.where(has_any[:, None], hi, 0.0)
    if root_type == "kpt_center":
        total = tf.zeros_like(keypoints[:, 0])
        for k in range(keypoints.shape[1]):  # NumPy's row-by-row sum
            total = total + tf.where(m3[:, k], keypoints[:, k], 0.0)
        roots = total / tf.maximum(count, 1.0)[:, None]
    else:
        roots = (hi + lo) / 2.0
    roots = tf.where(has_any[:, None], roots, 0.0)
    size = hi - lo
    diagonals = tf.sqrt(size[:, 0] * size[:, 0] + size[:, 1] * size[:, 1])
    return roots, tf.cast(has_any, tf.float32), diagonals


def _window(root, radius, size):
    """``[max(int(r - radius), 0), min(int(r + radius), size))`` (int32)."""
    root = tf.cast(root, tf.float64)
    lo = tf.cast(root - radius, tf.int64)
    hi = tf.cast(root + radius, tf.int64)
    lo = tf.cast(tf.clip_by_value(lo, 0, size), tf.int32)
    hi = tf.cast(tf.clip_by_value(hi, 0, size), tf.int32)
    return lo, hi


def generate_displacement_heatmap_tf(
    heatmap_size,
    keypoints,
    keypoints_visible,
    roots,
    roots_visible,
    diagonal_lengths,
    radius,
):
    """``generate_displacement_heatmap`` as graph ops (dynamic N).

    Each instance updates only an ``S x S`` patch (``S = int(2 radius) +
    2`` bounds its window) of maps padded by ``S`` at the bottom and
    right, gathered with a static-size slice and written back with a
    scatter of unique pixels.

    Returns:
        ``(displacements (H, W, 2K), displacement_weights (H, W, 2K))``.
    """
    W, H = heatmap_size
    K = keypoints.shape[1]
    S = int(2 * radius) + 2
    kx, ky = keypoints[..., 0], keypoints[..., 1]
    kpt_valid = (
        (keypoints_visible >= 1) & (kx >= 0) & (ky >= 0) & (kx < W) & (ky < H)
    )
    rx, ry = roots[:, 0], roots[:, 1]
    root_valid = (
        (roots_visible >= 1) & (rx >= 0) & (ry >= 0) & (rx < W) & (ry < H)
    )
    x0, x1 = _window(rx, radius, W)
    y0, y1 = _window(ry, radius, H)
    x0 = tf.where(root_valid, x0, 0)
    y0 = tf.where(root_valid, y0, 0)
    step = tf.range(S, dtype=tf.int32)
    inv_diag = tf.cast(1.0 / tf.cast(diagonal_lengths, tf.float64), tf.float32)

    def body(n, disp, weights, size_map):
        px, py = x0[n] + step, y0[n] + step  # (S,)
        window = (
            (py < y1[n])[:, None] & (px < x1[n])[None, :] & root_valid[n]
        )  # (S, S)
        begin = tf.stack([y0[n], x0[n]])
        patch = tf.slice(disp, tf.concat([begin, [0, 0]], 0), [S, S, K, 2])
        w_patch = tf.slice(weights, tf.concat([begin, [0]], 0), [S, S, K])
        s_patch = tf.slice(size_map, begin, [S, S])
        valid = kpt_valid[n]  # (K,)
        empty = tf.reduce_all(tf.equal(patch, 0.0), axis=-1)  # (S, S, K)
        smaller = diagonal_lengths[n] <= s_patch  # (S, S)
        cond = (empty | smaller[..., None]) & valid
        started = tf.cumsum(tf.cast(cond, tf.int32), axis=-1) > 0
        write = started & valid & window[..., None]  # (S, S, K)
        grid = tf.stack(
            [
                tf.broadcast_to(tf.cast(px, tf.float32)[None, :], [S, S]),
                tf.broadcast_to(tf.cast(py, tf.float32)[:, None], [S, S]),
            ],
            axis=-1,
        )  # (S, S, 2) as (x, y)
        offsets = keypoints[n] - grid[:, :, None, :]  # (S, S, K, 2)
        patch = tf.where(write[..., None], offsets, patch)
        w_patch = tf.where(write, inv_diag[n], w_patch)
        s_patch = tf.where(
            tf.reduce_any(write, axis=-1), diagonal_lengths[n], s_patch
        )
        index = tf.stack(
            [
                tf.broadcast_to(py[:, None], [S, S]),
                tf.broadcast_to(px[None, :], [S, S]),
            ],
            axis=-1,
        )  # (S, S, 2) unique pixels
        disp = tf.tensor_scatter_nd_update(disp, index, patch)
        weights = tf.tensor_scatter_nd_update(weights, index, w_patch)
        size_map = tf.tensor_scatter_nd_update(size_map, index, s_patch)
        return n + 1, disp, weights, size_map

    n_inst = tf.shape(keypoints)[0]
    _, disp, weights, _ = tf.while_loop(
        lambda n, *_: n < n_inst,
        body,
        (
            tf.constant(0),
            tf.zeros([H + S, W + S, K, 2], tf.float32),
            tf.zeros([H + S, W + S, K], tf.float32),
            tf.zeros([H + S, W + S], tf.float32),
        ),
    )
    disp = tf.reshape(disp[:H, :W], [H, W, 2 * K])
    weights = weights[:H, :W]
    weights = tf.reshape(tf.stack([weights, weights], axis=-1), [H, W, 2 * K])
    return disp, weights


def _gaussian_heatmaps(heatmap_size, keypoints, visible, sigma):
    """Gaussian heatmaps, zeros (not -inf) for zero instances."""
    heatmaps, _ = generate_gaussian_heatmaps_tf(
        heatmap_size, keypoints, visible, sigma
    )
    return tf.maximum(heatmaps, 0.0)


def _heatmap_weights(heatmaps, background_weight):
    return tf.where(
        heatmaps > 0,
        tf.constant(1.0, tf.float32),
        tf.constant(background_weight, tf.float32),
    )


@register_graph_encoder(SPR)
def encode_spr_tf(codec, keypoints, keypoints_visible):
    """``codec.encode`` for an SPR codec: (N, K, 2), (N, K) -> dict.

    Args:
        codec: an :class:`~keraspose.codecs.SPR`.
        keypoints: (N, K, 2) keypoints in input pixels (N dynamic).
        keypoints_visible: (N, K) visibility.

    Returns:
        dict of float32 tensors ``heatmaps``, ``heatmap_weights`` (H, W, C)
        and ``displacements``, ``displacement_weights`` (H, W, 2K).
    """
    keypoints, visible = _clean(
        tf.cast(keypoints, tf.float32)[..., :2], keypoints_visible
    )
    if keypoints.shape[1] is None:
        raise ValueError(
            "SPR graph encoding needs a static number of keypoints. "
            f"Received keypoints of shape {keypoints.shape}"
        )
    kpts = keypoints / tf.constant(codec.scale_factor)
    roots, roots_visible, diagonals = _roots_and_diagonals(
        kpts, visible, codec.root_type
    )
    small = diagonals < tf.constant(codec.minimal_diagonal_length, tf.float32)
    roots_visible = tf.where(small, 0.0, roots_visible)
    heatmaps = _gaussian_heatmaps(
        codec.heatmap_size,
        roots[:, None],
        roots_visible[:, None],
        codec.sigma[0],
    )
    heatmap_weights = _heatmap_weights(heatmaps, codec.background_weight)
    if codec.generate_keypoint_heatmaps:
        kpt_heatmaps = _gaussian_heatmaps(
            codec.heatmap_size, kpts, visible, codec.sigma[1]
        )
        heatmaps = tf.concat([kpt_heatmaps, heatmaps], axis=-1)
        heatmap_weights = tf.concat(
            [
                _heatmap_weights(kpt_heatmaps, codec.background_weight),
                heatmap_weights,
            ],
            axis=-1,
        )
    displacements, displacement_weights = generate_displacement_heatmap_tf(
        codec.heatmap_size,
        kpts,
        visible,
        roots,
        roots_visible,
        diagonals,
        codec.sigma[0],
    )
    return dict(
        heatmaps=heatmaps,
        heatmap_weights=heatmap_weights,
        displacements=displacements,
        displacement_weights=displacement_weights,
    )

"""Graph-mode twin of :class:`AssociativeEmbedding` encoding (tf.data).

Same numbers as ``AssociativeEmbedding.encode``: ``heatmaps`` (H, W, K),
``keypoint_indices`` (N, K, 2) int32 and ``keypoint_weights`` (N, K), with a
dynamic instance count N (``GenerateTarget`` pads the per-instance labels).
"""

from keraspose.codecs.associative_embedding import AssociativeEmbedding
from keraspose.datasets.transforms.graph_encoding import _clean
from keraspose.datasets.transforms.graph_encoding import (
    generate_gaussian_heatmaps_tf,
)
from keraspose.datasets.transforms.graph_encoding import (
    generate_udp_gaussian_heatmaps_tf,
)
from keraspose.datasets.transforms.graph_encoding import register_graph_encoder
from keraspose.utils.lazy_import import tf


def encode_keypoint_indices_tf(heatmap_size, keypoints, keypoints_visible):
    """``encode_keypoint_indices`` as graph ops.

    Args:
        heatmap_size: (W, H) Python ints.
        keypoints: (N, K, 2) float32 keypoints in heatmap pixels (finite).
        keypoints_visible: (N, K).

    Returns:
        (N, K, 2) int32 ``[y * W + x, valid]``.
    """
    w, h = heatmap_size
    pos = tf.cast(keypoints, tf.float64) + 0.5
    pos = tf.clip_by_value(pos, -(2.0**40), 2.0**40)
    pos = tf.cast(pos, tf.int64)  # truncation toward zero
    x, y = pos[..., 0], pos[..., 1]
    index = tf.clip_by_value(y * w + x, -(2**31), 2**31 - 1)
    valid = (
        (tf.cast(keypoints_visible, tf.float32) > 0.5)
        & (x >= 0)
        & (x < w)
        & (y >= 0)
        & (y < h)
    )
    return tf.stack(
        [tf.cast(index, tf.int32), tf.cast(valid, tf.int32)], axis=-1
    )


@register_graph_encoder(AssociativeEmbedding)
def encode_associative_embedding_tf(codec, keypoints, keypoints_visible):
    """``AssociativeEmbedding.encode`` of one image as graph ops.

    Args:
        codec: the :class:`AssociativeEmbedding` codec.
        keypoints: (N, K, 2) keypoints in model-input pixels (N may be 0 or
            dynamic).
        keypoints_visible: (N, K).

    Returns:
        dict with ``heatmaps`` (H, W, K) float32, ``keypoint_indices``
        (N, K, 2) int32 and ``keypoint_weights`` (N, K) float32.
    """
    keypoints, visible = _clean(
        tf.cast(keypoints, tf.float32)[..., :2], keypoints_visible
    )
    scaled = keypoints / tf.constant(codec.scale_factor)
    generate = (
        generate_udp_gaussian_heatmaps_tf
        if codec.use_udp
        else generate_gaussian_heatmaps_tf
    )
    heatmaps, weights = generate(
        codec.heatmap_size, scaled, visible, codec.sigma
    )
    # no instance: the max over an empty axis is -inf
    heatmaps = tf.maximum(heatmaps, 0.0)
    indices = encode_keypoint_indices_tf(codec.heatmap_size, scaled, visible)
    return dict(
        heatmaps=heatmaps, keypoint_indices=indices, keypoint_weights=weights
    )

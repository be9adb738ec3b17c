"""Mask of the heatmap pixels that carry a training signal (bottom-up)."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.bottomup_resize import warp_affine_dynamic
from keraspose.datasets.transforms.generate_target import TARGET_KEYS
from keraspose.registry import register
from keraspose.utils.lazy_import import tf


def rasterize_polygons(polygons, img_shape):
    """Union of filled polygons as an (h, w) bool mask, in graph ops.

    A pixel is inside when its centre ``(x + 0.5, y + 0.5)`` is inside a
    polygon (even-odd rule per polygon, union over polygons). This is the
    rule of COCO's ``frPyObjects``/``decode`` rasteriser up to a few
    edge pixels (COCO snaps the vertices to a 1/5-pixel grid first).

    Args:
        polygons: ``tf.RaggedTensor`` (P, None, 2) of (x, y) vertices, or a
            dense (P, V, 2) tensor (all V vertices used).
        img_shape: (2,) int (h, w).

    Returns:
        (h, w) bool tensor.
    """
    if isinstance(polygons, tf.RaggedTensor):
        lengths = tf.cast(polygons.row_lengths(), tf.int32)
        pts = polygons.to_tensor(default_value=0.0)
    else:
        pts = tf.convert_to_tensor(polygons)
        lengths = tf.fill([tf.shape(pts)[0]], tf.shape(pts)[1])
    img_shape = tf.cast(img_shape, tf.int32)
    return tf.cond(
        tf.reduce_any(lengths > 0),
        lambda: _rasterize(tf.cast(pts, tf.float64), lengths, img_shape),
        lambda: tf.zeros(img_shape, tf.bool),
    )


def _rasterize(pts, lengths, img_shape):
    h, w = tf.unstack(img_shape)
    num_v = tf.shape(pts)[1]
    idx = tf.range(num_v)[None, :]
    nxt = (idx + 1) % tf.maximum(lengths[:, None], 1)  # (P, V)
    end = tf.gather(pts, nxt, batch_dims=1)
    valid = idx < lengths[:, None]  # (P, E)
    x0, y0 = pts[..., 0][:, None, :], pts[..., 1][:, None, :]
    x1, y1 = end[..., 0][:, None, :], end[..., 1][:, None, :]
    yc = tf.cast(tf.range(h), tf.float64)[None, :, None] + 0.5  # (1, H, 1)
    cross = tf.not_equal(y0 <= yc, y1 <= yc) & valid[:, None, :]
    dy = tf.where(cross, y1 - y0, 1.0)
    xint = x0 + (yc - y0) * (x1 - x0) / dy
    inf = tf.constant(float("inf"), tf.float64)
    xint = tf.sort(tf.where(cross, xint, inf), axis=-1)  # (P, H, E)
    p = tf.shape(pts)[0]
    xc = tf.cast(tf.range(w), tf.float64) + 0.5
    flat = tf.reshape(xint, [p * h, num_v])
    queries = tf.broadcast_to(xc[None, :], [p * h, w])
    count = tf.searchsorted(flat, queries, side="left")
    inside = tf.reshape(count % 2 == 1, [p, h, w])
    return tf.reduce_any(inside, axis=0)


@register
class BottomupGetHeatmapMask(BaseTransform):
    """Masks the ``invalid_segs`` regions out of the heatmap loss.

    MMPose's ``BottomupGetHeatmapMask``: the union of the invalid
    instances' polygons (crowd and keypoint-less people, from the
    bottom-up dataset) is rasterised at the original image size, negated
    (unless ``get_invalid``), warped with the sample's ``warp_mat``
    (bilinear, zero border: pixels outside the image become invalid, as in
    MMPose), flipped as the sample was, resized (bilinear) to the heatmap
    size when ``heatmaps`` are present and binarised at 0.5. Produces
    ``heatmap_mask`` (h, w) float32 (1 = use the pixel) and lists it with
    the training targets.

    Differences from MMPose's OpenCV path: the polygons are rasterised
    with a pixel-centre test in graph ops instead of COCO's RLE rasteriser
    (a few edge pixels differ; after the warp and the 4x downsampling to
    the heatmap, under 0.5% of the mask pixels); RLE crowd regions
    are ignored because MMPose 1.3.2 ignores them too (its check accepts
    only list segmentations; the dataset drops them). The mask is float32
    rather than bool so that it batches with the other targets.

    Args:
        get_invalid: produce the mask of invalid regions instead.

    Example:

    >>> BottomupGetHeatmapMask().get_config()
    {'get_invalid': False}
    """

    def __init__(self, get_invalid=False):
        self.get_invalid = bool(get_invalid)

    def transform(self, results, seed):
        img_shape = tf.cast(results["img_shape"], tf.int32)[:2]
        segs = results.get("invalid_segs")
        if segs is None:
            mask = tf.zeros(img_shape, tf.bool)
        else:
            mask = rasterize_polygons(segs, img_shape)
        if not self.get_invalid:
            mask = tf.logical_not(mask)
        mask = tf.cast(mask, tf.float32)[..., None]
        if "warp_mat" in results:
            size = tf.cast(results["input_size"], tf.int32)
            mask = warp_affine_dynamic(
                mask, results["warp_mat"], tf.stack([size[1], size[0]])
            )
        if "flip" in results:
            mask = _flip(mask, results["flip"], results.get("flip_direction"))
        if "heatmaps" in results:
            hm = results["heatmaps"]
            hw = tf.shape(hm)[:2]
            mask = tf.image.resize(mask, hw, method="bilinear")
            if hm.shape[0] is not None and hm.shape[1] is not None:
                mask = tf.ensure_shape(mask, [hm.shape[0], hm.shape[1], 1])
        results["heatmap_mask"] = tf.cast(mask[..., 0] > 0.5, tf.float32)
        if TARGET_KEYS in results:
            keys = tuple(results[TARGET_KEYS])
            if "heatmap_mask" not in keys:
                results[TARGET_KEYS] = (*keys, "heatmap_mask")
        return results

    def get_config(self):
        return {"get_invalid": self.get_invalid}


def _flip(mask, flip, direction):
    """Flips an (h, w, 1) mask like the sample (``flip``/``flip_direction``)."""
    flip = tf.cast(flip, tf.bool)
    if direction is None:
        direction = tf.constant("horizontal")
    h_flip = flip & (
        tf.equal(direction, "horizontal") | tf.equal(direction, "diagonal")
    )
    v_flip = flip & (
        tf.equal(direction, "vertical") | tf.equal(direction, "diagonal")
    )
    mask = tf.cond(h_flip, lambda: tf.reverse(mask, [1]), lambda: mask)
    return tf.cond(v_flip, lambda: tf.reverse(mask, [0]), lambda: mask)

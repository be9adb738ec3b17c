"""Graph-mode (TensorFlow) geometry of the top-down pipeline.

These run inside ``tf.data`` map functions, one sample at a time. The warp
matrices follow MMPose's ``get_warp_matrix`` / ``get_udp_warp_matrix``
(``mmpose/structures/bbox/transforms.py``) in closed form; the image warp
matches ``cv2.warpAffine(..., flags=cv2.INTER_LINEAR)`` with a constant
zero border (pixel centres at integer coordinates on both sides).
"""

import math

from keraspose.utils.lazy_import import tf


def get_warp_matrix(center, scale, rot, output_size):
    """MMPose's standard top-down warp (``fix_aspect_ratio=True``).

    MMPose solves ``cv2.getAffineTransform`` on three point pairs; those
    triangles are similar, so the solution is the similarity below: scale
    ``dst_w / src_w``, rotation by ``-rot`` degrees, and the box centre
    mapped onto the output centre. Computed in float64 like OpenCV.

    Args:
        center: (2,) box centre (x, y).
        scale: (2,) box size (w, h).
        rot: rotation in degrees (scalar).
        output_size: (w, h) Python ints.

    Returns:
        (2, 3) float64 matrix mapping image pixels to output pixels.
    """
    center = tf.cast(center, tf.float64)
    scale = tf.cast(scale, tf.float64)
    rad = tf.cast(rot, tf.float64) * (math.pi / 180.0)
    dst_w, dst_h = float(output_size[0]), float(output_size[1])
    k = dst_w / scale[0]
    c, s = tf.cos(rad) * k, tf.sin(rad) * k
    cx, cy = center[0], center[1]
    return tf.stack(
        [
            tf.stack([c, s, dst_w * 0.5 - (c * cx + s * cy)]),
            tf.stack([-s, c, dst_h * 0.5 - (-s * cx + c * cy)]),
        ]
    )


def get_udp_warp_matrix(center, scale, rot, output_size):
    """MMPose's unbiased (UDP) warp: pixel-count-aware scale ``(w-1)/s``.

    Note MMPose's rotation sign here is the opposite of the standard warp
    (kept as in MMPose). MMPose builds the matrix in float32.

    Args:
        center: (2,) box centre (x, y).
        scale: (2,) box size (w, h).
        rot: rotation in degrees (scalar).
        output_size: (w, h) Python ints.

    Returns:
        (2, 3) float64 matrix (values rounded to float32 like MMPose).
    """
    center = tf.cast(center, tf.float64)
    scale = tf.cast(scale, tf.float64)
    rad = tf.cast(rot, tf.float64) * (math.pi / 180.0)
    sx = (float(output_size[0]) - 1.0) / scale[0]
    sy = (float(output_size[1]) - 1.0) / scale[1]
    c, s = tf.cos(rad), tf.sin(rad)
    cx, cy = center[0], center[1]
    mat = tf.stack(
        [
            tf.stack(
                [c * sx, -s * sx, sx * (-cx * c + cy * s + 0.5 * scale[0])]
            ),
            tf.stack(
                [s * sy, c * sy, sy * (-cx * s - cy * c + 0.5 * scale[1])]
            ),
        ]
    )
    return tf.cast(tf.cast(mat, tf.float32), tf.float64)


def transform_points(points, warp_mat):
    """Applies a (2, 3) affine matrix to (..., 2) points (float32 out)."""
    mat = tf.cast(warp_mat, tf.float64)
    pts = tf.cast(points, tf.float64)
    out = tf.linalg.matvec(mat[:, :2], pts) + mat[:, 2]
    return tf.cast(out, tf.float32)


def invert_affine(warp_mat):
    """``(A^-1, -A^-1 t)`` of a (2, 3) matrix ``[A | t]``, in float64."""
    mat = tf.cast(warp_mat, tf.float64)
    a = mat[:, :2]
    det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    inv = tf.stack([[a[1, 1], -a[0, 1]], [-a[1, 0], a[0, 0]]]) / det
    return inv, -tf.linalg.matvec(inv, mat[:, 2])


def warp_affine(image, warp_mat, output_size):
    """``cv2.warpAffine`` (bilinear, zero border) of an (H, W, C) image.

    Uses ``ImageProjectiveTransformV3`` with the inverse matrix; callers
    pass only the window the warp reads (see :func:`source_window`).

    Args:
        image: (H, W, C) image, any real dtype.
        warp_mat: (2, 3) matrix from image to output pixels.
        output_size: (w, h) Python ints.

    Returns:
        (h, w, C) image of the input dtype (integers are rounded and
        saturated like OpenCV).
    """
    inv, t = invert_affine(warp_mat)
    transform = tf.concat(
        [inv[0], t[:1], inv[1], t[1:], tf.zeros([2], tf.float64)], axis=0
    )
    dtype = image.dtype
    out = tf.raw_ops.ImageProjectiveTransformV3(
        images=tf.cast(image, tf.float32)[None],
        transforms=tf.cast(transform, tf.float32)[None],
        output_shape=tf.constant([output_size[1], output_size[0]], tf.int32),
        fill_value=tf.constant(0.0, tf.float32),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )[0]
    if dtype.is_integer:
        out = tf.saturate_cast(tf.round(out), dtype)
    else:
        out = tf.cast(out, dtype)
    return out


#: Pixels kept around the warp's source window (bilinear taps and JPEG
#: window-border effects stay outside the sampled area).
WINDOW_MARGIN = 16


def source_window(warp_mat, output_size, image_shape):
    """Integer image window ``(x0, y0, x1, y1)`` that the warp samples.

    The inverse-mapped output corners, plus :data:`WINDOW_MARGIN`, clipped
    to the image (a window outside the image collapses onto its border and
    only contributes zeros, as the full warp would).
    """
    inv, t = invert_affine(warp_mat)
    w, h = float(output_size[0] - 1), float(output_size[1] - 1)
    corners = tf.constant([[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]], tf.float64)
    src = tf.linalg.matvec(inv, corners) + t
    lo = tf.cast(tf.floor(tf.reduce_min(src, axis=0)), tf.int32)
    hi = tf.cast(tf.math.ceil(tf.reduce_max(src, axis=0)), tf.int32)
    lo = lo - WINDOW_MARGIN
    hi = hi + WINDOW_MARGIN
    size = tf.cast(image_shape, tf.int32)  # (h, w)
    limit = tf.stack([size[1] - 1, size[0] - 1])
    lo = tf.clip_by_value(lo, 0, limit)
    hi = tf.clip_by_value(hi, 0, limit)
    return lo[0], lo[1], hi[0], hi[1]


def shift_warp(warp_mat, x0, y0):
    """The warp for a window whose top-left pixel is image pixel (x0, y0)."""
    mat = tf.cast(warp_mat, tf.float64)
    offset = tf.cast(tf.stack([x0, y0]), tf.float64)
    t = mat[:, 2] + tf.linalg.matvec(mat[:, :2], offset)
    return tf.concat([mat[:, :2], t[:, None]], axis=1)


def fix_aspect_ratio(bbox_scale, aspect_ratio):
    """Grows (w, h) to the aspect ratio ``w / h`` (MMPose's rule)."""
    w, h = bbox_scale[..., 0], bbox_scale[..., 1]
    wider = w > h * aspect_ratio
    return tf.stack(
        [
            tf.where(wider, w, h * aspect_ratio),
            tf.where(wider, w / aspect_ratio, h),
        ],
        axis=-1,
    )

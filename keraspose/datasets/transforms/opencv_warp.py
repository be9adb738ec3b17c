"""Graph-mode (TensorFlow) warps with OpenCV 4's exact arithmetic.

MMPose's ``BottomupResize`` builds its matrix with
``cv2.getAffineTransform`` on float32 point triples and warps with
OpenCV 4's fixed-point ``cv2.warpAffine(..., flags=cv2.INTER_LINEAR)``.
An exact bilinear warp (``geometry.warp_affine``) differs from it by a
few grey levels on sharp edges, enough to move a heatmap maximum of a
lightly trained model. The functions here are the ``tf.data`` twins of
:mod:`keraspose.apis.topdown_crop`'s NumPy ones (same operation order,
float64 where OpenCV uses double, int64 fixed point), so the pipeline's
uint8 images are bit-identical to MMPose's (and to
:func:`keraspose.apis.inference.bottomup_resize`) for the same decoded
image.
"""

from keraspose.utils.lazy_import import tf
from keraspose.utils.opencv_fixed_point import AB_BITS
from keraspose.utils.opencv_fixed_point import AB_SCALE
from keraspose.utils.opencv_fixed_point import BILINEAR_TABLE
from keraspose.utils.opencv_fixed_point import COEF_BITS
from keraspose.utils.opencv_fixed_point import COEF_SCALE
from keraspose.utils.opencv_fixed_point import INTER_BITS
from keraspose.utils.opencv_fixed_point import INTER_TAB_SIZE

_EPS = 2.220446049250313e-16  # float64 machine epsilon


def get_affine_transform(src, dst):
    """``cv2.getAffineTransform`` in graph ops (OpenCV's elimination).

    Gaussian elimination of OpenCV's 6x6 system with partial pivoting
    (first largest pivot), in float64 and OpenCV's operation order, so the
    matrix is bit-equal to OpenCV's; collinear points give zeros.

    Args:
        src: (3, 2) source points (cast to float64).
        dst: (3, 2) destination points.

    Returns:
        (2, 3) float64 tensor.

    Example:

    >>> import tensorflow as tf
    >>> src = tf.constant([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> get_affine_transform(src, src * 2 + 1).numpy().tolist()
    [[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]]
    """
    src = tf.cast(tf.reshape(src, [3, 2]), tf.float64)
    dst = tf.cast(tf.reshape(dst, [3, 2]), tf.float64)
    one = tf.ones([3], tf.float64)
    zero = tf.zeros([3], tf.float64)
    x, y = src[:, 0], src[:, 1]
    rows_u = tf.stack([x, y, one, zero, zero, zero], axis=1)
    rows_v = tf.stack([zero, zero, zero, x, y, one], axis=1)
    a = tf.reshape(tf.stack([rows_u, rows_v], axis=1), [6, 6])
    b = tf.reshape(dst, [6])
    n = 6
    index = tf.range(n)
    singular = tf.constant(False)
    for i in range(n):
        col = tf.abs(a[i:, i])
        first = tf.reduce_min(
            tf.where(col == tf.reduce_max(col), tf.range(n - i), n)
        )
        k = i + tf.minimum(first, n - i - 1)  # NaNs once singular
        singular = singular | (tf.abs(a[k, i]) < 100.0 * _EPS)
        perm = tf.where(index == i, k, tf.where(index == k, i, index))
        a = tf.gather(a, perm)
        b = tf.gather(b, perm)
        if i == n - 1:
            break
        d = -1.0 / a[i, i]
        alpha = a[i + 1 :, i] * d
        lower = a[i + 1 :, i + 1 :] + alpha[:, None] * a[i, i + 1 :][None]
        a = tf.concat(
            [a[: i + 1], tf.concat([a[i + 1 :, : i + 1], lower], axis=1)],
            axis=0,
        )
        b = tf.concat([b[: i + 1], b[i + 1 :] + alpha * b[i]], axis=0)
    solved = [None] * n
    for i in range(n - 1, -1, -1):
        s = b[i]
        for c in range(i + 1, n):
            s = s - a[i, c] * solved[c]
        solved[i] = s / a[i, i]
    mat = tf.reshape(tf.stack(solved), [2, 3])
    return tf.where(singular, tf.zeros_like(mat), mat)


def get_warp_matrix(center, scale, output_wh):
    """MMPose's standard warp matrix without rotation, as OpenCV gives it.

    The point triples are rounded to float32 where MMPose stores them
    (including its float32 third-point arithmetic), then solved with
    :func:`get_affine_transform`.

    Args:
        center: (2,) float32 centre.
        scale: (2,) float32 size (w, h).
        output_wh: (2,) output (w, h) (any numeric tensor).

    Returns:
        (2, 3) float64 tensor mapping image pixels to output pixels.

    Example:

    >>> import tensorflow as tf
    >>> m = get_warp_matrix(tf.constant([50.0, 50.0]),
    ...                     tf.constant([100.0, 100.0]), tf.constant([10, 10]))
    >>> m.numpy().round(6).tolist()
    [[0.1, 0.0, 0.0], [0.0, 0.1, 0.0]]
    """
    center = tf.cast(center, tf.float32)
    c64 = tf.cast(center, tf.float64)
    half_w = tf.cast(scale[0], tf.float64) * -0.5
    src0 = center
    src1 = tf.cast(tf.stack([c64[0] + half_w, c64[1]]), tf.float32)
    out = tf.cast(output_wh, tf.float64)
    dst0 = tf.cast(tf.stack([out[0] * 0.5, out[1] * 0.5]), tf.float32)
    dst1 = tf.cast(
        tf.stack([out[0] * 0.5 - out[0] * 0.5, out[1] * 0.5]), tf.float32
    )
    src = tf.stack([src0, src1, _third_point(src0, src1)])
    dst = tf.stack([dst0, dst1, _third_point(dst0, dst1)])
    return get_affine_transform(src, dst)


def _third_point(a, b):
    """MMPose's ``_get_3rd_point`` in float32."""
    d = a - b
    return b + tf.stack([-d[1], d[0]])


def warp_affine_opencv(image, warp_mat, output_hw, pad_val=(0, 0, 0)):
    """OpenCV 4's ``cv2.warpAffine(..., flags=cv2.INTER_LINEAR)``.

    Evaluates the inverse map in 10-bit fixed point, quantises source
    positions to 1/32 px and blends the four taps with 15-bit integer
    weights (uint8 images: bit-identical to OpenCV 4); taps outside the
    image read ``pad_val`` (``BORDER_CONSTANT``). Other dtypes blend with
    float weights.

    Args:
        image: (H, W, C) image.
        warp_mat: (2, 3) matrix mapping image pixels to output pixels.
        output_hw: (2,) int32 (h, w) of the output (a tensor or ints).
        pad_val: ``borderValue``, C numbers (or one).

    Returns:
        (h, w, C) image of the input dtype.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> img = tf.constant(np.arange(16, dtype=np.uint8).reshape(4, 4, 1))
    >>> m = tf.constant([[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]], tf.float64)
    >>> warp_affine_opencv(img, m, (1, 3))[..., 0].numpy().tolist()
    [[1, 2, 3]]
    """
    m = tf.reshape(tf.cast(warp_mat, tf.float64), [6])
    out_h = tf.cast(output_hw[0], tf.int32)
    out_w = tf.cast(output_hw[1], tf.int32)
    det = m[0] * m[4] - m[1] * m[3]
    det = tf.where(det != 0.0, 1.0 / tf.where(det != 0.0, det, 1.0), 0.0)
    a11, a22 = m[4] * det, m[0] * det
    a12, a21 = m[1] * -det, m[3] * -det
    b1 = -a11 * m[2] - a12 * m[5]
    b2 = -a21 * m[2] - a22 * m[5]
    xs = tf.cast(tf.range(out_w), tf.float64)
    ys = tf.cast(tf.range(out_h), tf.float64)

    def fixed(v):
        return tf.cast(tf.round(v), tf.int64)

    adelta = fixed(a11 * xs * AB_SCALE)
    bdelta = fixed(a21 * xs * AB_SCALE)
    round_delta = AB_SCALE // INTER_TAB_SIZE // 2
    x0 = fixed((a12 * ys + b1) * AB_SCALE) + round_delta
    y0 = fixed((a22 * ys + b2) * AB_SCALE) + round_delta
    shift = AB_BITS - INTER_BITS
    rshift = tf.bitwise.right_shift
    fx = rshift(x0[:, None] + adelta[None, :], shift)
    fy = rshift(y0[:, None] + bdelta[None, :], shift)
    sx = tf.clip_by_value(rshift(fx, INTER_BITS), -32768, 32767)
    sy = tf.clip_by_value(rshift(fy, INTER_BITS), -32768, 32767)
    mask = INTER_TAB_SIZE - 1
    frac = tf.bitwise.bitwise_and(fy, mask) * INTER_TAB_SIZE
    frac = frac + tf.bitwise.bitwise_and(fx, mask)
    shape = tf.shape(image, out_type=tf.int64)
    h, w = shape[0], shape[1]
    integer = image.dtype == tf.uint8
    work = tf.int64 if integer else tf.float32
    channels = image.shape[-1]
    pad = tf.cast(tf.constant(pad_val, tf.float64), work)
    if channels is not None and pad.shape.rank == 1 and pad.shape[0] == 3:
        pad = pad[:channels] if channels < 3 else pad
    table = tf.constant(BILINEAR_TABLE, tf.int64)
    wts = tf.gather(table, frac)
    if not integer:
        wts = tf.cast(wts, tf.float32) / COEF_SCALE
        exact = (frac == 0)[..., None]
        wts = tf.where(exact, tf.constant([1.0, 0.0, 0.0, 0.0]), wts)
    acc = None
    for t, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        ty, tx = sy + dy, sx + dx
        inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
        idx = tf.stack(
            [tf.clip_by_value(ty, 0, h - 1), tf.clip_by_value(tx, 0, w - 1)],
            axis=-1,
        )
        px = tf.cast(tf.gather_nd(image, idx), work)
        px = tf.where(inside[..., None], px, pad)
        term = px * wts[..., t : t + 1]
        acc = term if acc is None else acc + term
    if integer:
        half = 1 << (COEF_BITS - 1)
        out = tf.clip_by_value(rshift(acc + half, COEF_BITS), 0, 255)
        return tf.cast(out, tf.uint8)
    return tf.cast(acc, image.dtype)

"""Host-side (NumPy) person crops that reproduce MMPose's pixels exactly.

MMPose's test pipeline (``GetBBoxCenterScale`` then ``TopdownAffine``)
builds the warp matrix from float32 point triples
(``cv2.getAffineTransform``) and warps with OpenCV 4's
``cv2.warpAffine(..., flags=cv2.INTER_LINEAR)``. That warp is fixed point:
source coordinates are rounded to 1/32 pixel and the bilinear weights are
15-bit integers, so it differs from an exact bilinear warp (keraspose's
``tf.data`` ``TopdownAffine``, OpenCV 5's ``warpAffine``) by up to about
5 grey levels on sharp edges. With random or lightly trained weights such
differences can move a heatmap maximum, so :func:`crop_instances`
re-implements OpenCV 4's arithmetic in NumPy (no OpenCV needed) and the
float precision of MMPose's box and matrix code (MMPose 1.3.2 with
NumPy 1.x, where NumPy scalar arithmetic promotes to float64).
"""

import math

import numpy as np

from keraspose.utils.opencv_fixed_point import AB_BITS
from keraspose.utils.opencv_fixed_point import AB_SCALE
from keraspose.utils.opencv_fixed_point import BILINEAR_TABLE
from keraspose.utils.opencv_fixed_point import COEF_BITS
from keraspose.utils.opencv_fixed_point import COEF_SCALE
from keraspose.utils.opencv_fixed_point import INTER_BITS
from keraspose.utils.opencv_fixed_point import INTER_TAB_SIZE


def bbox_xyxy2cs(bboxes, padding=1.25):
    """Box centres and padded sizes, in the boxes' dtype (like MMPose).

    Args:
        bboxes: (N, 4) xyxy boxes (float32 or float64; integers give
            float64 like NumPy).
        padding: size factor (``GetBBoxCenterScale``).

    Returns:
        ``(center, scale)``, each (N, 2).

    Example:

    >>> c, s = bbox_xyxy2cs(np.array([[0.0, 0.0, 10.0, 20.0]]))
    >>> c.tolist(), s.tolist()
    ([[5.0, 10.0]], [[12.5, 25.0]])
    """
    bboxes = np.asarray(bboxes)
    center = (bboxes[..., 2:] + bboxes[..., :2]) * 0.5
    scale = (bboxes[..., 2:] - bboxes[..., :2]) * padding
    return center, scale


def fix_aspect_ratio(scale, aspect_ratio):
    """Grows (N, 2) sizes (w, h) to ``w / h == aspect_ratio`` (MMPose).

    Example:

    >>> fix_aspect_ratio(np.array([[30.0, 40.0]]), 0.5).tolist()
    [[30.0, 60.0]]
    """
    scale = np.asarray(scale)
    w, h = np.hsplit(scale, [1])
    return np.where(
        w > h * aspect_ratio,
        np.hstack([w, w / aspect_ratio]),
        np.hstack([h * aspect_ratio, h]),
    )


def _third_point(a, b):
    d = a - b
    return b + np.r_[-d[1], d[0]]


def get_warp_matrix(center, scale, rot, output_size):
    """MMPose's standard warp (image -> crop pixels), float64 (2, 3).

    The point triples are rounded to float32 exactly where MMPose's
    ``get_warp_matrix`` stores them, then the affine map through them is
    solved in float64 (``cv2.getAffineTransform``'s precision).

    Args:
        center: (2,) box centre.
        scale: (2,) box size (w, h), aspect ratio already fixed.
        rot: rotation in degrees.
        output_size: (w, h) of the crop.

    Example:

    >>> m = get_warp_matrix(np.array([50.0, 50.0]), np.array([100.0, 100.0]),
    ...                     0.0, (10, 10))
    >>> np.round(m, 6).tolist()
    [[0.1, 0.0, 0.0], [0.0, 0.1, 0.0]]
    """
    center = np.asarray(center)
    src_w = float(scale[0])
    dst_w, dst_h = output_size
    rad = np.deg2rad(rot)
    sn, cs = np.sin(rad), np.cos(rad)
    x = src_w * -0.5
    src_dir = np.array([cs * x - sn * 0.0, sn * x + cs * 0.0])
    src = np.zeros((3, 2), np.float32)
    src[0] = center.astype(np.float64)
    src[1] = center.astype(np.float64) + src_dir
    src[2] = _third_point(src[0], src[1])
    dst = np.zeros((3, 2), np.float32)
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = [dst_w * 0.5 - dst_w * 0.5, dst_h * 0.5]
    dst[2] = _third_point(dst[0], dst[1])
    return get_affine_transform(src, dst)


def get_affine_transform(src, dst):
    """``cv2.getAffineTransform``: the (2, 3) map of 3 points onto 3 points.

    Solves OpenCV's 6x6 system with OpenCV's Gaussian elimination (partial
    pivoting, float64, same operation order), so the matrix is bit-equal
    to OpenCV's; a generic solver differs in the last bits, which can move
    a fixed-point sample position of :func:`warp_affine_linear`.

    Args:
        src: (3, 2) source points (MMPose passes float32).
        dst: (3, 2) destination points.

    Returns:
        (2, 3) float64 matrix.

    Example:

    >>> src = np.array([[0, 0], [1, 0], [0, 1]], np.float32)
    >>> get_affine_transform(src, src * 2 + 1).tolist()
    [[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]]
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != (3, 2) or dst.shape != (3, 2):
        raise ValueError(
            "get_affine_transform expects two (3, 2) point arrays. Received "
            f"shapes {src.shape} and {dst.shape}"
        )
    a, b = [], []
    for (x, y), (u, v) in zip(src.tolist(), dst.tolist()):
        a += [[x, y, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, x, y, 1.0]]
        b += [u, v]
    n = 6
    for i in range(n):
        k = i
        for j in range(i + 1, n):
            if abs(a[j][i]) > abs(a[k][i]):
                k = j
        if abs(a[k][i]) < 100 * np.finfo(np.float64).eps:
            # Collinear points (an empty box): OpenCV returns zeros.
            return np.zeros((2, 3), np.float64)
        a[i], a[k] = a[k], a[i]
        b[i], b[k] = b[k], b[i]
        d = -1.0 / a[i][i]
        for j in range(i + 1, n):
            alpha = a[j][i] * d
            for c in range(i + 1, n):
                a[j][c] += alpha * a[i][c]
            b[j] += alpha * b[i]
    for i in range(n - 1, -1, -1):
        s = b[i]
        for c in range(i + 1, n):
            s -= a[i][c] * b[c]
        b[i] = s / a[i][i]
    return np.array(b, np.float64).reshape(2, 3)


def get_udp_warp_matrix(center, scale, rot, output_size):
    """MMPose's UDP warp (Huang et al., CVPR 2020), float32 entries.

    Computed in float64 from the float32 box like MMPose under NumPy 1.x,
    then rounded to float32 where MMPose stores it; returned as float64.

    Example:

    >>> m = get_udp_warp_matrix(np.array([49.5, 49.5]),
    ...                         np.array([99.0, 99.0]), 0.0, (10, 10))
    >>> (np.round(m, 6) + 0.0).tolist()
    [[0.090909, 0.0, 0.0], [0.0, 0.090909, 0.0]]
    """
    in_w, in_h = (float(v) for v in np.asarray(center) * 2)
    sw, sh = float(scale[0]), float(scale[1])
    rad = float(np.deg2rad(rot))
    c, s = math.cos(rad), math.sin(rad)
    sx = (output_size[0] - 1) / sw
    sy = (output_size[1] - 1) / sh
    mat = np.zeros((2, 3), np.float32)
    mat[0, 0] = c * sx
    mat[0, 1] = -s * sx
    mat[0, 2] = sx * (-0.5 * in_w * c + 0.5 * in_h * s + 0.5 * sw)
    mat[1, 0] = s * sy
    mat[1, 1] = c * sy
    mat[1, 2] = sy * (-0.5 * in_w * s - 0.5 * in_h * c + 0.5 * sh)
    return mat.astype(np.float64)


def warp_affine_linear(image, warp_mat, output_size):
    """``cv2.warpAffine(img, M, size, flags=INTER_LINEAR)`` of OpenCV 4.

    Reproduces OpenCV 4's arithmetic: the inverse map is evaluated in
    10-bit fixed point, source positions are quantised to 1/32 px, the
    bilinear weights are 15-bit integers, and pixels outside the image
    read as 0 (``BORDER_CONSTANT``). uint8 images come out bit-identical
    to OpenCV 4.x; other dtypes use float weights (equal up to rounding).

    Args:
        image: (H, W) or (H, W, C) image.
        warp_mat: (2, 3) matrix mapping image pixels to output pixels.
        output_size: (w, h) of the output.

    Returns:
        (h, w[, C]) image of the input dtype.

    Example:

    >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4)
    >>> m = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]])
    >>> warp_affine_linear(img, m, (3, 1)).tolist()
    [[1, 2, 3]]
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(
            "warp_affine_linear expects an (H, W) or (H, W, C) image. "
            f"Received shape {image.shape}"
        )
    m = np.asarray(warp_mat, np.float64).reshape(-1)
    if m.size != 6:
        raise ValueError(
            "warp_affine_linear expects a (2, 3) matrix. Received shape "
            f"{np.shape(warp_mat)}"
        )
    out_w, out_h = int(output_size[0]), int(output_size[1])
    # Inverse map, with OpenCV's operation order.
    det = m[0] * m[4] - m[1] * m[3]
    det = 1.0 / det if det != 0 else 0.0
    a11, a22 = m[4] * det, m[0] * det
    a12, a21 = m[1] * -det, m[3] * -det
    b1 = -a11 * m[2] - a12 * m[5]
    b2 = -a21 * m[2] - a22 * m[5]
    xs = np.arange(out_w, dtype=np.float64)
    ys = np.arange(out_h, dtype=np.float64)
    adelta = np.rint(a11 * xs * AB_SCALE).astype(np.int64)
    bdelta = np.rint(a21 * xs * AB_SCALE).astype(np.int64)
    round_delta = AB_SCALE // INTER_TAB_SIZE // 2
    x0 = np.rint((a12 * ys + b1) * AB_SCALE).astype(np.int64) + round_delta
    y0 = np.rint((a22 * ys + b2) * AB_SCALE).astype(np.int64) + round_delta
    shift = AB_BITS - INTER_BITS
    fx_all = (x0[:, None] + adelta[None, :]) >> shift
    fy_all = (y0[:, None] + bdelta[None, :]) >> shift
    sx = np.clip(fx_all >> INTER_BITS, -32768, 32767)
    sy = np.clip(fy_all >> INTER_BITS, -32768, 32767)
    frac = (fy_all & (INTER_TAB_SIZE - 1)) * INTER_TAB_SIZE + (
        fx_all & (INTER_TAB_SIZE - 1)
    )
    squeeze = image.ndim == 2
    img = image[..., None] if squeeze else image
    h, w = img.shape[:2]
    integer = img.dtype == np.uint8
    taps = []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        ty, tx = sy + dy, sx + dx
        inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
        px = img[np.clip(ty, 0, h - 1), np.clip(tx, 0, w - 1)]
        px = np.where(inside[..., None], px, 0)
        taps.append(px.astype(np.int64 if integer else np.float32))
    if integer:
        wts = BILINEAR_TABLE[frac]
        acc = sum(taps[k] * wts[..., k : k + 1] for k in range(4))
        out = np.clip((acc + (1 << (COEF_BITS - 1))) >> COEF_BITS, 0, 255)
    else:
        wts = (BILINEAR_TABLE[frac] / COEF_SCALE).astype(np.float32)
        wts[frac == 0] = np.array([1, 0, 0, 0], np.float32)
        acc = taps[0] * wts[..., 0:1]
        for k in range(1, 4):
            acc = acc + taps[k] * wts[..., k : k + 1]
        out = acc
    out = out.astype(image.dtype)
    return out[..., 0] if squeeze else out


def crop_instances(image, bboxes, input_size, padding=1.25, use_udp=False):
    """MMPose's test-time crops: ``GetBBoxCenterScale`` + ``TopdownAffine``.

    Args:
        image: (H, W, 3) image (uint8 BGR for MMPose parity).
        bboxes: (N, 4) xyxy boxes; their dtype is kept like MMPose (a
            Python list becomes float64).
        input_size: model input (w, h).
        padding: box padding.
        use_udp: MMPose's UDP warp instead of the standard one.

    Returns:
        ``(crops, centers, scales)``: (N, h, w, 3) crops of the image dtype,
        and the (N, 2) ``input_center`` / ``input_scale`` of each crop.

    Example:

    >>> img = np.zeros((40, 30, 3), np.uint8)
    >>> crops, c, s = crop_instances(img, [[0, 0, 30, 40]], (12, 16))
    >>> crops.shape, c.tolist(), s.tolist()
    ((1, 16, 12, 3), [[15.0, 20.0]], [[37.5, 50.0]])
    """
    w, h = int(input_size[0]), int(input_size[1])
    boxes = np.asarray(bboxes)
    centers, scales = bbox_xyxy2cs(boxes, padding)
    scales = fix_aspect_ratio(scales, w / h)
    make = get_udp_warp_matrix if use_udp else get_warp_matrix
    crops = [
        warp_affine_linear(image, make(c, s, 0.0, (w, h)), (w, h))
        for c, s in zip(centers, scales)
    ]
    if crops:
        crops = np.stack(crops)
    else:
        crops = np.zeros(
            (0, h, w) + np.shape(image)[2:], np.asarray(image).dtype
        )
    return crops, centers, scales

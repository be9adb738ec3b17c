"""Batched keypoint refinements of UDP and Megvii decoding, in ``keras.ops``.

Everything runs on the device (jit-safe, static shapes) and reproduces
MMPose's NumPy/OpenCV decoding: ``refine_keypoints_dark_udp``, the UDP
"combined" map decoding and the Megvii quarter-offset refinement.
Heatmaps are channels-last (B, H, W, C); keypoints (B, K, 2) are (x, y) in
heatmap pixels.
"""

import numpy as np
from keras import ops

from keraspose.codecs.utils.opencv_blur import reflect101_indices
from keraspose.codecs.utils.post_processing import gaussian_blur
from keraspose.codecs.utils.post_processing import get_heatmap_maximum
from keraspose.codecs.utils.post_processing import separable_gaussian

_EPS32 = float(np.finfo(np.float32).eps)


def opencv_gaussian_blur(heatmaps, kernel_size):
    """``cv2.GaussianBlur(map, (k, k), 0)`` on every channel.

    OpenCV's default border (``BORDER_REFLECT_101``) and kernel; unlike
    :func:`gaussian_blur` (DARK's modulation) the result is not rescaled.

    Args:
        heatmaps: (B, H, W, C) with static H and W.
        kernel_size: odd kernel size.

    Returns:
        Blurred (B, H, W, C) heatmaps.

    Example:

    >>> import numpy as np
    >>> hm = np.zeros((1, 5, 5, 1), "float32"); hm[0, 2, 2] = 1
    >>> out = np.asarray(opencv_gaussian_blur(hm, 3))
    >>> float(out[0, 2, 2, 0]), float(out.sum())
    (0.25, 1.0)
    """
    h, w = heatmaps.shape[1], heatmaps.shape[2]
    pad = kernel_size // 2
    x = ops.take(heatmaps, reflect101_indices(w, pad), axis=2)
    x = ops.take(x, reflect101_indices(h, pad), axis=1)
    return separable_gaussian(x, kernel_size, "valid")


def _flat_channels_first(heatmaps):
    """(B, H, W, K) -> (B, K * H * W) in MMPose's (K, H, W) order."""
    shape = ops.shape(heatmaps)
    return ops.reshape(
        ops.transpose(heatmaps, (0, 3, 1, 2)),
        (shape[0], shape[1] * shape[2] * shape[3]),
    )


def _take_wrapped(flat, index):
    """``flat[b, index]`` with NumPy's negative-index wrap-around."""
    total = flat.shape[-1]
    return ops.take_along_axis(flat, (index + total) % total, axis=-1)


def refine_keypoints_dark_udp(keypoints, heatmaps, blur_kernel_size):
    """UDP's DARK refinement: a Newton step on the log heatmap.

    Reference: Huang et al., "The Devil is in the Details: Delving into
    Unbiased Data Processing for Human Pose Estimation", CVPR 2020.

    As MMPose's ``refine_keypoints_dark_udp``: the heatmaps are modulated
    (:func:`gaussian_blur`), clipped to [1e-3, 50], log-transformed and
    edge-padded by one pixel; the gradient and Hessian come from the 3x3
    neighbourhood of the integer maximum, and ``H + eps * I`` (float32 eps)
    is inverted. Every keypoint is refined, including those with no
    maximum (at (-1, -1)): their neighbourhood indices run into the
    previous keypoint's map (the first wraps to the last), exactly as
    MMPose's flat indexing does. The 2x2 inverse is computed in float32
    (MMPose: float64); a singular Hessian (where MMPose raises) leaves the
    keypoint unchanged.

    Args:
        keypoints: (B, K, 2) integer-valued maxima in heatmap pixels.
        heatmaps: (B, H, W, K) raw heatmaps.
        blur_kernel_size: odd modulation kernel size.

    Returns:
        Refined (B, K, 2) keypoints.

    Example:

    >>> import numpy as np
    >>> yy, xx = np.mgrid[:16, :16]
    >>> hm = np.exp(-((xx - 7.3) ** 2 + (yy - 8.6) ** 2) / 8.0)
    >>> hm = hm[None, :, :, None].astype("float32")
    >>> kp = np.array([[[7.0, 9.0]]], "float32")
    >>> out = refine_keypoints_dark_udp(kp, hm, 11)
    >>> np.asarray(out, "float64").round(2).tolist()
    [[[7.3, 8.6]]]
    """
    hm = gaussian_blur(heatmaps, blur_kernel_size)
    hm = ops.log(ops.clip(hm, 1e-3, 50.0))
    # edge padding by one pixel, as np.pad(mode="edge")
    hm = ops.concatenate([hm[:, :1], hm, hm[:, -1:]], axis=1)
    hm = ops.concatenate([hm[:, :, :1], hm, hm[:, :, -1:]], axis=2)
    h2, w2, k = hm.shape[1], hm.shape[2], hm.shape[3]
    flat = _flat_channels_first(hm)
    x = ops.cast(ops.trunc(keypoints[..., 0]), "int32")
    y = ops.cast(ops.trunc(keypoints[..., 1]), "int32")
    base = np.arange(k, dtype=np.int32)[None] * (h2 * w2)
    index = x + 1 + (y + 1) * w2 + ops.convert_to_tensor(base)

    def at(offset):
        return _take_wrapped(flat, index + offset)

    i_ = at(0)
    ix1, ix1_ = at(1), at(-1)
    iy1, iy1_ = at(w2), at(-w2)
    ix1y1, ix1_y1_ = at(w2 + 1), at(-w2 - 1)
    dx = 0.5 * (ix1 - ix1_)
    dy = 0.5 * (iy1 - iy1_)
    dxx = ix1 - 2 * i_ + ix1_
    dyy = iy1 - 2 * i_ + iy1_
    # MMPose's operand order, evaluated left to right in float32
    dxy = 0.5 * (ix1y1 - ix1 - iy1 + i_ + i_ - ix1_ - iy1_ + ix1_y1_)
    a = dxx + _EPS32
    d = dyy + _EPS32
    det = a * d - dxy * dxy
    ok = det != 0
    safe = ops.where(ok, det, 1.0)
    off_x = ops.where(ok, (d * dx - dxy * dy) / safe, 0.0)
    off_y = ops.where(ok, (a * dy - dxy * dx) / safe, 0.0)
    offset = ops.stack([off_x, off_y], axis=-1)
    return keypoints - ops.cast(offset, keypoints.dtype)


def decode_udp_combined(heatmaps, blur_kernel_size, radius_factor):
    """Keypoints from UDP "combined" maps (disc + x/y offsets).

    As MMPose's ``UDPHeatmap.decode`` for ``heatmap_type='combined'``: the
    disc channels ``3k`` are blurred with ``cv2.GaussianBlur`` of kernel
    ``2 * blur_kernel_size + 1`` (not rescaled), their maxima give the
    integer locations and the scores, and the offsets ``3k + 1``, ``3k + 2``
    at the maxima, times ``radius_factor * max(W, H)``, are added. A
    keypoint with no maximum (at (-1, -1)) reads its offsets through
    MMPose's flat index, i.e. from the previous keypoint's maps (the first
    wraps to the last), as MMPose does.

    Args:
        heatmaps: (B, H, W, 3K) maps, MMPose's channel grouping.
        blur_kernel_size: the codec's ``blur_kernel_size``.
        radius_factor: the codec's ``radius_factor``.

    Returns:
        ``(keypoints (B, K, 2), scores (B, K))`` in heatmap pixels.
    """
    h, w = heatmaps.shape[1], heatmaps.shape[2]
    k = heatmaps.shape[3] // 3
    cls = opencv_gaussian_blur(heatmaps[..., 0::3], 2 * blur_kernel_size + 1)
    keypoints, scores = get_heatmap_maximum(cls)
    radius = radius_factor * max(w, h)
    x = ops.cast(keypoints[..., 0], "int32")
    y = ops.cast(keypoints[..., 1], "int32")
    base = np.arange(k, dtype=np.int32)[None] * (h * w)
    index = x + y * w + ops.convert_to_tensor(base)
    x_off = _take_wrapped(_flat_channels_first(heatmaps[..., 1::3]), index)
    y_off = _take_wrapped(_flat_channels_first(heatmaps[..., 2::3]), index)
    offset = ops.stack([x_off * radius, y_off * radius], axis=-1)
    return keypoints + offset, scores


def refine_keypoints_megvii(keypoints, heatmaps):
    """Megvii's refinement: quarter pixel to the higher neighbour, + 0.5.

    As MMPose's ``MegviiHeatmap.decode``: only where ``1 < x < W - 1`` and
    ``1 < y < H - 1``, each coordinate moves by ``0.25 * sign`` of its
    central difference and then by half a pixel; elsewhere it is unchanged.

    Args:
        keypoints: (B, K, 2) integer-valued maxima.
        heatmaps: (B, H, W, K) (already modulated) heatmaps.

    Returns:
        Refined (B, K, 2) keypoints.
    """
    h, w = heatmaps.shape[1], heatmaps.shape[2]
    flat = _flat_channels_first(heatmaps)
    k = heatmaps.shape[3]
    x = ops.cast(ops.trunc(keypoints[..., 0]), "int32")
    y = ops.cast(ops.trunc(keypoints[..., 1]), "int32")
    ok = (x > 1) & (x < w - 1) & (y > 1) & (y < h - 1)
    base = np.arange(k, dtype=np.int32)[None] * (h * w)
    index = ops.where(ok, x + y * w, 0) + ops.convert_to_tensor(base)
    last = h * w * k - 1

    def at(offset):
        # indices are only used where `ok`; the clip keeps the others legal
        return ops.take_along_axis(
            flat, ops.clip(index + offset, 0, last), axis=-1
        )

    dx = at(1) - at(-1)
    dy = at(w) - at(-w)
    safe_dx = ops.where(ok, dx, 0.0)
    safe_dy = ops.where(ok, dy, 0.0)
    shift = ops.stack([ops.sign(safe_dx), ops.sign(safe_dy)], axis=-1)
    shift = ops.where(ops.expand_dims(ok, -1), shift * 0.25 + 0.5, 0.0)
    return keypoints + ops.cast(shift, keypoints.dtype)

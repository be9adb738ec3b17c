"""Batched heatmap decoding in ``keras.ops`` (runs on the device, jit-safe).

All functions take channels-last heatmaps (B, H, W, K) and keypoints
(B, K, 2) as (x, y) in heatmap pixels, and reproduce MMPose's NumPy
post-processing (``get_heatmap_maximum``, ``refine_keypoints``,
``gaussian_blur``, ``refine_keypoints_dark``) without host round trips.
"""

import numpy as np
from keras import ops


def get_heatmap_maximum(heatmaps):
    """Locations and values of each heatmap's maximum.

    As in MMPose, a location is (-1, -1) where the maximum is <= 0.

    Args:
        heatmaps: (B, H, W, K).

    Returns:
        ``(locs (B, K, 2) float32 as (x, y), vals (B, K))``.
    """
    shape = ops.shape(heatmaps)
    b, h, w, k = shape[0], shape[1], shape[2], shape[3]
    flat = ops.reshape(ops.transpose(heatmaps, (0, 3, 1, 2)), (b, k, h * w))
    index = ops.argmax(flat, axis=-1)
    vals = ops.max(flat, axis=-1)
    x = ops.cast(index % w, "float32")
    y = ops.cast(index // w, "float32")
    locs = ops.stack([x, y], axis=-1)
    locs = ops.where(ops.expand_dims(vals > 0, -1), locs, -1.0)
    return locs, vals


def _gather_hw(heatmaps_bkhw, x, y):
    """Gathers ``heatmaps[b, k, y, x]`` for integer (B, K) x, y (clipped)."""
    shape = ops.shape(heatmaps_bkhw)
    h, w = shape[2], shape[3]
    x = ops.clip(x, 0, w - 1)
    y = ops.clip(y, 0, h - 1)
    flat = ops.reshape(heatmaps_bkhw, (shape[0], shape[1], h * w))
    index = ops.expand_dims(y * w + x, -1)
    return ops.squeeze(ops.take_along_axis(flat, index, axis=-1), -1)


def refine_keypoints(keypoints, heatmaps):
    """MMPose's quarter-pixel shift towards the higher neighbour.

    Args:
        keypoints: (B, K, 2) integer-valued maxima.
        heatmaps: (B, H, W, K).

    Returns:
        Refined (B, K, 2) keypoints.
    """
    hm = ops.transpose(heatmaps, (0, 3, 1, 2))
    shape = ops.shape(hm)
    h, w = shape[2], shape[3]
    x = ops.cast(ops.trunc(keypoints[..., 0]), "int32")
    y = ops.cast(ops.trunc(keypoints[..., 1]), "int32")
    ok_x = (x > 1) & (x < w - 1) & (y > 0) & (y < h)
    ok_y = (y > 1) & (y < h - 1) & (x > 0) & (x < w)
    dx = _gather_hw(hm, x + 1, y) - _gather_hw(hm, x - 1, y)
    dy = _gather_hw(hm, x, y + 1) - _gather_hw(hm, x, y - 1)
    dx = ops.where(ok_x, dx, 0.0)
    dy = ops.where(ok_y, dy, 0.0)
    shift = ops.stack([ops.sign(dx), ops.sign(dy)], axis=-1) * 0.25
    return keypoints + ops.cast(shift, keypoints.dtype)


def gaussian_kernel1d(kernel_size):
    """OpenCV's ``getGaussianKernel(ksize, sigma=0)`` as used by MMPose."""
    fixed = {
        1: [1.0],
        3: [0.25, 0.5, 0.25],
        5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
        7: [
            0.03125,
            0.109375,
            0.21875,
            0.28125,
            0.21875,
            0.109375,
            0.03125,
        ],
        # OpenCV's table also fixes k=9 (not the sigma formula)
        9: [
            0.015625,
            0.05078125,
            0.1171875,
            0.19921875,
            0.234375,
            0.19921875,
            0.1171875,
            0.05078125,
            0.015625,
        ],
    }
    if kernel_size in fixed:
        return np.asarray(fixed[kernel_size], np.float64)
    sigma = 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
    x = np.arange(kernel_size) - (kernel_size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def separable_gaussian(heatmaps, kernel_size, padding):
    """OpenCV's Gaussian kernel on every channel of (B, H, W, C) maps.

    Rows (x) first, then columns (y), as OpenCV filters. ``padding`` is
    ``"same"`` (zeros around the map) or ``"valid"`` (the caller padded).
    """
    c = heatmaps.shape[-1]
    g = gaussian_kernel1d(kernel_size).astype(np.float32)
    kx = np.tile(g.reshape(1, kernel_size, 1, 1), (1, 1, c, 1))
    ky = np.tile(g.reshape(kernel_size, 1, 1, 1), (1, 1, c, 1))
    x = ops.depthwise_conv(heatmaps, ops.convert_to_tensor(kx), 1, padding)
    return ops.depthwise_conv(x, ops.convert_to_tensor(ky), 1, padding)


def gaussian_blur(heatmaps, kernel_size=11):
    """MMPose's DARK modulation: zero-padded Gaussian blur, max-preserving.

    Args:
        heatmaps: (B, H, W, K).
        kernel_size: odd blur kernel size.

    Returns:
        Blurred heatmaps (B, H, W, K) rescaled to the original maxima.
    """
    if kernel_size % 2 != 1:
        raise ValueError(
            f"Expected an odd blur kernel size. Received: {kernel_size}"
        )
    origin_max = ops.max(heatmaps, axis=(1, 2), keepdims=True)
    blurred = separable_gaussian(heatmaps, kernel_size, "same")
    new_max = ops.max(blurred, axis=(1, 2), keepdims=True)
    safe = ops.where(new_max == 0, 1.0, new_max)
    return blurred * (origin_max / safe)


def refine_keypoints_dark(keypoints, heatmaps, blur_kernel_size):
    """Distribution-aware (DARK) sub-pixel refinement.

    Reference: Zhang et al., "Distribution-Aware Coordinate Representation
    for Human Pose Estimation", CVPR 2020.

    Args:
        keypoints: (B, K, 2) integer-valued maxima in heatmap pixels.
        heatmaps: (B, H, W, K) raw heatmaps.
        blur_kernel_size: modulation kernel size.

    Returns:
        Refined (B, K, 2) keypoints.
    """
    hm = gaussian_blur(heatmaps, blur_kernel_size)
    hm = ops.log(ops.maximum(hm, 1e-10))
    hm = ops.transpose(hm, (0, 3, 1, 2))
    shape = ops.shape(hm)
    h, w = shape[2], shape[3]
    x = ops.cast(ops.trunc(keypoints[..., 0]), "int32")
    y = ops.cast(ops.trunc(keypoints[..., 1]), "int32")

    def at(dx_, dy_):
        return _gather_hw(hm, x + dx_, y + dy_)

    c = at(0, 0)
    dx = 0.5 * (at(1, 0) - at(-1, 0))
    dy = 0.5 * (at(0, 1) - at(0, -1))
    dxx = 0.25 * (at(2, 0) - 2 * c + at(-2, 0))
    dxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    dyy = 0.25 * (at(0, 2) - 2 * c + at(0, -2))
    det = dxx * dyy - dxy**2
    ok = (x > 1) & (x < w - 2) & (y > 1) & (y < h - 2) & (det != 0)
    safe_det = ops.where(ok, det, 1.0)
    # offset = -H^-1 g with H^-1 = [[dyy, -dxy], [-dxy, dxx]] / det
    off_x = -(dyy * dx - dxy * dy) / safe_det
    off_y = -(-dxy * dx + dxx * dy) / safe_det
    offset = ops.stack(
        [ops.where(ok, off_x, 0.0), ops.where(ok, off_y, 0.0)], axis=-1
    )
    return keypoints + ops.cast(offset, keypoints.dtype)

"""UDP target generation (host side, NumPy, vectorised over keypoints).

Reference: Huang et al., "The Devil is in the Details: Delving into Unbiased
Data Processing for Human Pose Estimation", CVPR 2020.

The numbers follow MMPose 1.x's ``generate_udp_gaussian_heatmaps`` and
``generate_offset_heatmap`` (which run under NumPy 1.x casting rules: the
Gaussian is evaluated in float32, the offsets in float64 and stored as
float32). Outputs are channels-last.
"""

import numpy as np


def _trunc(x):
    """``astype(int64)``: truncation toward zero, as MMPose casts."""
    return np.trunc(x).astype(np.int64)


def generate_udp_gaussian_heatmaps(
    heatmap_size, keypoints, keypoints_visible, sigma
):
    """UDP Gaussian heatmaps: a sub-pixel Gaussian in an integer window.

    The window is MMPose's: centred on ``int(keypoint + 0.5)`` (truncation
    toward zero, so keypoints left of / above the image shift the window by
    a pixel), ``2 * 3 * sigma + 1`` wide, and the Gaussian inside it is
    centred at the exact sub-pixel location. A labelled keypoint whose
    window lies fully outside the heatmap gets weight 0; other weights keep
    their visibility value.

    Args:
        heatmap_size: (W, H).
        keypoints: (N, K, 2) keypoints in heatmap pixels.
        keypoints_visible: (N, K); keypoints below 0.5 are skipped.
        sigma: Gaussian sigma in heatmap pixels.

    Returns:
        ``(heatmaps (H, W, K) float32, keypoint_weights (N, K) float32)``.

    Example:

    >>> import numpy as np
    >>> hm, w = generate_udp_gaussian_heatmaps(
    ...     (8, 8), np.array([[[3.0, 4.0]]], "float32"), np.ones((1, 1)), 1.0)
    >>> hm.shape, float(hm[4, 3, 0]), w.tolist()
    ((8, 8, 1), 1.0, [[1.0]])
    """
    W, H = heatmap_size
    keypoints = np.asarray(keypoints, np.float32)
    N, K, _ = keypoints.shape
    heatmaps = np.zeros((H, W, K), dtype=np.float32)
    weights = np.asarray(keypoints_visible, np.float32).copy()
    radius = sigma * 3
    size = 2 * radius + 1
    length = len(np.arange(0, size, 1, dtype=np.float32))
    half = size // 2
    two_s2 = np.float32(2 * sigma**2)
    px = np.arange(W)
    py = np.arange(H)
    grid = np.arange(0, size, 1, dtype=np.float32)
    for n in range(N):
        mu = _trunc(keypoints[n] + 0.5)  # (K, 2)
        left, top = _trunc(mu[:, 0] - radius), _trunc(mu[:, 1] - radius)
        right = _trunc(mu[:, 0] + radius + 1)
        bottom = _trunc(mu[:, 1] + radius + 1)
        labelled = weights[n] >= 0.5
        outside = (left >= W) | (top >= H) | (right < 0) | (bottom < 0)
        active = labelled & ~outside
        weights[n] = np.where(labelled & outside, 0.0, weights[n])
        if not active.any():
            continue
        # Sub-pixel centre inside the window, rounded to float32 as NumPy 1.x
        # does when a float64 scalar meets a float32 grid.
        frac = keypoints[n].astype(np.float64) - mu
        x0 = (half + frac[:, 0]).astype(np.float32)
        y0 = (half + frac[:, 1]).astype(np.float32)
        gx = px[None, :] - left[:, None]  # (K, W) window column
        gy = py[None, :] - top[:, None]  # (K, H) window row
        in_x = (gx >= 0) & (gx < length) & (px[None, :] < right[:, None])
        in_y = (gy >= 0) & (gy < length) & (py[None, :] < bottom[:, None])
        gxf = grid[np.clip(gx, 0, length - 1)]
        gyf = grid[np.clip(gy, 0, length - 1)]
        dx2 = np.square(gxf - x0[:, None])  # float32
        dy2 = np.square(gyf - y0[:, None])
        d2 = dy2[:, :, None] + dx2[:, None, :]  # (K, H, W)
        g = np.exp(-d2 / two_s2).astype(np.float32)
        mask = in_y[:, :, None] & in_x[:, None, :] & active[:, None, None]
        g = np.where(mask, g, np.float32(0.0))
        heatmaps = np.maximum(heatmaps, np.transpose(g, (1, 2, 0)))
    return heatmaps, weights


def generate_offset_heatmap(
    heatmap_size, keypoints, keypoints_visible, radius_factor
):
    """UDP "combined" targets: a binary disc plus x and y offset maps.

    Each keypoint k owns channels ``3k`` (1 inside the disc of radius
    ``radius_factor * max(W, H)`` around it, else 0), ``3k + 1`` and
    ``3k + 2`` (the offset from each pixel to the keypoint divided by the
    radius), MMPose's (K, 3) channel grouping. As in MMPose, keypoints with
    visibility below 0.5 leave their three maps at 0, keypoints outside the
    heatmap keep their weight (their offsets are still written), and with
    several instances a later labelled one overwrites an earlier one.

    Args:
        heatmap_size: (W, H).
        keypoints: (N, K, 2) keypoints in heatmap pixels.
        keypoints_visible: (N, K).
        radius_factor: disc radius as a fraction of ``max(W, H)``.

    Returns:
        ``(heatmaps (H, W, 3K) float32, keypoint_weights (N, K) float32)``.

    Example:

    >>> import numpy as np
    >>> hm, w = generate_offset_heatmap(
    ...     (8, 8), np.array([[[3.0, 4.0]]], "float32"), np.ones((1, 1)), 0.25)
    >>> hm.shape, hm[4, 3].tolist(), hm[4, 5].tolist()
    ((8, 8, 3), [1.0, 0.0, 0.0], [1.0, -1.0, 0.0])
    """
    W, H = heatmap_size
    keypoints = np.asarray(keypoints, np.float32)
    N, K, _ = keypoints.shape
    weights = np.asarray(keypoints_visible, np.float32).copy()
    radius = radius_factor * max(W, H)
    labelled = weights >= 0.5  # (N, K)
    # The last labelled instance of each keypoint wins (sequential writes).
    order = np.where(labelled, np.arange(N)[:, None], -1).max(axis=0)  # (K,)
    mu = keypoints[np.clip(order, 0, None), np.arange(K)].astype(np.float64)
    x_off = (mu[:, 0:1] - np.arange(W)[None, :]) / radius  # (K, W)
    y_off = (mu[:, 1:2] - np.arange(H)[None, :]) / radius  # (K, H)
    disc = (x_off[:, None, :] ** 2 + y_off[:, :, None] ** 2) <= 1
    heatmaps = np.stack(
        [
            disc.astype(np.float32),
            np.broadcast_to(x_off[:, None, :], (K, H, W)).astype(np.float32),
            np.broadcast_to(y_off[:, :, None], (K, H, W)).astype(np.float32),
        ],
        axis=1,
    )  # (K, 3, H, W)
    heatmaps = np.where((order >= 0)[:, None, None, None], heatmaps, 0.0)
    heatmaps = heatmaps.reshape(3 * K, H, W).transpose(1, 2, 0)
    return np.ascontiguousarray(heatmaps, dtype=np.float32), weights

"""Gaussian heatmap generation (host side, NumPy, vectorised).

These follow MMPose's ``generate_gaussian_heatmaps`` and
``generate_unbiased_gaussian_heatmaps`` number for number, including the
integer truncation of the Gaussian window, but compute all keypoints at once.
Heatmaps are channels-last: (H, W, K).
"""

import numpy as np


def _trunc(x):
    return np.trunc(x).astype(np.int64)


def generate_gaussian_heatmaps(
    heatmap_size, keypoints, keypoints_visible, sigma
):
    """MSRA Gaussian heatmaps in a truncated window around each keypoint.

    Args:
        heatmap_size: (W, H).
        keypoints: (N, K, 2) keypoints in heatmap pixels.
        keypoints_visible: (N, K).
        sigma: scalar or per-instance (N,) sigma.

    Returns:
        ``(heatmaps (H, W, K) float32, keypoint_weights (N, K) float32)``.
    """
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    sigma = np.broadcast_to(np.asarray(sigma, np.float64), (N,))
    heatmaps = np.zeros((H, W, K), dtype=np.float32)
    weights = keypoints_visible.astype(np.float32).copy()
    px = np.arange(W)
    py = np.arange(H)
    for n in range(N):
        radius = sigma[n] * 3
        size = 2 * radius + 1
        length = len(np.arange(0, size, 1, dtype=np.float32))
        center = np.float32(size // 2)
        two_s2 = 2 * sigma[n] ** 2
        mu = _trunc(keypoints[n] + 0.5)  # (K, 2)
        left, top = _trunc(mu[:, 0] - radius), _trunc(mu[:, 1] - radius)
        right = _trunc(mu[:, 0] + radius + 1)
        bottom = _trunc(mu[:, 1] + radius + 1)
        labelled = keypoints_visible[n] >= 0.5
        outside = (left >= W) | (top >= H) | (right < 0) | (bottom < 0)
        weights[n] = np.where(labelled & outside, 0.0, weights[n])
        active = labelled & ~outside
        if not active.any():
            continue
        gx = px[None, :] - left[:, None]  # (K, W)
        gy = py[None, :] - top[:, None]  # (K, H)
        in_x = (gx >= 0) & (gx < length) & (px[None, :] < right[:, None])
        in_y = (gy >= 0) & (gy < length) & (py[None, :] < bottom[:, None])
        dx2 = (gx.astype(np.float32) - center) ** 2
        dy2 = (gy.astype(np.float32) - center) ** 2
        d2 = dy2[:, :, None] + dx2[:, None, :]  # (K, H, W)
        g = np.exp(-d2 / np.float32(two_s2)).astype(np.float32)
        mask = in_y[:, :, None] & in_x[:, None, :] & active[:, None, None]
        g = np.where(mask, g, 0.0).astype(np.float32)
        heatmaps = np.maximum(heatmaps, np.transpose(g, (1, 2, 0)))
    return heatmaps, weights


def generate_unbiased_gaussian_heatmaps(
    heatmap_size, keypoints, keypoints_visible, sigma
):
    """Unbiased (DARK) Gaussian heatmaps over the whole heatmap.

    Args:
        heatmap_size: (W, H).
        keypoints: (N, K, 2) keypoints in heatmap pixels (sub-pixel).
        keypoints_visible: (N, K).
        sigma: scalar sigma.

    Returns:
        ``(heatmaps (H, W, K) float32, keypoint_weights (N, K) float32)``.
    """
    W, H = heatmap_size
    N, K, _ = keypoints.shape
    heatmaps = np.zeros((H, W, K), dtype=np.float32)
    weights = keypoints_visible.astype(np.float32).copy()
    radius = sigma * 3
    x = np.arange(0, W, 1, dtype=np.float32)
    y = np.arange(0, H, 1, dtype=np.float32)
    for n in range(N):
        mu = keypoints[n]
        left, top = mu[:, 0] - radius, mu[:, 1] - radius
        right, bottom = mu[:, 0] + radius + 1, mu[:, 1] + radius + 1
        labelled = keypoints_visible[n] >= 0.5
        outside = (left >= W) | (top >= H) | (right < 0) | (bottom < 0)
        weights[n] = np.where(labelled & outside, 0.0, weights[n])
        active = labelled & ~outside
        if not active.any():
            continue
        dx2 = (x[None, :] - mu[:, :1]) ** 2  # (K, W)
        dy2 = (y[None, :] - mu[:, 1:]) ** 2  # (K, H)
        d2 = dx2[:, None, :] + dy2[:, :, None]
        g = np.exp(-d2 / np.float32(2 * sigma**2)).astype(np.float32)
        g = np.where(active[:, None, None], g, 0.0).astype(np.float32)
        heatmaps = np.maximum(heatmaps, np.transpose(g, (1, 2, 0)))
    return heatmaps, weights

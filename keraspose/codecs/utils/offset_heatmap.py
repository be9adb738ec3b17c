"""Dense displacement fields of SPR / DEKR (host side, NumPy).

The numbers are MMPose's ``generate_displacement_heatmap``, computed one
instance at a time but vectorised over its window and keypoints.
"""

import numpy as np


def _window(root, radius, size):
    """MMPose's ``[max(int(r - radius), 0), min(int(r + radius), size))``,
    with the float64 subtraction NumPy 1 does on a float32 scalar."""
    lo = max(int(np.float64(root) - radius), 0)
    hi = min(int(np.float64(root) + radius), size)
    return lo, hi


def generate_displacement_heatmap(
    heatmap_size,
    keypoints,
    keypoints_visible,
    roots,
    roots_visible,
    diagonal_lengths,
    radius,
):
    """Displacements from the pixels around each root to its keypoints.

    Every pixel ``(x, y)`` in the square window ``[int(root - radius),
    int(root + radius))`` (clipped to the map) of an instance gets, for
    each of its visible in-map keypoints, the vector ``keypoint - (x, y)``
    and the weight ``1 / diagonal_length``. Instances whose root is
    invisible or outside the map are skipped; so are keypoints that are
    invisible (``visible < 1``) or outside ``[0, W) x [0, H)``.

    Where windows overlap, MMPose keeps the displacement of the smaller
    instance through one size map per pixel that is shared by all
    keypoints (a quirk we keep): an instance overwrites keypoint ``k`` of a
    pixel when that displacement is still (0, 0) or when the instance is
    not larger than the size last written at the pixel; once it wrote any
    keypoint there, it wrote its own size and so overwrites all its later
    keypoints at that pixel too. A displacement that is exactly (0, 0)
    counts as empty.

    Args:
        heatmap_size: (W, H).
        keypoints: (N, K, 2) float32 keypoints in heatmap pixels.
        keypoints_visible: (N, K) visibility.
        roots: (N, 2) float32 instance roots in heatmap pixels.
        roots_visible: (N,) root visibility.
        diagonal_lengths: (N,) float32 instance sizes.
        radius: half side of the window (the root sigma in SPR).

    Returns:
        ``(displacements (H, W, 2K), displacement_weights (H, W, 2K))``,
        float32, channels-last with MMPose's channel order (``2k``: x,
        ``2k + 1``: y of keypoint ``k``).

    Example:

    >>> import numpy as np
    >>> kpts = np.array([[[3.5, 2.0], [1.0, 1.0]]], "float32")
    >>> disp, w = generate_displacement_heatmap(
    ...     (6, 5), kpts, np.ones((1, 2)), np.array([[2.0, 1.5]], "float32"),
    ...     np.ones(1), np.array([4.0], "float32"), 1.0)
    >>> disp.shape, disp[1, 1].tolist(), float(w[1, 1, 0])
    ((5, 6, 4), [2.5, 1.0, 0.0, 0.0], 0.25)
    """
    W, H = heatmap_size
    keypoints = np.asarray(keypoints, np.float32)
    N, K, _ = keypoints.shape
    keypoints_visible = np.asarray(keypoints_visible)
    roots = np.asarray(roots, np.float32)
    roots_visible = np.asarray(roots_visible)
    diagonal_lengths = np.asarray(diagonal_lengths, np.float32)
    disp = np.zeros((H, W, K, 2), np.float32)
    weights = np.zeros((H, W, K), np.float32)
    size_map = np.zeros((H, W), np.float32)
    kx, ky = keypoints[..., 0], keypoints[..., 1]
    kpt_valid = (
        (keypoints_visible >= 1) & (kx >= 0) & (ky >= 0) & (kx < W) & (ky < H)
    )
    for n in range(N):
        rx, ry = roots[n]
        if roots_visible[n] < 1 or rx < 0 or ry < 0 or rx >= W or ry >= H:
            continue
        valid = kpt_valid[n]
        if not valid.any():
            continue
        x0, x1 = _window(rx, radius, W)
        y0, y1 = _window(ry, radius, H)
        if x0 >= x1 or y0 >= y1:
            continue
        diag = diagonal_lengths[n]
        region = disp[y0:y1, x0:x1]  # (h, w, K, 2) view
        empty = (region == 0).all(axis=-1)  # (h, w, K)
        smaller = (diag <= size_map[y0:y1, x0:x1])[..., None]
        cond = (empty | smaller) & valid
        write = (np.cumsum(cond, axis=-1) > 0) & valid
        grid = np.stack(
            np.meshgrid(
                np.arange(x0, x1, dtype=np.float32),
                np.arange(y0, y1, dtype=np.float32),
            ),
            axis=-1,
        )  # (h, w, 2) as (x, y)
        offsets = keypoints[n][None, None] - grid[:, :, None]  # (h, w, K, 2)
        region[...] = np.where(write[..., None], offsets, region)
        inv = np.float32(1.0 / np.float64(diag)) if diag else np.inf
        weights[y0:y1, x0:x1] = np.where(
            write, np.float32(inv), weights[y0:y1, x0:x1]
        )
        size_map[y0:y1, x0:x1] = np.where(
            write.any(axis=-1), diag, size_map[y0:y1, x0:x1]
        )
    disp = disp.reshape(H, W, 2 * K)
    weights = np.repeat(weights, 2, axis=-1)
    return disp, weights

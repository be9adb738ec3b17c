"""Flip test-time augmentation helpers (MMPose's ``models/utils/tta.py``).

Channels-last: heatmaps are (B, H, W, C).
"""

from keras import ops


def flip_heatmaps(
    heatmaps, flip_indices=None, flip_mode="heatmap", shift_heatmap=True
):
    """Flips heatmaps predicted on a horizontally flipped image back.

    Args:
        heatmaps: (B, H, W, C) heatmaps of the flipped image.
        flip_indices: keypoint index of each keypoint's mirror partner.
        flip_mode: "heatmap" (C = K), "udp_combined" (C = 3K, the x offset
            negated) or "offset" (C = G*K, the first channel of
            each keypoint negated), as in MMPose.
        shift_heatmap: shift one pixel right to undo the flip's
            half-pixel misalignment (MMPose's ``shift_heatmap``).

    Returns:
        Heatmaps (B, H, W, C) aligned with the unflipped image.

    Example:

    >>> import numpy as np
    >>> hm = np.zeros((1, 2, 4, 2), "float32"); hm[0, 0, 0, 0] = 1
    >>> out = flip_heatmaps(hm, [1, 0], shift_heatmap=False)
    >>> float(out[0, 0, 3, 1])
    1.0
    """
    heatmaps = ops.flip(heatmaps, axis=2)
    if flip_mode == "heatmap":
        if flip_indices is not None:
            _check_indices(flip_indices, heatmaps.shape[-1])
            heatmaps = ops.take(heatmaps, list(flip_indices), axis=-1)
    elif flip_mode in ("udp_combined", "offset"):
        group = 3 if flip_mode == "udp_combined" else None
        c = heatmaps.shape[-1]
        k = len(flip_indices) if flip_indices is not None else None
        if group is None:
            if k is None:
                raise ValueError("flip_mode='offset' needs flip_indices.")
            group = c // k
        shape = ops.shape(heatmaps)
        grouped = ops.reshape(
            heatmaps, (shape[0], shape[1], shape[2], c // group, group)
        )
        if flip_indices is not None:
            _check_indices(flip_indices, c // group)
            grouped = ops.take(grouped, list(flip_indices), axis=3)
        neg = 1 if flip_mode == "udp_combined" else 0
        sign = [1.0] * group
        sign[neg] = -1.0
        grouped = grouped * ops.convert_to_tensor(sign, grouped.dtype)
        heatmaps = ops.reshape(grouped, shape)
    else:
        raise ValueError(
            "Expected flip_mode in ('heatmap', 'udp_combined', 'offset'). "
            f"Received: flip_mode={flip_mode!r}"
        )
    if shift_heatmap:
        heatmaps = ops.concatenate(
            [heatmaps[:, :, :1], heatmaps[:, :, :-1]], axis=2
        )
    return heatmaps


def flip_visibility(vis, flip_indices):
    """Reorders (B, K) visibility predicted on a flipped image."""
    _check_indices(flip_indices, vis.shape[-1])
    return ops.take(vis, list(flip_indices), axis=-1)


def flip_images(images):
    """Flips (B, H, W, C) images horizontally."""
    return ops.flip(images, axis=2)


def _check_indices(flip_indices, num):
    if len(flip_indices) != num:
        raise ValueError(
            f"Expected {num} flip_indices (one per keypoint). Received "
            f"{len(flip_indices)}: {list(flip_indices)}"
        )

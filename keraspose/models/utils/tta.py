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


def flip_vectors(x_labels, y_labels, flip_indices):
    """Flips SimCC vectors predicted on a horizontally flipped image back.

    As MMPose's ``flip_vectors``: keypoints are swapped with their mirror
    partners, and the x bins are reversed (no shift).

    Args:
        x_labels: (B, K, Wx) x-axis representations of the flipped image.
        y_labels: (B, K, Wy) y-axis representations of the flipped image.
        flip_indices: keypoint index of each keypoint's mirror partner.

    Returns:
        ``(x_labels, y_labels)`` aligned with the unflipped image.

    Example:

    >>> import numpy as np
    >>> x = np.arange(6, dtype="float32").reshape(1, 2, 3)
    >>> fx, fy = flip_vectors(x, x, [1, 0])
    >>> np.asarray(fx).tolist(), np.asarray(fy).tolist()
    ([[[5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]], [[[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]])
    """
    _check_indices(flip_indices, x_labels.shape[1])
    _check_indices(flip_indices, y_labels.shape[1])
    x_labels = ops.flip(ops.take(x_labels, list(flip_indices), axis=1), -1)
    y_labels = ops.take(y_labels, list(flip_indices), axis=1)
    return x_labels, y_labels


def flip_coordinates(coords, flip_indices, shift_coords, input_size):
    """Flips normalised coordinates predicted on a flipped image back.

    As MMPose's ``flip_coordinates``: ``x -> 1 - x`` (minus ``1 / width``
    with ``shift_coords``), then keypoints are swapped with their mirror
    partners. Only the first channel of the last axis is an x coordinate;
    any further channels (RLE's sigmas) are carried unchanged.

    Args:
        coords: (B, K, D) coordinates normalised to [0, 1] by the input size.
        flip_indices: keypoint index of each keypoint's mirror partner.
        shift_coords: shift by one input pixel to undo the flip's
            misalignment.
        input_size: model input size (w, h).

    Returns:
        (B, K, D) coordinates aligned with the unflipped image.

    Example:

    >>> import numpy as np
    >>> c = np.array([[[0.25, 0.5], [0.75, 0.1]]], "float32")
    >>> np.asarray(flip_coordinates(c, [1, 0], False, (4, 4))).tolist()
    [[[0.25, 0.10000000149011612], [0.75, 0.5]]]
    """
    _check_indices(flip_indices, coords.shape[1])
    x = 1.0 - coords[..., :1]
    if shift_coords:
        x = x - 1.0 / float(input_size[0])
    coords = ops.concatenate([x, coords[..., 1:]], axis=-1)
    return ops.take(coords, list(flip_indices), axis=1)

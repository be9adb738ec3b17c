"""Per-instance roots and sizes from visible keypoints (host side, NumPy).

Vectorised over instances, with MMPose's numbers: float32 throughout, the
keypoint centre summed keypoint by keypoint (the order NumPy's ``mean``
adds the rows in) and divided by the count in float32. Diagonals square
with ``x * x``; MMPose's ``np.power(x, 2)`` on NumPy 1 can round one ulp
differently on CPUs where NumPy uses SVML (AVX-512).
"""

import numpy as np

ROOT_TYPES = ("kpt_center", "bbox_center")


def _visible_mask(keypoints, keypoints_visible):
    if keypoints_visible is None:
        return np.ones(keypoints.shape[:2], bool)
    return np.asarray(keypoints_visible) > 0


def get_instance_root(
    keypoints, keypoints_visible=None, root_type="kpt_center"
):
    """Root point of each instance from its visible keypoints.

    Args:
        keypoints: (N, K, 2) float32 keypoint coordinates.
        keypoints_visible: (N, K) visibility (visible: > 0), or None.
        root_type: ``'kpt_center'`` (mean of the visible keypoints) or
            ``'bbox_center'`` (centre of their bounding box).

    Returns:
        ``(roots (N, 2) float32, roots_visible (N,) float32)``; an instance
        without visible keypoints gets root (0, 0) and visibility 0.

    Raises:
        ValueError: for an unknown ``root_type``.

    Example:

    >>> import numpy as np
    >>> kpts = np.array([[[0.0, 0.0], [2.0, 4.0], [7.0, 1.0]]], "float32")
    >>> roots, vis = get_instance_root(kpts, np.array([[1, 1, 0]]))
    >>> roots.tolist(), vis.tolist()
    ([[1.0, 2.0]], [1.0])
    """
    if root_type not in ROOT_TYPES:
        raise ValueError(
            f"Expected root_type in {ROOT_TYPES}. Received: "
            f"root_type={root_type!r}"
        )
    keypoints = np.asarray(keypoints, np.float32)[..., :2]
    mask = _visible_mask(keypoints, keypoints_visible)
    count = mask.sum(axis=1)
    has_any = count > 0
    if root_type == "kpt_center":
        total = np.zeros((keypoints.shape[0], 2), np.float32)
        for k in range(keypoints.shape[1]):
            total = total + np.where(mask[:, k, None], keypoints[:, k], 0)
        roots = total / np.maximum(count, 1).astype(np.float32)[:, None]
    else:
        lo, hi = _masked_min_max(keypoints, mask)
        roots = (hi + lo) / np.float32(2.0)
    roots = np.where(has_any[:, None], roots, 0).astype(np.float32)
    return roots, has_any.astype(np.float32)


def _masked_min_max(keypoints, mask):
    big = np.float32(np.inf)
    lo = np.where(mask[..., None], keypoints, big).min(axis=1)
    hi = np.where(mask[..., None], keypoints, -big).max(axis=1)
    has_any = mask.any(axis=1)[:, None]
    return np.where(has_any, lo, 0), np.where(has_any, hi, 0)


def get_instance_bbox(keypoints, keypoints_visible=None):
    """Pseudo boxes ``[x1, y1, x2, y2]`` around the visible keypoints.

    Args:
        keypoints: (N, K, 2) keypoint coordinates.
        keypoints_visible: (N, K) visibility (visible: > 0), or None.

    Returns:
        (N, 4) float32 boxes; zeros for an instance without visible
        keypoints.

    Example:

    >>> import numpy as np
    >>> kpts = np.array([[[1.0, 5.0], [3.0, 2.0]]], "float32")
    >>> get_instance_bbox(kpts).tolist()
    [[1.0, 2.0, 3.0, 5.0]]
    """
    keypoints = np.asarray(keypoints, np.float32)[..., :2]
    mask = _visible_mask(keypoints, keypoints_visible)
    lo, hi = _masked_min_max(keypoints, mask)
    return np.concatenate([lo, hi], axis=1).astype(np.float32)


def get_diagonal_lengths(keypoints, keypoints_visible=None):
    """Diagonal length of each instance's pseudo box (float32).

    Args:
        keypoints: (N, K, 2) keypoint coordinates.
        keypoints_visible: (N, K) visibility (visible: > 0), or None.

    Returns:
        (N,) float32 lengths (0 for an instance without visible keypoints).

    Example:

    >>> import numpy as np
    >>> kpts = np.array([[[0.0, 0.0], [3.0, 4.0]]], "float32")
    >>> get_diagonal_lengths(kpts).tolist()
    [5.0]
    """
    box = get_instance_bbox(keypoints, keypoints_visible)
    size = box[:, 2:] - box[:, :2]
    return np.sqrt(np.square(size).sum(axis=1)).astype(np.float32)

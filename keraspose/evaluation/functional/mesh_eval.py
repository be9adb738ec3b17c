"""Similarity (Procrustes) alignment of 3D point sets, NumPy only."""

import numpy as np


def _batched_similarity_transform(source, target):
    """Aligns each (K, 3) ``source[i]`` to ``target[i]``; returns (N, K, 3).

    The same algebra as :func:`compute_similarity_transform`, batched over
    the leading axis (NumPy's batched SVD runs LAPACK per matrix).
    """
    src = np.swapaxes(source, -1, -2)  # (N, 3, K)
    tgt = np.swapaxes(target, -1, -2)
    src_mean = src.mean(axis=-1, keepdims=True)
    tgt_mean = tgt.mean(axis=-1, keepdims=True)
    src_centered = src - src_mean
    tgt_centered = tgt - tgt_mean
    # Spread of the centred source, the denominator of the optimal scale.
    src_var = np.sum(src_centered**2, axis=(-2, -1))
    # 3 x 3 cross-covariance; the rotation maximising trace(R^T M) is
    # V diag(1, 1, det) U^T for the SVD M = U S V^T (Umeyama, 1991).
    cov = src_centered @ np.swapaxes(tgt_centered, -1, -2)
    u, _, vt = np.linalg.svd(cov)
    v = np.swapaxes(vt, -1, -2)
    n = cov.shape[0]
    fix = np.tile(np.eye(u.shape[-1]), (n, 1, 1))
    fix[:, -1, -1] *= np.sign(np.linalg.det(u @ vt))
    rot = v @ (fix @ np.swapaxes(u, -1, -2))
    scale = np.trace(rot @ cov, axis1=-2, axis2=-1) / src_var
    shift = tgt_mean - scale[:, None, None] * (rot @ src_mean)
    aligned = scale[:, None, None] * (rot @ src) + shift
    return np.swapaxes(aligned, -1, -2)


def compute_similarity_transform(source_points, target_points):
    """Aligns 3D points to a target by the best similarity transform.

    Solves the orthogonal Procrustes problem with scale (Umeyama, "Least-
    squares estimation of transformation parameters between two point
    patterns", TPAMI 1991): finds the scale ``s``, rotation ``R``
    (``det R = +1``) and translation ``t`` minimising
    ``||s R source + t - target||^2`` and returns the transformed source.
    This is MMPose's ``compute_similarity_transform``
    (``mmpose/evaluation/functional/mesh_eval.py``, after HMR), used by the
    P-MPJPE metric.

    Args:
        source_points: (K, 3) points to align.
        target_points: (K, 3) target points.

    Returns:
        (K, 3) the aligned source points (float64 for float32 input, as in
        MMPose).

    Raises:
        ValueError: the shapes are not both (K, 3).

    Example:

    >>> import numpy as np
    >>> target = np.array([[0., 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3]])
    >>> rotate = np.array([[0., -1, 0], [1, 0, 0], [0, 0, 1]])
    >>> source = 2.0 * target @ rotate.T + 5.0
    >>> aligned = compute_similarity_transform(source, target)
    >>> bool(np.allclose(aligned, target))
    True
    """
    source = np.asarray(source_points)
    target = np.asarray(target_points)
    if (
        source.ndim != 2
        or source.shape != target.shape
        or source.shape[-1] != 3
    ):
        raise ValueError(
            "compute_similarity_transform expects two (K, 3) point sets of "
            f"the same shape. Received: source {source.shape}, target "
            f"{target.shape}."
        )
    return _batched_similarity_transform(source[None], target[None])[0]

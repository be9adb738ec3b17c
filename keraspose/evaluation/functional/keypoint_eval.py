"""Keypoint accuracy metrics (host side, NumPy), as in MMPose."""

import numpy as np


def _calc_distances(preds, gts, mask, norm_factor):
    n, k, _ = preds.shape
    mask = mask.copy()
    norm_factor = np.asarray(norm_factor, np.float32).copy()
    mask[np.where((norm_factor == 0).sum(1))[0], :] = False
    distances = np.full((n, k), -1, dtype=np.float32)
    norm_factor[np.where(norm_factor <= 0)] = 1e6
    distances[mask] = np.linalg.norm(
        ((preds - gts) / norm_factor[:, None, :])[mask], axis=-1
    )
    return distances.T


def _distance_acc(distances, thr=0.5):
    valid = distances != -1
    num = valid.sum()
    if num > 0:
        return (distances[valid] < thr).sum() / num
    return -1


def keypoint_pck_accuracy(pred, gt, mask, thr, norm_factor):
    """Percentage of Correct Keypoints (PCK), MMPose's definition.

    A keypoint is correct when its distance to the ground truth, divided by
    ``norm_factor`` per axis, is below ``thr``.

    Args:
        pred: (N, K, 2) predicted keypoints.
        gt: (N, K, 2) ground-truth keypoints.
        mask: (N, K) bool, which keypoints count.
        thr: threshold.
        norm_factor: (N, 2) normalisation per sample and axis.

    Returns:
        ``(acc (K,), avg_acc, count)``: per-keypoint accuracy (-1 where no
        keypoint counts), their mean over valid keypoints, number of valid
        keypoints.

    Example:

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 2)); gt = np.array([[[0, 0], [5, 0]]])
    >>> keypoint_pck_accuracy(pred, gt, np.ones((1, 2), bool), 0.2,
    ...                       np.full((1, 2), 10.0))[1]
    np.float64(0.5)
    """
    distances = _calc_distances(
        np.asarray(pred, np.float32),
        np.asarray(gt, np.float32),
        np.asarray(mask, bool),
        norm_factor,
    )
    acc = np.array([_distance_acc(d, thr) for d in distances])
    valid_acc = acc[acc >= 0]
    cnt = len(valid_acc)
    avg_acc = valid_acc.mean() if cnt > 0 else 0.0
    return acc, avg_acc, cnt

"""Keypoint error and accuracy functions (host side, NumPy), as in MMPose.

The names, arguments, defaults and numbers follow MMPose 1.3.2's
``mmpose/evaluation/functional/keypoint_eval.py``. MMPose runs on NumPy 1,
whose value-based casting decides some dtypes; the functions here pin those
dtypes explicitly so that NumPy 2 gives the same numbers:

* thresholds are compared with the float32 distances in float32;
* the mean errors of :func:`keypoint_epe` and :func:`keypoint_nme` divide
  the float32 sum in float64.

Unlike MMPose, no function modifies its arguments in place (MMPose's
``_calc_distances`` overwrites non-positive entries of the caller's
``norm_factor``); where MMPose's later results depend on that overwrite
(:func:`keypoint_auc`), the effect is reproduced explicitly.
"""

import numpy as np

from keraspose.evaluation.functional.mesh_eval import (
    _batched_similarity_transform,
)

#: Normalisation that replaces non-positive norm factors (MMPose's value).
_INVALID_NORM = 1e6


def _check_keypoints(fn, pred, gt, mask, dims=None):
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    mask = np.asarray(mask)
    if pred.ndim != 3 or pred.shape != gt.shape:
        raise ValueError(
            f"{fn} expects `pred` and `gt` of the same shape (N, K, D). "
            f"Received: pred {pred.shape}, gt {gt.shape}."
        )
    if dims is not None and pred.shape[-1] not in dims:
        raise ValueError(
            f"{fn} expects keypoints with D in {dims} coordinates. "
            f"Received: pred {pred.shape}."
        )
    if mask.shape != pred.shape[:2]:
        raise ValueError(
            f"{fn} expects `mask` of shape (N, K) = {pred.shape[:2]}. "
            f"Received: mask {mask.shape}."
        )
    return pred, gt, mask.astype(bool)


def _calc_distances(preds, gts, mask, norm_factor):
    """Normalised keypoint distances, -1 where a keypoint does not count.

    Each coordinate difference is divided by ``norm_factor`` of its
    instance and axis before taking the Euclidean norm. An instance with
    any zero norm factor is left out entirely; a negative norm factor is
    replaced by 1e6 (the instance counts, with a tiny distance), as in
    MMPose.

    Args:
        preds: (N, K, D) predicted keypoints.
        gts: (N, K, D) ground-truth keypoints.
        mask: (N, K) bool, keypoints that count.
        norm_factor: (N, D) normalisation per instance and axis.

    Returns:
        (K, N) float32 distances (note the transposition, as in MMPose),
        -1 for keypoints that do not count.
    """
    preds = np.asarray(preds)
    gts = np.asarray(gts)
    n, k, d = preds.shape
    norm = np.array(norm_factor)  # a copy: the caller's array is kept
    if not np.issubdtype(norm.dtype, np.floating):
        norm = norm.astype(np.float64)
    if norm.shape != (n, d):
        raise ValueError(
            f"Expected `norm_factor` of shape (N, D) = {(n, d)}. "
            f"Received: {norm.shape}."
        )
    keep = np.array(mask, dtype=bool)
    keep[(norm == 0).any(axis=1)] = False
    norm[norm <= 0] = _INVALID_NORM
    distances = np.full((n, k), -1, dtype=np.float32)
    scaled = (preds - gts) / norm[:, None, :]
    distances[keep] = np.linalg.norm(scaled[keep], axis=-1)
    return distances.T


def _distance_acc(distances, thr=0.5):
    """Fraction of the distances below ``thr``, ignoring the -1 entries.

    Args:
        distances: (N,) normalised distances, -1 where not counted.
        thr: the threshold; compared in the dtype of ``distances``.

    Returns:
        The fraction, or -1 when no distance counts.
    """
    distances = np.asarray(distances)
    valid = distances != -1
    num_valid = valid.sum()
    if num_valid > 0:
        thr = distances.dtype.type(thr)
        return (distances[valid] < thr).sum() / num_valid
    return -1


def keypoint_pck_accuracy(pred, gt, mask, thr, norm_factor):
    """Percentage of Correct Keypoints (PCK), MMPose's definition.

    A keypoint is correct when its distance to the ground truth, divided by
    ``norm_factor`` per axis, is below ``thr`` (PCK: Yang & Ramanan,
    "Articulated Human Detection with Flexible Mixtures of Parts", TPAMI
    2013; PCKh normalises by the head size, Andriluka et al., CVPR 2014).
    Instances with a zero norm factor are ignored; a negative norm factor
    counts as 1e6 (MMPose's handling).

    Args:
        pred: (N, K, D) predicted keypoints.
        gt: (N, K, D) ground-truth keypoints.
        mask: (N, K) bool, which keypoints count.
        thr: threshold of the normalised distance.
        norm_factor: (N, D) normalisation per instance and axis (e.g. the
            box size for PCK, the head size for PCKh).

    Returns:
        ``(acc (K,), avg_acc, count)``: per-keypoint accuracy (float64, -1
        where no keypoint counts; MMPose's array is int64 when every entry
        is -1), their mean over valid keypoints (0.0 when there is none),
        number of valid keypoints.

    Example:

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 2)); gt = np.array([[[0, 0], [5, 0]]])
    >>> keypoint_pck_accuracy(pred, gt, np.ones((1, 2), bool), 0.2,
    ...                       np.full((1, 2), 10.0))[1]
    np.float64(0.5)
    """
    pred, gt, mask = _check_keypoints("keypoint_pck_accuracy", pred, gt, mask)
    distances = _calc_distances(pred, gt, mask, norm_factor)
    acc = np.array([_distance_acc(d, thr) for d in distances], np.float64)
    valid_acc = acc[acc >= 0]
    cnt = len(valid_acc)
    avg_acc = valid_acc.mean() if cnt > 0 else 0.0
    return acc, avg_acc, cnt


def keypoint_auc(pred, gt, mask, norm_factor, num_thrs=20):
    """Area under the PCK curve for thresholds ``0, 1/n, ..., (n-1)/n``.

    The mean PCK (see :func:`keypoint_pck_accuracy`) is computed with the
    distances divided by ``norm_factor`` (pixels) at ``num_thrs`` evenly
    spaced thresholds in [0, 1) and averaged (a left Riemann sum), as in
    MMPose and Zimmermann & Brox, "Learning to Estimate 3D Hand Pose from
    Single RGB Images", ICCV 2017.

    A non-positive ``norm_factor`` reproduces MMPose's number: its
    normalisation array is overwritten with 1e6 by the first threshold's
    PCK call, so every later threshold normalises by 1e6.

    Args:
        pred: (N, K, 2) predicted keypoints.
        gt: (N, K, 2) ground-truth keypoints.
        mask: (N, K) bool, which keypoints count.
        norm_factor: scalar normalisation (pixels), e.g. 30.
        num_thrs: number of thresholds.

    Returns:
        The area (float).

    Example:

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 2)); gt = np.array([[[0, 3], [0, 15]]])
    >>> float(keypoint_auc(pred, gt, np.ones((1, 2), bool), 30, num_thrs=4))
    0.5
    """
    pred, gt, mask = _check_keypoints("keypoint_auc", pred, gt, mask)
    norm = np.tile(np.array([[norm_factor, norm_factor]]), (pred.shape[0], 1))
    thrs = [1.0 * i / num_thrs for i in range(num_thrs)]
    avg_accs = []
    for i, thr in enumerate(thrs):
        avg_accs.append(keypoint_pck_accuracy(pred, gt, mask, thr, norm)[1])
        if i == 0:  # MMPose's in-place update of its norm array
            norm = np.where(norm <= 0, _INVALID_NORM, norm)
    auc = 0
    for avg_acc in avg_accs:
        auc += 1.0 / num_thrs * avg_acc
    return auc


def _mean_valid_distance(distances):
    valid = distances[distances != -1]
    # NumPy 1 (MMPose) divides the float32 sum by a Python int in float64.
    return np.float64(valid.sum()) / max(1, len(valid))


def keypoint_nme(pred, gt, mask, normalize_factor):
    """Normalised mean error (NME) of the keypoints.

    The mean, over the keypoints that count, of the Euclidean distance
    between prediction and ground truth after dividing each axis by the
    instance's ``normalize_factor`` (e.g. the inter-ocular distance for
    face landmarks, Sagonas et al., "300 Faces in-the-Wild Challenge",
    ICCVW 2013). Instances with a zero factor are left out.

    Args:
        pred: (N, K, 2) predicted keypoints.
        gt: (N, K, 2) ground-truth keypoints.
        mask: (N, K) bool, which keypoints count.
        normalize_factor: (N, 2) normalisation per instance and axis.

    Returns:
        The NME (float; 0.0 when no keypoint counts).

    Example:

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 2)); gt = np.array([[[3, 4], [0, 10]]])
    >>> float(keypoint_nme(pred, gt, np.ones((1, 2), bool),
    ...                    np.full((1, 2), 10.0)))
    0.75
    """
    pred, gt, mask = _check_keypoints("keypoint_nme", pred, gt, mask)
    distances = _calc_distances(pred, gt, mask, normalize_factor)
    return _mean_valid_distance(distances)


def keypoint_epe(pred, gt, mask):
    """End-point error (EPE): mean Euclidean distance in pixels.

    Args:
        pred: (N, K, D) predicted keypoints.
        gt: (N, K, D) ground-truth keypoints.
        mask: (N, K) bool, which keypoints count.

    Returns:
        The mean distance over the keypoints that count (float; 0.0 when
        none counts).

    Example:

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 2)); gt = np.array([[[3, 4], [0, 2]]])
    >>> float(keypoint_epe(pred, gt, np.ones((1, 2), bool)))
    3.5
    """
    pred, gt, mask = _check_keypoints("keypoint_epe", pred, gt, mask)
    ones = np.ones((pred.shape[0], pred.shape[2]), dtype=np.float32)
    return _mean_valid_distance(_calc_distances(pred, gt, mask, ones))


_ALIGNMENTS = ("none", "scale", "procrustes")


def keypoint_mpjpe(pred, gt, mask, alignment="none"):
    """Mean per-joint position error (MPJPE), optionally after alignment.

    The mean Euclidean distance over the keypoints that count (Ionescu et
    al., "Human3.6M", TPAMI 2014). ``alignment`` first maps each predicted
    pose onto its ground truth:

    * ``'none'``: MPJPE.
    * ``'scale'``: N-MPJPE (Rhodin et al., "Unsupervised Geometry-Aware
      Representation for 3D Human Pose Estimation", ECCV 2018): the
      least-squares scale ``<pred, gt> / <pred, pred>``.
    * ``'procrustes'``: P-MPJPE: the least-squares similarity transform
      (scale, rotation, translation; see
      :func:`~keraspose.evaluation.functional.compute_similarity_transform`).

    As in MMPose, the alignment uses every keypoint of the instance, the
    mask only selects the keypoints averaged afterwards.

    Args:
        pred: (N, K, C) predicted keypoints (C = 3 for ``'procrustes'``).
        gt: (N, K, C) ground-truth keypoints.
        mask: (N, K) bool, which keypoints count.
        alignment: ``'none'``, ``'scale'`` or ``'procrustes'``.

    Returns:
        The error (in the unit of the keypoints).

    Raises:
        ValueError: an unknown ``alignment``, no keypoint in ``mask`` or
            mismatched shapes.

    Example:

    >>> import numpy as np
    >>> gt = np.array([[[0., 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]])
    >>> mask = np.ones((1, 4), bool)
    >>> float(keypoint_mpjpe(2 * gt, gt, mask))
    0.75
    >>> round(float(keypoint_mpjpe(2 * gt, gt, mask, "scale")), 6)
    0.0
    """
    if alignment not in _ALIGNMENTS:
        raise ValueError(
            f"keypoint_mpjpe: `alignment` must be one of {_ALIGNMENTS}. "
            f"Received: alignment={alignment!r}"
        )
    dims = (3,) if alignment == "procrustes" else None
    pred, gt, mask = _check_keypoints("keypoint_mpjpe", pred, gt, mask, dims)
    if not mask.any():
        raise ValueError(
            "keypoint_mpjpe: `mask` selects no keypoint; at least one "
            "visible ground-truth keypoint is needed."
        )
    if alignment == "procrustes":
        pred = _batched_similarity_transform(pred, gt)
    elif alignment == "scale":
        pred_sq = np.einsum("nkc,nkc->n", pred, pred)
        pred_gt = np.einsum("nkc,nkc->n", pred, gt)
        pred = pred * (pred_gt / pred_sq)[:, None, None]
    return np.linalg.norm(pred - gt, ord=2, axis=-1)[mask].mean()

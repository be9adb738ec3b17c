"""Training-time accuracies in ``keras.ops`` (logged by ``fit``)."""

from keras import ops

from keraspose.codecs.utils.post_processing import get_heatmap_maximum
from keraspose.codecs.utils.simcc import get_simcc_maximum


def heatmap_pck_accuracy(output, target, mask, thr=0.05):
    """MMPose's ``pose_pck_accuracy`` (the ``acc_pose`` log), on the device.

    PCK of the heatmap maxima at ``thr`` of the heatmap size, averaged over
    the keypoints that have at least one valid sample. MMPose normalises the
    (x, y) error by (H, W) - note the swapped order - and this keeps it.

    Args:
        output: predicted heatmaps (B, H, W, K).
        target: target heatmaps (B, H, W, K).
        mask: (B, K) boolean or 0/1 validity.
        thr: PCK threshold.

    Returns:
        Scalar float32 accuracy (0 when no keypoint is valid).
    """
    output = ops.cast(output, "float32")
    target = ops.cast(target, "float32")
    h, w = output.shape[1], output.shape[2]
    pred, _ = get_heatmap_maximum(output)
    gt, _ = get_heatmap_maximum(target)
    norm = ops.convert_to_tensor([float(h), float(w)], "float32")
    dist = ops.sqrt(ops.sum(ops.square((pred - gt) / norm), axis=-1))
    valid = ops.cast(ops.cast(mask, "float32") > 0, "float32")
    hits = ops.cast(dist < thr, "float32") * valid
    count = ops.sum(valid, axis=0)
    per_kpt = ops.sum(hits, axis=0) / ops.maximum(count, 1.0)
    has = ops.cast(count > 0, "float32")
    return ops.sum(per_kpt * has) / ops.maximum(ops.sum(has), 1.0)


def keypoint_pck_accuracy(pred, gt, mask, thr=0.05, norm_factor=None):
    """MMPose's ``keypoint_pck_accuracy`` (its ``avg_acc``), on the device.

    The distance of each predicted keypoint to its target, divided by
    ``norm_factor`` per sample and axis, is a hit below ``thr``; the hit
    rate is computed per keypoint over the valid samples and averaged over
    the keypoints with at least one valid sample (0 when there is none).
    As in MMPose, samples whose norm factor has a zero are not counted and
    non-positive factors become 1e6.

    Args:
        pred: predicted coordinates (B, K, D).
        gt: target coordinates (B, K, D).
        mask: (B, K) boolean or 0/1 validity.
        thr: PCK threshold.
        norm_factor: (B, D) normalisation, or None for ones (what the
            regression heads use on normalised coordinates).

    Returns:
        Scalar float32 accuracy.

    Example:

    >>> import numpy as np
    >>> pred = np.array([[[0.5, 0.5], [0.1, 0.1]]], "float32")
    >>> gt = np.array([[[0.51, 0.5], [0.3, 0.1]]], "float32")
    >>> float(keypoint_pck_accuracy(pred, gt, np.ones((1, 2))))
    0.5
    """
    pred = ops.cast(pred, "float32")
    gt = ops.cast(gt, "float32")
    valid = ops.cast(mask, "float32") > 0
    if norm_factor is None:
        diff = pred - gt
    else:
        norm = ops.cast(norm_factor, "float32")
        valid = valid & ops.all(norm != 0, axis=-1, keepdims=True)
        norm = ops.where(norm <= 0, 1e6, norm)
        diff = (pred - gt) / norm[:, None, :]
    valid = ops.cast(valid, "float32")
    dist = ops.sqrt(ops.sum(ops.square(diff), axis=-1))
    hits = ops.cast(dist < thr, "float32") * valid
    count = ops.sum(valid, axis=0)
    per_kpt = ops.sum(hits, axis=0) / ops.maximum(count, 1.0)
    has = ops.cast(count > 0, "float32")
    return ops.sum(per_kpt * has) / ops.maximum(ops.sum(has), 1.0)


def simcc_pck_accuracy(output, target, simcc_split_ratio, mask, thr=0.05):
    """MMPose's ``simcc_pck_accuracy`` (its ``avg_acc``), on the device.

    Keypoints are the SimCC maxima (:func:`get_simcc_maximum`, -1 where the
    score is <= 0) divided by ``simcc_split_ratio``; their error is divided
    by ``(H, W) = (int(Wy / r), int(Wx / r))`` - MMPose's swapped order,
    kept - and is a hit below ``thr``. The hit rate is computed per keypoint
    over the valid samples and averaged over the keypoints that have one.

    Args:
        output: predicted ``(simcc_x (B, K, Wx), simcc_y (B, K, Wy))``.
        target: target ``(simcc_x, simcc_y)``.
        simcc_split_ratio: bins per input pixel.
        mask: (B, K) boolean or 0/1 validity.
        thr: PCK threshold.

    Returns:
        Scalar float32 accuracy (0 when no keypoint is valid).

    Example:

    >>> import numpy as np
    >>> x = np.eye(8, dtype="float32")[None, :2]
    >>> float(simcc_pck_accuracy((x, x), (x, x), 2.0, np.ones((1, 2))))
    1.0
    """
    pred_x, pred_y = output
    gt_x, gt_y = target
    w = int(pred_x.shape[-1] / simcc_split_ratio)
    h = int(pred_y.shape[-1] / simcc_split_ratio)
    pred, _ = get_simcc_maximum(pred_x, pred_y)
    gt, _ = get_simcc_maximum(gt_x, gt_y)
    norm = ops.convert_to_tensor([float(h), float(w)], "float32")
    diff = (pred / simcc_split_ratio - gt / simcc_split_ratio) / norm
    dist = ops.sqrt(ops.sum(ops.square(diff), axis=-1))
    valid = ops.cast(ops.cast(mask, "float32") > 0, "float32")
    hits = ops.cast(dist < thr, "float32") * valid
    count = ops.sum(valid, axis=0)
    per_kpt = ops.sum(hits, axis=0) / ops.maximum(count, 1.0)
    has = ops.cast(count > 0, "float32")
    return ops.sum(per_kpt * has) / ops.maximum(ops.sum(has), 1.0)


def binary_accuracy(probs, labels, weights=None):
    """MMPose's ``VisPredictHead.vis_accuracy`` on probabilities (B, K)."""
    pred = ops.cast(ops.cast(probs, "float32") >= 0.5, "float32")
    correct = ops.cast(pred == ops.cast(labels, "float32"), "float32")
    if weights is None:
        return ops.mean(ops.mean(correct, axis=1))
    weights = ops.cast(weights, "float32")
    per = ops.sum(correct * weights, axis=1) / (ops.sum(weights, axis=1) + 1e-6)
    return ops.mean(per)

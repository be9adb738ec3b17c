"""Training-time accuracies in ``keras.ops`` (logged by ``fit``)."""

from keras import ops

from keraspose.codecs.utils.post_processing import get_heatmap_maximum


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


def binary_accuracy(probs, labels, weights=None):
    """MMPose's ``VisPredictHead.vis_accuracy`` on probabilities (B, K)."""
    pred = ops.cast(ops.cast(probs, "float32") >= 0.5, "float32")
    correct = ops.cast(pred == ops.cast(labels, "float32"), "float32")
    if weights is None:
        return ops.mean(ops.mean(correct, axis=1))
    weights = ops.cast(weights, "float32")
    per = ops.sum(correct * weights, axis=1) / (ops.sum(weights, axis=1) + 1e-6)
    return ops.mean(per)

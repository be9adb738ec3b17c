"""Reading and checking the arrays the keypoint metrics get in ``process``.

Private helpers shared by the metric classes; every error names the metric,
the expected array and what was received.
"""

import numpy as np


def get_prediction(metric, predictions, key="keypoints"):
    """Returns ``predictions[key]`` as a NumPy array (clear error if absent)."""
    if not hasattr(predictions, "keys") or key not in predictions:
        received = (
            sorted(predictions)
            if hasattr(predictions, "keys")
            else (type(predictions).__name__)
        )
        raise ValueError(
            f"{type(metric).__name__}.process() expects the output of "
            f"model.predict (a dict) with {key!r}. Received: {received}."
        )
    return np.asarray(predictions[key])


def get_input(metric, inputs, key, what=""):
    """Returns ``inputs[key]`` as a NumPy array (clear error if absent)."""
    if not hasattr(inputs, "keys") or key not in inputs:
        received = (
            sorted(inputs)
            if hasattr(inputs, "keys")
            else (type(inputs).__name__)
        )
        what = f" ({what})" if what else ""
        raise ValueError(
            f"{type(metric).__name__} needs inputs[{key!r}]{what} from the "
            f"validation batches. Received inputs keys: {received}. Add "
            f"{key!r} to the validation pipeline's PackPoseInputs(meta_keys="
            "...) (`metric.required_keys` lists every key the metric needs: "
            f"{tuple(metric.required_keys)})."
        )
    return np.asarray(inputs[key])


def visibility_mask(metric, visible, num_instances, key="keypoints_visible"):
    """``visible.astype(bool)`` reshaped to (N, K), as MMPose's mask.

    A trailing axis of size 1 ((N, K, 1)) is accepted; any non-zero value
    counts as visible (MMPose's ``astype(bool)``).
    """
    visible = np.asarray(visible)
    if visible.ndim == 3 and visible.shape[-1] == 1:
        visible = visible[..., 0]
    if visible.ndim != 2 or visible.shape[0] != num_instances:
        raise ValueError(
            f"{type(metric).__name__}: expected inputs[{key!r}] of shape "
            f"(N, K) or (N, K, 1) with N = {num_instances}. Received: "
            f"{visible.shape}."
        )
    return visible.astype(bool)


def keypoint_arrays(metric, predictions, inputs, dims=(2,)):
    """Predicted and ground-truth keypoints plus the visibility mask.

    Returns:
        ``(pred (N, K, D), gt (N, K, D), mask (N, K) bool)``.
    """
    pred = get_prediction(metric, predictions, "keypoints")
    gt = get_input(metric, inputs, "keypoints", "ground-truth keypoints")
    visible = get_input(
        metric, inputs, "keypoints_visible", "ground-truth visibility"
    )
    name = type(metric).__name__
    if gt.ndim != 3 or gt.shape[-1] not in dims:
        raise ValueError(
            f"{name}: expected inputs['keypoints'] of shape (N, K, D) with D "
            f"in {dims}. Received: {gt.shape}."
        )
    if pred.shape != gt.shape:
        raise ValueError(
            f"{name}: predictions['keypoints'] {pred.shape} and inputs"
            f"['keypoints'] {gt.shape} must have the same shape (N, K, D): "
            "one predicted instance per ground-truth instance, with the "
            "dataset's keypoints."
        )
    mask = visibility_mask(metric, visible, gt.shape[0])
    if mask.shape != gt.shape[:2]:
        raise ValueError(
            f"{name}: inputs['keypoints_visible'] {mask.shape} does not "
            f"match inputs['keypoints'] {gt.shape}."
        )
    return pred, gt, mask


def per_instance(metric, inputs, key, num_instances, what=""):
    """``inputs[key]`` as an (N,) vector ((N,) or (N, 1) accepted)."""
    value = get_input(metric, inputs, key, what)
    if value.size != num_instances or (
        value.ndim > 1 and value.shape[0] != num_instances
    ):
        raise ValueError(
            f"{type(metric).__name__}: expected inputs[{key!r}] with one "
            f"value per instance, shape ({num_instances},) or "
            f"({num_instances}, 1). Received: {value.shape}."
        )
    return value.reshape(num_instances)


def bbox_size(metric, inputs, num_instances):
    """``max(w, h)`` of the xyxy ground-truth boxes, (N,)."""
    bbox = get_input(metric, inputs, "bbox", "ground-truth boxes, xyxy")
    if bbox.shape != (num_instances, 4):
        raise ValueError(
            f"{type(metric).__name__}: expected inputs['bbox'] of shape "
            f"(N, 4) = ({num_instances}, 4), xyxy. Received: {bbox.shape}."
        )
    return np.max(bbox[:, 2:] - bbox[:, :2], axis=1)


def check_results(metric, results):
    if not results:
        raise ValueError(
            f"{type(metric).__name__}.compute_metrics() got no results; "
            "process() at least one batch first."
        )


def concat(results, key):
    return np.concatenate([r[key] for r in results])

"""PCK accuracy (normalised by box, head or torso size), as in MMPose."""

import warnings

import numpy as np

from keraspose.evaluation.functional.keypoint_eval import keypoint_pck_accuracy
from keraspose.evaluation.metrics import _inputs
from keraspose.evaluation.metrics.base_metric import BaseMetric
from keraspose.registry import register

_NORM_ITEMS = ("bbox", "head", "torso")
#: Result key per normalisation item (MMPose's names).
_METRIC_NAMES = {"bbox": "PCK", "head": "PCKh", "torso": "tPCK"}
#: Keypoints whose distance is the torso size (JHMDB's left shoulder and
#: right hip; MMPose hard-codes these ids).
TORSO_IDS = (4, 5)


def _norm_items(metric, norm_item):
    items = (
        list(norm_item) if isinstance(norm_item, list | tuple) else [norm_item]
    )
    for item in items:
        if item not in _NORM_ITEMS:
            raise ValueError(
                f"{type(metric).__name__}: `norm_item` must be one of "
                f"{_NORM_ITEMS} (or a list of them). Received: "
                f"norm_item={norm_item!r}"
            )
    return items


def _vector_norms(vectors):
    # One ``np.linalg.norm`` per vector, as MMPose computes the torso size
    # per sample (a 1-D norm, whose rounding can differ from a row-wise one).
    norms = [np.linalg.norm(v) for v in vectors]
    return np.array(norms) if norms else np.zeros(0, np.float32)


@register
class PCKAccuracy(BaseMetric):
    """Percentage of Correct Keypoints (PCK), MMPose's ``PCKAccuracy``.

    A predicted keypoint is correct when its distance to the ground truth
    is below ``thr`` times a per-instance size (Yang & Ramanan,
    "Articulated Human Detection with Flexible Mixtures of Parts", TPAMI
    2013). The size, per ``norm_item``:

    * ``'bbox'`` -> ``'PCK'``: ``max(w, h)`` of the ground-truth box
      (``inputs['bbox']``, xyxy).
    * ``'head'`` -> ``'PCKh'``: ``inputs['head_size']`` (Andriluka et al.,
      "2D Human Pose Estimation: New Benchmark and State of the Art
      Analysis", CVPR 2014).
    * ``'torso'`` -> ``'tPCK'``: the distance between ground-truth
      keypoints 4 and 5 (JHMDB's left shoulder and right hip, hard-coded
      as in MMPose); where it is below 1 pixel the predicted keypoints'
      distance is used instead, with a warning (MMPose's fallback).

    Only keypoints with a non-zero ``inputs['keypoints_visible']`` count
    (MMPose's ``astype(bool)``); instances whose size is 0 are left out.
    The value is the mean over keypoints of the per-keypoint accuracy
    (keypoints with no counted instance are skipped), in [0, 1].

    ``process(predictions, inputs)`` takes ``predictions['keypoints']``
    (N, K, 2) and the ground truth of the same instances in ``inputs``
    (see :attr:`required_keys`).

    Args:
        thr: threshold on the normalised distance.
        norm_item: ``'bbox'``, ``'head'``, ``'torso'`` or a list of them.
        prefix: prefix of the result keys (``'pck'`` gives ``'pck/PCK'``);
            none by default, as in MMPose.

    Example:

    >>> import numpy as np
    >>> gt = np.array([[[10.0, 10.0], [20.0, 20.0]]])
    >>> inputs = {"keypoints": gt, "keypoints_visible": np.ones((1, 2)),
    ...           "bbox": np.array([[0.0, 0.0, 40.0, 20.0]])}
    >>> metric = PCKAccuracy(thr=0.1)
    >>> metric.process({"keypoints": gt + [[[1.0, 0.0], [5.0, 0.0]]]}, inputs)
    >>> metric.evaluate()
    {'PCK': 0.5}
    """

    required_keys = ("keypoints", "keypoints_visible", "bbox")

    def __init__(self, thr=0.05, norm_item="bbox", prefix=None):
        super().__init__(prefix=prefix)
        self.thr = thr
        self._norm_item_arg = (
            list(norm_item)
            if isinstance(norm_item, list | tuple)
            else norm_item
        )
        self.norm_item = _norm_items(self, norm_item)
        keys = ["keypoints", "keypoints_visible"]
        if "bbox" in self.norm_item:
            keys.append("bbox")
        if "head" in self.norm_item:
            keys.append("head_size")
        self.required_keys = tuple(keys)

    def get_config(self):
        return {
            "thr": self.thr,
            "norm_item": self._norm_item_arg,
            "prefix": self.prefix,
        }

    def _num_keypoints_check(self, num_keypoints):
        if "torso" in self.norm_item and num_keypoints <= max(TORSO_IDS):
            raise ValueError(
                f"{type(self).__name__}(norm_item='torso') measures the "
                f"torso between keypoints {TORSO_IDS} (JHMDB). Received "
                f"{num_keypoints} keypoints."
            )

    def process(self, predictions, inputs):
        """Stores one batch: keypoints, mask and the normalisation sizes.

        Args:
            predictions: dict with ``keypoints`` (N, K, 2).
            inputs: dict with ``keypoints`` (N, K, 2), ``keypoints_visible``
                (N, K) and, per ``norm_item``, ``bbox`` (N, 4) xyxy or
                ``head_size`` (N,).
        """
        pred, gt, mask = _inputs.keypoint_arrays(self, predictions, inputs)
        self._num_keypoints_check(gt.shape[1])
        n = gt.shape[0]
        result = {"pred_coords": pred, "gt_coords": gt, "mask": mask}
        if "bbox" in self.norm_item:
            size = _inputs.bbox_size(self, inputs, n)
            result["bbox_size"] = np.stack([size, size], axis=1)
        if "head" in self.norm_item:
            size = _inputs.per_instance(
                self, inputs, "head_size", n, "PCKh head sizes"
            )
            result["head_size"] = np.stack([size, size], axis=1)
        if "torso" in self.norm_item:
            i, j = TORSO_IDS
            size = _vector_norms(gt[:, i] - gt[:, j])
            small = size < 1
            if small.any():
                warnings.warn(
                    f"{type(self).__name__}: ground-truth torso size < 1 "
                    f"for {int(small.sum())} instance(s); their predicted "
                    "keypoints' torso size is used instead (as MMPose does).",
                    stacklevel=2,
                )
                pred_size = _vector_norms(pred[small][:, i] - pred[small][:, j])
                size = size.astype(np.result_type(size, pred_size))
                size[small] = pred_size
            result["torso_size"] = np.stack([size, size], axis=1)
        self.results.append(result)

    def compute_metrics(self, results):
        """Reduces the stored batches to ``{'PCK' | 'PCKh' | 'tPCK': acc}``."""
        _inputs.check_results(self, results)
        pred = _inputs.concat(results, "pred_coords")
        gt = _inputs.concat(results, "gt_coords")
        mask = _inputs.concat(results, "mask")
        metrics = {}
        for item, size_key in (
            ("bbox", "bbox_size"),
            ("head", "head_size"),
            ("torso", "torso_size"),
        ):
            if item in self.norm_item:
                norm = _inputs.concat(results, size_key)
                _, acc, _ = keypoint_pck_accuracy(
                    pred, gt, mask, self.thr, norm
                )
                metrics[_METRIC_NAMES[item]] = acc
        return metrics

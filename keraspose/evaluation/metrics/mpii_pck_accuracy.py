"""MPII's PCKh table, as MMPose's ``MpiiPCKAccuracy`` reports it."""

import numpy as np

from keraspose.evaluation.functional.keypoint_eval import _INVALID_NORM
from keraspose.evaluation.functional.keypoint_eval import keypoint_pck_accuracy
from keraspose.evaluation.metrics import _inputs
from keraspose.evaluation.metrics.pck_accuracy import PCKAccuracy
from keraspose.registry import register

#: MPII-16 keypoint ids of each reported part (left / right pairs).
_PARTS = {
    "Head PCK": (9,),
    "Shoulder PCK": (13, 12),
    "Elbow PCK": (14, 11),
    "Wrist PCK": (15, 10),
    "Hip PCK": (3, 2),
    "Knee PCK": (4, 1),
    "Ankle PCK": (5, 0),
}
_NUM_KEYPOINTS = 16
#: Pelvis and thorax are left out of the mean PCKh.
_EXCLUDED = (6, 7)


@register
class MpiiPCKAccuracy(PCKAccuracy):
    """PCKh on MPII (Andriluka et al., CVPR 2014), MMPose's table.

    Distances are normalised by the head size (``inputs['head_size']``:
    0.6 times the diagonal of MPII's head box, as MMPose's ``MpiiDataset``
    stores it). Values are percentages:

    * ``'Head PCK'``, ``'Shoulder PCK'``, ``'Elbow PCK'``, ``'Wrist
      PCK'``, ``'Hip PCK'``, ``'Knee PCK'``, ``'Ankle PCK'``: PCKh at
      ``thr`` (left/right averaged).
    * ``'PCK'``: mean PCKh at ``thr`` over the keypoints except pelvis and
      thorax, weighted by each keypoint's number of visible instances.
    * ``'PCK@0.1'``: the same at threshold 0.1.

    MMPose's details are kept: predictions get +1 before comparison (MPII's
    ground truth is 1-based, Matlab style, while predictions are 0-based);
    the weights count every visible keypoint, including instances with a
    zero head size, which PCKh itself leaves out; for ``'PCK@0.1'`` those
    instances count as correct (MMPose's PCK call for ``thr`` overwrites
    their head size with 1e6 in place before the threshold sweep), and
    that accuracy is rounded to float32 (MMPose's ``pckAll`` table).
    ``'PCK'`` and ``'PCK@0.1'`` are NaN when no counted keypoint is
    visible.

    ``norm_item`` must include ``'head'`` (MMPose computes nothing for the
    other items in this class).

    Args:
        thr: PCKh threshold (0.5: PCKh@0.5).
        norm_item: ``'head'`` (or a list holding it).
        prefix: prefix of the result keys; none by default, as in MMPose.

    Example:

    >>> import numpy as np
    >>> gt = np.tile(np.arange(16.0)[None, :, None], (1, 1, 2)) * 10 + 1
    >>> inputs = {"keypoints": gt, "keypoints_visible": np.ones((1, 16)),
    ...           "head_size": np.array([10.0])}
    >>> metric = MpiiPCKAccuracy()
    >>> metric.process({"keypoints": gt - 1.0}, inputs)  # 0-based
    >>> metric.evaluate()["PCK"]
    100.0
    """

    required_keys = ("keypoints", "keypoints_visible", "head_size")

    def __init__(self, thr=0.5, norm_item="head", prefix=None):
        super().__init__(thr=thr, norm_item=norm_item, prefix=prefix)
        if "head" not in self.norm_item:
            raise ValueError(
                "MpiiPCKAccuracy reports PCKh, normalised by the head size: "
                f"`norm_item` must include 'head'. Received: "
                f"norm_item={norm_item!r}"
            )

    def process(self, predictions, inputs):
        """Stores one batch (see :meth:`PCKAccuracy.process`).

        Args:
            predictions: dict with ``keypoints`` (N, 16, 2), 0-based.
            inputs: dict with ``keypoints`` (N, 16, 2) (1-based, as MPII's
                annotations), ``keypoints_visible`` (N, 16), ``head_size``
                (N,).
        """
        gt = _inputs.get_input(self, inputs, "keypoints")
        if gt.ndim != 3 or gt.shape[1] != _NUM_KEYPOINTS:
            raise ValueError(
                "MpiiPCKAccuracy expects MPII's 16 keypoints, inputs"
                f"['keypoints'] of shape (N, 16, 2). Received: {gt.shape}."
            )
        super().process(predictions, inputs)

    def compute_metrics(self, results):
        """Reduces the stored batches to MMPose's PCKh table."""
        _inputs.check_results(self, results)
        # MPII's ground truth is 1-based: shift the 0-based predictions.
        pred = _inputs.concat(results, "pred_coords") + 1.0
        gt = _inputs.concat(results, "gt_coords")
        mask = _inputs.concat(results, "mask")
        head = _inputs.concat(results, "head_size")

        pckh = 100.0 * keypoint_pck_accuracy(pred, gt, mask, self.thr, head)[0]
        # MMPose's first PCK call replaced non-positive head sizes by 1e6
        # in its array, which its threshold sweep then reuses.
        head_swept = np.where(head <= 0, _INVALID_NORM, head)
        thr_01 = np.arange(0, 0.5 + 0.01, 0.01)[10]
        acc_01 = keypoint_pck_accuracy(pred, gt, mask, thr_01, head_swept)[0]
        pck_01 = (100.0 * acc_01).astype(np.float32)

        counted = np.ones(_NUM_KEYPOINTS, bool)
        counted[list(_EXCLUDED)] = False
        joint_count = np.sum(mask, axis=0)
        total = np.sum(joint_count[counted]).astype(np.float64)

        metrics = {}
        for name, ids in _PARTS.items():
            if len(ids) == 1:
                metrics[name] = pckh[ids[0]]
            else:
                metrics[name] = 0.5 * (pckh[ids[0]] + pckh[ids[1]])
        if total > 0:
            ratio = joint_count / total
            # Excluded keypoints enter the sums as zeros (MMPose sums a
            # masked array), which keeps its summation order.
            metrics["PCK"] = np.sum(np.where(counted, pckh * ratio, 0.0))
            metrics["PCK@0.1"] = np.sum(np.where(counted, pck_01 * ratio, 0.0))
        else:
            metrics["PCK"] = metrics["PCK@0.1"] = float("nan")
        return metrics

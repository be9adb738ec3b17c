"""JHMDB's per-part PCK / tPCK table, as MMPose's ``JhmdbPCKAccuracy``."""

from keraspose.evaluation.functional.keypoint_eval import keypoint_pck_accuracy
from keraspose.evaluation.metrics import _inputs
from keraspose.evaluation.metrics.pck_accuracy import PCKAccuracy
from keraspose.registry import register

#: JHMDB-15 keypoint ids of each reported part (MMPose's table).
_PARTS = {
    "Head": (2,),
    "Sho": (3, 4),
    "Elb": (7, 8),
    "Wri": (11, 12),
    "Hip": (5, 6),
    "Knee": (9, 10),
    "Ank": (13, 14),
}
_NUM_KEYPOINTS = 15


@register
class JhmdbPCKAccuracy(PCKAccuracy):
    """PCK per body part on JHMDB (Jhuang et al., "Towards Understanding
    Action Recognition", ICCV 2013), MMPose's table.

    For ``'bbox'`` (box size ``max(w, h)``) the keys are ``'Head PCK'``,
    ``'Sho PCK'``, ``'Elb PCK'``, ``'Wri PCK'``, ``'Hip PCK'``, ``'Knee
    PCK'``, ``'Ank PCK'`` (left/right averaged) and ``'PCK'`` (mean over
    keypoints); for ``'torso'`` (the distance between keypoints 4 and 5,
    see :class:`PCKAccuracy`) the same with ``tPCK``. Values are in
    [0, 1]; a part without any counted keypoint gets MMPose's -1 (or the
    mean of -1 and its other side).

    Args:
        thr: threshold on the normalised distance (MMPose's JHMDB configs
            use 0.2).
        norm_item: ``'bbox'``, ``'torso'`` or both as a list.
        prefix: prefix of the result keys; none by default, as in MMPose.

    Example:

    >>> import numpy as np
    >>> gt = np.tile(np.arange(15.0)[None, :, None], (1, 1, 2)) * 10
    >>> inputs = {"keypoints": gt, "keypoints_visible": np.ones((1, 15)),
    ...           "bbox": np.array([[0.0, 0.0, 140.0, 140.0]])}
    >>> metric = JhmdbPCKAccuracy(thr=0.2, norm_item=["bbox", "torso"])
    >>> metric.process({"keypoints": gt + 1.0}, inputs)
    >>> result = metric.evaluate()
    >>> float(result["PCK"]), float(result["tPCK"])
    (1.0, 1.0)
    """

    def __init__(self, thr=0.05, norm_item="bbox", prefix=None):
        super().__init__(thr=thr, norm_item=norm_item, prefix=prefix)
        if "head" in self.norm_item:
            raise ValueError(
                "JhmdbPCKAccuracy reports PCK ('bbox') and tPCK ('torso'); "
                f"'head' is not supported. Received: norm_item={norm_item!r}"
            )

    def process(self, predictions, inputs):
        """Stores one batch (see :meth:`PCKAccuracy.process`).

        Args:
            predictions: dict with ``keypoints`` (N, 15, 2).
            inputs: dict with ``keypoints`` (N, 15, 2), ``keypoints_visible``
                (N, 15) and ``bbox`` (N, 4) for ``'bbox'``.
        """
        gt = _inputs.get_input(self, inputs, "keypoints")
        if gt.ndim != 3 or gt.shape[1] != _NUM_KEYPOINTS:
            raise ValueError(
                "JhmdbPCKAccuracy expects JHMDB's 15 keypoints, inputs"
                f"['keypoints'] of shape (N, 15, 2). Received: {gt.shape}."
            )
        super().process(predictions, inputs)

    def compute_metrics(self, results):
        """Reduces the stored batches to MMPose's per-part table."""
        _inputs.check_results(self, results)
        pred = _inputs.concat(results, "pred_coords")
        gt = _inputs.concat(results, "gt_coords")
        mask = _inputs.concat(results, "mask")
        metrics = {}
        for item, size_key, name in (
            ("bbox", "bbox_size", "PCK"),
            ("torso", "torso_size", "tPCK"),
        ):
            if item not in self.norm_item:
                continue
            norm = _inputs.concat(results, size_key)
            acc, mean, _ = keypoint_pck_accuracy(pred, gt, mask, self.thr, norm)
            for part, ids in _PARTS.items():
                if len(ids) == 1:
                    metrics[f"{part} {name}"] = acc[ids[0]]
                else:
                    value = 0.5 * acc[ids[0]] + 0.5 * acc[ids[1]]
                    metrics[f"{part} {name}"] = value
            metrics[name] = mean
        return metrics

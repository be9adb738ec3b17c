"""Area under the PCK curve, as MMPose's ``AUC`` metric."""

from keraspose.evaluation.functional.keypoint_eval import keypoint_auc
from keraspose.evaluation.metrics import _inputs
from keraspose.evaluation.metrics.base_metric import BaseMetric
from keraspose.registry import register


@register
class AUC(BaseMetric):
    """Area under the PCK curve (``'AUC'``), MMPose's ``AUC`` metric.

    Mean PCK over ``num_thrs`` thresholds ``0, 1/n, ..., (n-1)/n`` of the
    distance divided by ``norm_factor`` pixels (Zimmermann & Brox,
    "Learning to Estimate 3D Hand Pose from Single RGB Images", ICCV 2017;
    see :func:`~keraspose.evaluation.functional.keypoint_auc`). Only
    keypoints with a non-zero ``inputs['keypoints_visible']`` count.

    Args:
        norm_factor: normalisation in pixels (MMPose's default 30); must
            be positive.
        num_thrs: number of thresholds.
        prefix: prefix of the result keys; none by default, as in MMPose.

    Example:

    >>> import numpy as np
    >>> gt = np.array([[[10.0, 10.0], [20.0, 20.0]]])
    >>> inputs = {"keypoints": gt, "keypoints_visible": np.ones((1, 2))}
    >>> metric = AUC(norm_factor=30, num_thrs=4)
    >>> metric.process({"keypoints": gt + [[[3.0, 0], [15.0, 0]]]}, inputs)
    >>> metric.evaluate()
    {'AUC': 0.5}
    """

    required_keys = ("keypoints", "keypoints_visible")

    def __init__(self, norm_factor=30, num_thrs=20, prefix=None):
        super().__init__(prefix=prefix)
        if not norm_factor > 0:
            raise ValueError(
                "AUC: `norm_factor` (pixels) must be positive. Received: "
                f"norm_factor={norm_factor!r}"
            )
        if int(num_thrs) != num_thrs or num_thrs < 1:
            raise ValueError(
                "AUC: `num_thrs` must be a positive integer. Received: "
                f"num_thrs={num_thrs!r}"
            )
        self.norm_factor = norm_factor
        self.num_thrs = int(num_thrs)

    def get_config(self):
        return {
            "norm_factor": self.norm_factor,
            "num_thrs": self.num_thrs,
            "prefix": self.prefix,
        }

    def process(self, predictions, inputs):
        """Stores one batch.

        Args:
            predictions: dict with ``keypoints`` (N, K, 2).
            inputs: dict with ``keypoints`` (N, K, 2) and
                ``keypoints_visible`` (N, K).
        """
        pred, gt, mask = _inputs.keypoint_arrays(self, predictions, inputs)
        self.results.append(
            {"pred_coords": pred, "gt_coords": gt, "mask": mask}
        )

    def compute_metrics(self, results):
        """Reduces the stored batches to ``{'AUC': area}``."""
        _inputs.check_results(self, results)
        auc = keypoint_auc(
            _inputs.concat(results, "pred_coords"),
            _inputs.concat(results, "gt_coords"),
            _inputs.concat(results, "mask"),
            self.norm_factor,
            self.num_thrs,
        )
        return {"AUC": auc}

"""End-point error, as MMPose's ``EPE`` metric."""

from keraspose.evaluation.functional.keypoint_eval import keypoint_epe
from keraspose.evaluation.metrics import _inputs
from keraspose.evaluation.metrics.base_metric import BaseMetric
from keraspose.registry import register


@register
class EPE(BaseMetric):
    """End-point error (``'EPE'``), MMPose's ``EPE`` metric.

    The mean Euclidean distance in pixels between predicted and
    ground-truth keypoints, over the keypoints with a non-zero
    ``inputs['keypoints_visible']`` (see
    :func:`~keraspose.evaluation.functional.keypoint_epe`).

    Args:
        prefix: prefix of the result keys; none by default, as in MMPose.

    Example:

    >>> import numpy as np
    >>> gt = np.array([[[10.0, 10.0], [20.0, 20.0]]])
    >>> inputs = {"keypoints": gt, "keypoints_visible": np.ones((1, 2))}
    >>> metric = EPE()
    >>> metric.process({"keypoints": gt + [[[3.0, 4.0], [0.0, 2.0]]]}, inputs)
    >>> metric.evaluate()
    {'EPE': 3.5}
    """

    required_keys = ("keypoints", "keypoints_visible")

    def get_config(self):
        return {"prefix": self.prefix}

    def process(self, predictions, inputs):
        """Stores one batch.

        Args:
            predictions: dict with ``keypoints`` (N, K, D).
            inputs: dict with ``keypoints`` (N, K, D) and
                ``keypoints_visible`` (N, K).
        """
        pred, gt, mask = _inputs.keypoint_arrays(
            self, predictions, inputs, dims=(2, 3)
        )
        self.results.append(
            {"pred_coords": pred, "gt_coords": gt, "mask": mask}
        )

    def compute_metrics(self, results):
        """Reduces the stored batches to ``{'EPE': error}``."""
        _inputs.check_results(self, results)
        epe = keypoint_epe(
            _inputs.concat(results, "pred_coords"),
            _inputs.concat(results, "gt_coords"),
            _inputs.concat(results, "mask"),
        )
        return {"EPE": epe}

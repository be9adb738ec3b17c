"""Base class of the evaluation metrics (MMEngine's ``BaseMetric`` shape)."""

import numpy as np

from keraspose.utils.config_mixin import ConfigMixin


class BaseMetric(ConfigMixin):
    """Accumulates per-batch results on the host and reduces them at the end.

    The evaluation loop (``keraspose.evaluation.evaluate`` and the
    ``EvaluationCallback``) calls, per validation batch,
    ``process(predictions, inputs)`` with NumPy dicts:

    * ``predictions``: the output of ``model.predict`` on the batch,
      e.g. ``keypoints`` (N, K, 2) in original-image pixels and
      ``keypoint_scores`` (N, K) (``keypoints_visible`` with a
      ``VisPredictHead``).
    * ``inputs``: the batch's ``x`` dict from ``PackPoseInputs`` (numeric
      meta: ``id``, ``img_id``, ``category_id``, ``bbox`` (N, 4) xyxy,
      ``bbox_score``, ``input_center``, ``input_scale``, ``ori_shape``) plus
      the ground truth the metric asks for through :attr:`required_keys`
      (e.g. ``keypoints`` (N, K, 2), ``keypoints_visible`` (N, K)).

    and then ``evaluate()``, which reduces everything processed since the
    last ``reset()`` and returns ``{f"{prefix}/{name}": value}``.

    Subclasses implement ``process`` (append to ``self.results``) and
    ``compute_metrics(results) -> dict``, like MMEngine metrics.

    Args:
        prefix: key prefix of the returned metrics; ``default_prefix`` of
            the class when None.
    """

    default_prefix = None
    #: ``inputs`` keys (beyond the image) the metric needs from the packed
    #: validation samples; the evaluation loop adds them to the pipeline's
    #: ``PackPoseInputs(meta_keys=...)``.
    required_keys = ()

    def __init__(self, prefix=None):
        self.prefix = prefix or self.default_prefix
        self.dataset_meta = None
        self.results = []

    def set_dataset(self, dataset):
        """Takes what the metric needs from the evaluated dataset.

        The default reads ``dataset.metainfo`` into :attr:`dataset_meta`;
        metrics that also need e.g. the annotation file override it.
        """
        self.dataset_meta = getattr(dataset, "metainfo", None)

    def reset(self):
        self.results = []

    def process(self, predictions, inputs):
        raise NotImplementedError

    def compute_metrics(self, results):
        raise NotImplementedError

    def evaluate(self):
        """Reduces the processed results to ``{prefix/name: float}``."""
        if not self.results:
            raise ValueError(
                f"{type(self).__name__}.evaluate() was called before any "
                "batch was processed; run prediction over the validation "
                "dataset first."
            )
        metrics = self.compute_metrics(self.results)
        self.reset()
        if not self.prefix:
            return {k: _to_float(v) for k, v in metrics.items()}
        return {f"{self.prefix}/{k}": _to_float(v) for k, v in metrics.items()}


def _to_float(value):
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value

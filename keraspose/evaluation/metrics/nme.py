"""Normalised mean error, as MMPose's ``NME`` metric."""

import numpy as np

from keraspose.evaluation.functional.keypoint_eval import keypoint_nme
from keraspose.evaluation.metrics import _inputs
from keraspose.evaluation.metrics.base_metric import BaseMetric
from keraspose.registry import register

_NORM_MODES = ("use_norm_item", "keypoint_distance")


@register
class NME(BaseMetric):
    """Normalised mean error (``'NME'``), MMPose's ``NME`` metric.

    The mean Euclidean distance between predicted and ground-truth
    keypoints divided by a per-instance factor, over the keypoints with a
    non-zero ``inputs['keypoints_visible']``; instances whose factor is 0
    are left out (see :func:`~keraspose.evaluation.functional.keypoint_nme`).
    The factor, per ``norm_mode``:

    * ``'use_norm_item'``: ``inputs[norm_item]`` per instance;
      ``norm_item='bbox_size'`` is ``max(w, h)`` of ``inputs['bbox']``
      (xyxy), as MMPose's AFLW configs use.
    * ``'keypoint_distance'``: the distance between the two ground-truth
      keypoints ``keypoint_indices``, e.g. the outer eye corners for the
      inter-ocular NME of face landmarks (Sagonas et al., "300 Faces
      in-the-Wild Challenge", ICCVW 2013). When None, the pair comes from
      :attr:`DEFAULT_KEYPOINT_INDICES` by ``dataset_meta['dataset_name']``
      (``set_dataset``), as in MMPose: 300W and COCO-WholeBody-Face
      ``[36, 45]``, COFW ``[8, 9]``, WFLW ``[60, 72]``, LaPa ``[66, 79]``,
      Horse-10 ``[0, 1]`` (nose and eye).

    Unlike MMPose, the default pair is looked up at every evaluation rather
    than written back into ``keypoint_indices``, so the config stays as
    given.

    Args:
        norm_mode: ``'use_norm_item'`` or ``'keypoint_distance'`` (no
            default, as in MMPose).
        norm_item: the ``inputs`` key of the factor (or ``'bbox_size'``);
            needed for ``'use_norm_item'``.
        keypoint_indices: pair of keypoint ids for ``'keypoint_distance'``.
        prefix: prefix of the result keys; none by default, as in MMPose.

    Example:

    >>> import numpy as np
    >>> gt = np.array([[[0.0, 0.0], [10.0, 0.0], [5.0, 5.0]]])
    >>> inputs = {"keypoints": gt, "keypoints_visible": np.ones((1, 3))}
    >>> metric = NME("keypoint_distance", keypoint_indices=[0, 1])
    >>> metric.process({"keypoints": gt + [[[0, 1.0], [0, 2.0], [0, 3.0]]]},
    ...                inputs)
    >>> round(metric.evaluate()["NME"], 6)
    0.2
    """

    #: Default keypoint pair of ``'keypoint_distance'`` per dataset name.
    DEFAULT_KEYPOINT_INDICES = {
        "horse10": [0, 1],
        "300w": [36, 45],
        "coco_wholebody_face": [36, 45],
        "cofw": [8, 9],
        "wflw": [60, 72],
        "lapa": [66, 79],
    }

    required_keys = ("keypoints", "keypoints_visible")

    def __init__(
        self, norm_mode, norm_item=None, keypoint_indices=None, prefix=None
    ):
        super().__init__(prefix=prefix)
        if norm_mode not in _NORM_MODES:
            raise ValueError(
                f"NME: `norm_mode` must be one of {_NORM_MODES}. Received: "
                f"norm_mode={norm_mode!r}"
            )
        if norm_mode == "use_norm_item" and not norm_item:
            raise ValueError(
                "NME(norm_mode='use_norm_item') needs `norm_item`, the "
                "inputs key of the per-instance normalisation factor (e.g. "
                "'bbox_size')."
            )
        if keypoint_indices is not None:
            keypoint_indices = [int(i) for i in keypoint_indices]
            if len(keypoint_indices) != 2:
                raise ValueError(
                    "NME: `keypoint_indices` must be a pair of keypoint "
                    f"ids. Received: keypoint_indices={keypoint_indices!r}"
                )
        self.norm_mode = norm_mode
        self.norm_item = norm_item
        self.keypoint_indices = keypoint_indices
        keys = ["keypoints", "keypoints_visible"]
        if norm_mode == "use_norm_item":
            keys.append("bbox" if norm_item == "bbox_size" else norm_item)
        self.required_keys = tuple(keys)

    def get_config(self):
        return {
            "norm_mode": self.norm_mode,
            "norm_item": self.norm_item,
            "keypoint_indices": self.keypoint_indices,
            "prefix": self.prefix,
        }

    def process(self, predictions, inputs):
        """Stores one batch.

        Args:
            predictions: dict with ``keypoints`` (N, K, 2).
            inputs: dict with ``keypoints`` (N, K, 2), ``keypoints_visible``
                (N, K) and, for ``'use_norm_item'``, ``inputs[norm_item]``
                (N,) or ``bbox`` (N, 4) for ``'bbox_size'``.
        """
        pred, gt, mask = _inputs.keypoint_arrays(self, predictions, inputs)
        n = gt.shape[0]
        result = {"pred_coords": pred, "gt_coords": gt, "mask": mask}
        if self.norm_mode == "use_norm_item":
            if self.norm_item == "bbox_size":
                size = _inputs.bbox_size(self, inputs, n)
            else:
                size = _inputs.per_instance(
                    self, inputs, self.norm_item, n, "NME normalisation"
                )
            result["norm_factor"] = size.reshape(n, 1)
        self.results.append(result)

    def _resolve_indices(self, num_keypoints):
        meta = self.dataset_meta or {}
        indices = self.keypoint_indices
        if indices is None:
            name = meta.get("dataset_name")
            if name not in self.DEFAULT_KEYPOINT_INDICES:
                raise ValueError(
                    "NME(norm_mode='keypoint_distance') without "
                    "`keypoint_indices` takes the default pair of the "
                    "dataset from dataset_meta['dataset_name'] (known: "
                    f"{sorted(self.DEFAULT_KEYPOINT_INDICES)}). Received: "
                    f"dataset_name={name!r}. Pass `keypoint_indices` or call "
                    "set_dataset() with one of those datasets."
                )
            indices = self.DEFAULT_KEYPOINT_INDICES[name]
        id2name = meta.get("keypoint_id2name")
        for idx in indices:
            if id2name is not None and idx not in id2name:
                raise ValueError(
                    f"NME: the dataset {meta.get('dataset_name')!r} has no "
                    f"keypoint {idx} (keypoint_indices={indices})."
                )
            if not -num_keypoints <= idx < num_keypoints:
                raise ValueError(
                    f"NME: keypoint index {idx} is out of range for "
                    f"{num_keypoints} keypoints (keypoint_indices="
                    f"{indices})."
                )
        return indices

    def compute_metrics(self, results):
        """Reduces the stored batches to ``{'NME': error}``."""
        _inputs.check_results(self, results)
        pred = _inputs.concat(results, "pred_coords")
        gt = _inputs.concat(results, "gt_coords")
        mask = _inputs.concat(results, "mask")
        if self.norm_mode == "use_norm_item":
            factor = _inputs.concat(results, "norm_factor")
        else:
            i, j = self._resolve_indices(gt.shape[1])
            factor = np.linalg.norm(gt[:, i, :] - gt[:, j, :], axis=1)
            factor = factor[:, None]
        return {"NME": keypoint_nme(pred, gt, mask, np.tile(factor, [1, 2]))}

"""Mean per-joint position error of 3D poses, as MMPose's ``MPJPE``."""

import os

import numpy as np

from keraspose.evaluation.functional.keypoint_eval import keypoint_mpjpe
from keraspose.evaluation.metrics import _inputs
from keraspose.evaluation.metrics.base_metric import BaseMetric
from keraspose.registry import register


def _as_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)


@register
class MPJPE(BaseMetric):
    """Mean per-joint position error of 3D keypoints, MMPose's ``MPJPE``.

    The mean Euclidean distance between predicted and ground-truth 3D
    keypoints over the visible ones (Ionescu et al., "Human3.6M", TPAMI
    2014), after an optional alignment of each predicted pose (see
    :func:`~keraspose.evaluation.functional.keypoint_mpjpe`):

    * ``mode='mpjpe'``: none, key ``'MPJPE'``;
    * ``'p-mpjpe'``: similarity transform (Procrustes: scale, rotation,
      translation), key ``'P-MPJPE'``;
    * ``'n-mpjpe'``: least-squares scale, key ``'N-MPJPE'``.

    (MMPose's docstring swaps the descriptions of the last two; its code,
    followed here, does as listed.)

    Per action (``has_action=True``) it also reports ``'<KEY>_<Action>'``,
    e.g. ``'MPJPE_Directions'``, with the action parsed from
    ``inputs['target_img_path']`` as MMPose does for Human3.6M: file names
    like ``S9_Directions_1.54138969_000001.jpg`` give the action
    ``Directions_1``, grouped by the part before ``_`` (``Directions``).
    ``skip_list`` drops instances whose file name up to the first ``.``
    (``S9_Directions_1``) it lists. MMPose always reads the paths; here
    they are needed only with ``has_action=True`` or a ``skip_list``,
    because string inputs cannot travel through JAX / PyTorch batches
    (keep them host-side, e.g. with a TensorFlow evaluation pipeline).

    Shapes accepted by ``process``: ``predictions['keypoints']`` (N, K, 3)
    or (N, T, K, 3) (the lifting heads' (N, 1, K, 3)); ground truth
    ``inputs['lifting_target']`` (N, K, 3) or (N, T, K, 3) and
    ``inputs['lifting_target_visible']`` with N * T * K entries ((N, K),
    (N, K, 1), ...); frames are flattened to rows as in MMPose, and non-zero
    visibility counts as visible. ``target_img_path``: (N,) or (N, F)
    strings or bytes; the first path of each instance is used, as in MMPose.

    Args:
        mode: ``'mpjpe'``, ``'p-mpjpe'`` or ``'n-mpjpe'``.
        skip_list: ``subject_action`` names whose instances are skipped.
        has_action: also report the error per action category.
        prefix: prefix of the result keys; none by default, as in MMPose.
        unit_scale: keraspose-only factor applied to the reported errors
            (positive). MMPose reports them in the data's units, metres
            for its Human3.6M annotations; ``unit_scale=1000`` reports
            millimetres, the unit of the papers' tables. The default 1.0
            is MMPose's behaviour. Every mode scales linearly, so this
            equals scaling both poses.

    Example:

    >>> import numpy as np
    >>> gt = np.array([[[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]])
    >>> inputs = {"lifting_target": gt,
    ...           "lifting_target_visible": np.ones((1, 4, 1))}
    >>> metric = MPJPE(mode="mpjpe")
    >>> metric.process({"keypoints": 2 * gt[:, None]}, inputs)
    >>> metric.evaluate()
    {'MPJPE': 0.75}
    >>> metric = MPJPE(unit_scale=1000)  # metres in, millimetres out
    >>> metric.process({"keypoints": 2 * gt[:, None]}, inputs)
    >>> metric.evaluate()
    {'MPJPE': 750.0}
    """

    #: Alignment of :func:`keypoint_mpjpe` per mode (MMPose's table).
    ALIGNMENT = {"mpjpe": "none", "p-mpjpe": "procrustes", "n-mpjpe": "scale"}

    required_keys = ("lifting_target", "lifting_target_visible")

    def __init__(
        self,
        mode="mpjpe",
        skip_list=(),
        has_action=False,
        prefix=None,
        unit_scale=1.0,
    ):
        super().__init__(prefix=prefix)
        if (
            isinstance(unit_scale, bool)
            or not isinstance(unit_scale, int | float)
            or not np.isfinite(unit_scale)
            or unit_scale <= 0
        ):
            raise ValueError(
                "MPJPE: `unit_scale` must be a positive number (e.g. 1000 "
                f"for metres -> mm). Received: unit_scale={unit_scale!r}"
            )
        if mode not in self.ALIGNMENT:
            raise ValueError(
                f"MPJPE: `mode` must be one of {tuple(self.ALIGNMENT)}. "
                f"Received: mode={mode!r}"
            )
        if isinstance(skip_list, str):
            raise ValueError(
                "MPJPE: `skip_list` must be a list of names such as "
                f"'S9_Greeting'. Received the string {skip_list!r}."
            )
        self.mode = mode
        self.skip_list = [str(s) for s in skip_list]
        self.has_action = bool(has_action)
        self.unit_scale = float(unit_scale)
        keys = list(type(self).required_keys)
        if self.has_action or self.skip_list:
            keys.append("target_img_path")
        self.required_keys = tuple(keys)

    def get_config(self):
        return {
            "mode": self.mode,
            "skip_list": list(self.skip_list),
            "has_action": self.has_action,
            "prefix": self.prefix,
            "unit_scale": self.unit_scale,
        }

    def _image_names(self, inputs, num_instances):
        paths = _inputs.get_input(
            self, inputs, "target_img_path", "image path of each instance"
        )
        if paths.ndim == 2:
            paths = paths[:, 0]
        if paths.shape != (num_instances,):
            raise ValueError(
                "MPJPE: expected inputs['target_img_path'] of shape (N,) or "
                f"(N, F) with N = {num_instances}. Received: {paths.shape}."
            )
        return [os.path.basename(_as_str(p)) for p in paths]

    @staticmethod
    def _action(name):
        # "S9_Directions_1.54138969_000001.jpg" -> "Directions_1"
        parts = name.split("_", 1)
        if len(parts) != 2 or "." not in parts[1]:
            raise ValueError(
                "MPJPE: cannot read the action from the image name "
                f"{name!r}; expected Human3.6M's "
                "'<subject>_<action>.<camera>_<frame>.jpg'."
            )
        return parts[1].split(".", 1)[0]

    def process(self, predictions, inputs):
        """Stores one batch.

        Args:
            predictions: dict with ``keypoints`` (N, K, 3) or (N, T, K, 3).
            inputs: dict with ``lifting_target`` (N, K, 3) or (N, T, K, 3),
                ``lifting_target_visible`` and, with ``has_action`` or a
                ``skip_list``, ``target_img_path``.
        """
        name = type(self).__name__
        pred = _inputs.get_prediction(self, predictions, "keypoints")
        gt = _inputs.get_input(
            self, inputs, "lifting_target", "ground-truth 3D keypoints"
        )
        visible = _inputs.get_input(
            self, inputs, "lifting_target_visible", "ground-truth visibility"
        )
        if gt.ndim not in (3, 4):
            raise ValueError(
                f"{name}: expected inputs['lifting_target'] of shape "
                f"(N, K, C) or (N, T, K, C). Received: {gt.shape}."
            )
        n = gt.shape[0]
        k, c = gt.shape[-2:]
        gt_rows = gt.reshape(-1, k, c)
        pred_rows = pred
        if pred.ndim == 4 and pred.shape[-2:] == (k, c):
            pred_rows = pred.reshape(-1, k, c)
        if pred_rows.shape != gt_rows.shape:
            raise ValueError(
                f"{name}: predictions['keypoints'] {pred.shape} does not match "
                f"inputs['lifting_target'] {gt.shape}; expected the same "
                "(N, K, C) (the prediction may carry a frame axis, "
                "(N, T, K, C))."
            )
        rows = gt_rows.shape[0]
        if visible.size != rows * k:
            raise ValueError(
                f"{name}: inputs['lifting_target_visible'] {visible.shape} "
                f"must hold one value per keypoint of inputs"
                f"['lifting_target'] {gt.shape}, e.g. (N, K) or (N, K, 1)."
            )
        mask = visible.astype(bool).reshape(rows, -1)
        frames = rows // n if n else 1
        result = {"pred_coords": pred_rows, "gt_coords": gt_rows, "mask": mask}
        if self.has_action or self.skip_list:
            names = self._image_names(inputs, n)
            actions = [self._action(s) for s in names]
            keep = np.array(
                [s.split(".")[0] not in self.skip_list for s in names], bool
            )
            keep_rows = np.repeat(keep, frames)
            result = {key: value[keep_rows] for key, value in result.items()}
            result["actions"] = np.repeat(np.array(actions, str), frames)[
                keep_rows
            ]
        self.results.append(result)

    def compute_metrics(self, results):
        """Reduces the stored batches to ``{'MPJPE': error, ...}``."""
        _inputs.check_results(self, results)
        pred = _inputs.concat(results, "pred_coords")
        gt = _inputs.concat(results, "gt_coords")
        mask = _inputs.concat(results, "mask")
        if pred.shape[0] == 0:
            raise ValueError(
                "MPJPE: every processed instance was skipped (skip_list="
                f"{self.skip_list}); nothing to evaluate."
            )
        alignment = self.ALIGNMENT[self.mode]
        key = self.mode.upper()
        scale = self.unit_scale
        metrics = {key: keypoint_mpjpe(pred, gt, mask, alignment) * scale}
        if self.has_action:
            categories = {}
            for idx, action in enumerate(_inputs.concat(results, "actions")):
                categories.setdefault(action.split("_")[0], []).append(idx)
            for category, idx in categories.items():
                metrics[f"{key}_{category}"] = (
                    keypoint_mpjpe(pred[idx], gt[idx], mask[idx], alignment)
                    * scale
                )
        return metrics

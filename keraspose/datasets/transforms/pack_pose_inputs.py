"""Packs a processed sample into the ``model.fit`` contract."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.generate_target import TARGET_KEYS
from keraspose.datasets.transforms.load_image import materialize_image
from keraspose.registry import register

#: Numeric meta kept by default (strings cannot reach JAX/PyTorch).
DEFAULT_META_KEYS = (
    "id",
    "img_id",
    "category_id",
    "bbox",
    "bbox_score",
    "ori_shape",
    "img_shape",
    "input_size",
    "input_center",
    "input_scale",
    "flip",
)


@register
class PackPoseInputs(BaseTransform):
    """Turns a sample dict into ``(x, y)`` for ``model.fit`` (or ``x``).

    ``x`` holds ``images`` (the warped uint8 BGR crop, the data
    preprocessor normalises it on the device), ``input_center`` and
    ``input_scale`` (for back-projection) and the ``meta_keys`` present in
    the sample (ids and box score for evaluation). ``y`` holds the targets
    of :class:`GenerateTarget` (e.g. ``heatmaps`` and ``keypoint_weights``);
    without targets (test pipelines) the sample packs to ``x`` alone.

    String meta (``img_path``, ``flip_direction``) may be listed in
    ``meta_keys``, but JAX and PyTorch cannot take string tensors, so keep
    them for TensorFlow-only or evaluation-only use.

    Args:
        meta_keys: sample keys copied into ``x``.
        pack_transformed: also put ``transformed_keypoints`` into ``x``.

    Example:

    >>> "img_id" in PackPoseInputs().get_config()["meta_keys"]
    True
    """

    def __init__(self, meta_keys=DEFAULT_META_KEYS, pack_transformed=False):
        self.meta_keys = tuple(meta_keys)
        self.pack_transformed = bool(pack_transformed)

    def transform(self, results, seed):
        materialize_image(results)
        if "img" not in results:
            raise ValueError(
                "PackPoseInputs needs an 'img' in the sample (add LoadImage "
                f"and TopdownAffine). Received keys: {sorted(results)}"
            )
        x = {"images": results["img"]}
        for key in self.meta_keys:
            if key in results and key not in x:
                x[key] = results[key]
        if self.pack_transformed and "transformed_keypoints" in results:
            x["transformed_keypoints"] = results["transformed_keypoints"]
        target_keys = results.get(TARGET_KEYS, ())
        if not target_keys:
            return x
        return x, {k: results[k] for k in target_keys}

    def get_config(self):
        return {
            "meta_keys": self.meta_keys,
            "pack_transformed": self.pack_transformed,
        }

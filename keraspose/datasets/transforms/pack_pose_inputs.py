"""Packs a processed sample into the ``model.fit`` contract."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.bottomup_resize import AUG_IMAGE_PREFIX
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


#: Entries of a lifting sample always packed into ``x`` when present:
#: the root the codec removed (decoding adds it back) and the 3D ground
#: truth (MMPose's ``gt_instances`` of the lifting codecs, for MPJPE).
LIFTING_KEYS = ("target_root", "lifting_target", "lifting_target_visible")


def _is_lifting_sample(results):
    """MMPose's test: no image, but ``lifting_target`` and ``keypoints``."""
    return (
        "img" not in results
        and "img_bytes" not in results
        and "lifting_target" in results
        and "keypoints" in results
    )


@register
class PackPoseInputs(BaseTransform):
    """Turns a sample dict into ``(x, y)`` for ``model.fit`` (or ``x``).

    ``x`` holds ``images`` (the warped uint8 BGR crop, the data
    preprocessor normalises it on the device), ``input_center`` and
    ``input_scale`` (for back-projection) and the ``meta_keys`` present in
    the sample (ids and box score for evaluation), plus the extra image
    pyramid levels ``aug_images_0``, ``aug_images_1``, ... of a
    multi-scale test when ``BottomupResize(aug_scales=...)`` made them
    (MMPose packs the list of images as ``inputs``). ``y`` holds the targets
    of :class:`GenerateTarget` (e.g. ``heatmaps`` and ``keypoint_weights``);
    without targets (test pipelines) the sample packs to ``x`` alone.

    2D-to-3D lifting samples (no image, a ``lifting_target``, as MMPose
    tells them apart) pack ``x["keypoints"]``: the codec's
    ``keypoint_labels`` (T, K, C) (the raw ``keypoints`` without a codec),
    plus ``target_root``, ``lifting_target`` (t, K, 3) and
    ``lifting_target_visible`` (t, K) when present (what decoding and
    ``MPJPE`` need; MMPose keeps the last two in ``gt_instances``) and the
    ``meta_keys`` present; ``y`` holds the codec's ``target_keys``
    (``lifting_target_label``, ``lifting_target_weight``,
    ``trajectory_weights``). A ``camera_param`` listed in ``meta_keys``
    is packed as a dict of tensors.

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
        if _is_lifting_sample(results):
            return self._pack_lifting(results)
        materialize_image(results)
        if "img" not in results:
            raise ValueError(
                "PackPoseInputs needs an 'img' in the sample (add LoadImage "
                f"and TopdownAffine). Received keys: {sorted(results)}"
            )
        x = {"images": results["img"]}
        # the extra pyramid levels of a multi-scale test (BottomupResize)
        for key in sorted(results):
            if key.startswith(AUG_IMAGE_PREFIX):
                x[key] = results[key]
        for key in self.meta_keys:
            if key in results and key not in x:
                x[key] = results[key]
        if self.pack_transformed and "transformed_keypoints" in results:
            x["transformed_keypoints"] = results["transformed_keypoints"]
        target_keys = results.get(TARGET_KEYS, ())
        if not target_keys:
            return x
        return x, {k: results[k] for k in target_keys}

    def _pack_lifting(self, results):
        keypoints = results.get("keypoint_labels", results["keypoints"])
        x = {"keypoints": keypoints}
        for key in LIFTING_KEYS + self.meta_keys:
            if key in results and key not in x:
                x[key] = results[key]
        target_keys = results.get(TARGET_KEYS, ())
        if not target_keys:
            return x
        return x, {k: results[k] for k in target_keys}

    def get_config(self):
        return {
            "meta_keys": self.meta_keys,
            "pack_transformed": self.pack_transformed,
        }

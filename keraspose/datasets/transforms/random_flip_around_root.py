"""Random horizontal flip of 2D/3D pose sequences around a centre."""

from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.base import check_probability
from keraspose.datasets.transforms.base import uniform
from keraspose.registry import register
from keraspose.utils.lazy_import import tf

_CENTER_MODES = ("static", "root")


def _check_flip_cfg(cfg, name):
    if not isinstance(cfg, dict):
        raise TypeError(
            f"RandomFlipAroundRoot expects `{name}` to be a dict (e.g. "
            f"dict(center_mode='root', center_index=0)). Received: {cfg!r}"
        )
    unknown = sorted(set(cfg) - {"center_mode", "center_x", "center_index"})
    if unknown:
        raise ValueError(
            f"RandomFlipAroundRoot: unknown `{name}` entries {unknown}; "
            "expected center_mode, center_x, center_index."
        )
    mode = cfg.get("center_mode", "static")
    if mode not in _CENTER_MODES:
        raise ValueError(
            f"RandomFlipAroundRoot: `{name}['center_mode']` must be one of "
            f"{_CENTER_MODES}. Received: {mode!r}"
        )
    index = cfg.get("center_index", 0)
    index = [index] if isinstance(index, int) else list(index)
    if not index or not all(isinstance(i, int) and i >= 0 for i in index):
        raise ValueError(
            f"RandomFlipAroundRoot: `{name}['center_index']` must be a "
            f"keypoint index or a list of them. Received: {index!r}"
        )
    return mode, float(cfg.get("center_x", 0.5)), index


def flip_keypoints_custom_center(
    keypoints,
    keypoints_visible,
    flip_indices,
    center_mode="static",
    center_x=0.5,
    center_index=0,
):
    """Mirrors keypoints in x around a centre, swapping left and right.

    Graph-op twin of MMPose's ``flip_keypoints_custom_center``: keypoint
    ``k`` takes the values of ``flip_indices[k]``, then ``x -> 2 c - x``
    with ``c = center_x`` (``"static"``) or the mean x of the
    ``center_index`` keypoints before the flip (``"root"``, per frame).

    Args:
        keypoints: (..., K, D) tensor.
        keypoints_visible: (..., K) tensor.
        flip_indices: (K,) indices of each keypoint's mirror keypoint.
        center_mode: ``"static"`` or ``"root"``.
        center_x: the centre for ``"static"``.
        center_index: root keypoint index (or indices) for ``"root"``.

    Returns:
        ``(keypoints, keypoints_visible)`` flipped.

    Example:

    >>> import numpy as np
    >>> kpts = np.array([[[0.2, 1.0], [0.4, 2.0]]], np.float32)
    >>> out, _ = flip_keypoints_custom_center(kpts, np.ones((1, 2)), [1, 0])
    >>> np.round(out.numpy().astype(float), 3).tolist()
    [[[0.6, 2.0], [0.8, 1.0]]]
    """
    keypoints = tf.convert_to_tensor(keypoints)
    index = [center_index] if isinstance(center_index, int) else center_index
    if center_mode == "root":
        center = tf.reduce_mean(
            tf.gather(keypoints[..., 0], list(index), axis=-1),
            axis=-1,
            keepdims=True,
        )
    elif center_mode == "static":
        center = tf.cast(center_x, keypoints.dtype)
    else:
        raise ValueError(
            f"center_mode must be one of {_CENTER_MODES}. Received: "
            f"{center_mode!r}"
        )
    flipped = tf.gather(keypoints, flip_indices, axis=-2)
    visible = tf.gather(keypoints_visible, flip_indices, axis=-1)
    x = 2 * center - flipped[..., 0]
    flipped = tf.concat([x[..., None], flipped[..., 1:]], axis=-1)
    return flipped, visible


@register
class RandomFlipAroundRoot(BaseTransform):
    """Randomly mirrors a 2D-to-3D lifting sample horizontally.

    With probability ``flip_prob`` the 2D ``keypoints`` and the 3D
    ``lifting_target`` (or, with ``flip_label``, the encoded
    ``keypoint_labels`` and ``lifting_target_label``) swap left and right
    joints through the sample's ``flip_indices`` (identity if absent) and
    mirror their x around a centre: ``dict(center_mode="static",
    center_x=0.5)`` (the default, MMPose's) or ``dict(center_mode="root",
    center_index=0)``. Their visibilities (``keypoints_visible`` /
    ``keypoint_labels_visible`` and ``lifting_target_visible``, ones if
    absent) are swapped too. ``flip_camera`` also negates the x of the
    camera's principal point ``c`` and of the tangential distortion ``p``
    (for normalised cameras, as MMPose). Used by VideoPose3D (Pavllo et al.,
    "3D human pose estimation in video with temporal convolutions and
    semi-supervised training", CVPR 2019).

    Differences from MMPose 1.3.2: MMPose reads ``camera_param`` even when
    ``flip_camera`` is False (and fails without it); here it is needed only
    with ``flip_camera``. MMPose's ``"root"`` centre broadcasts a (T,) mean
    against (T, K) coordinates (an error unless T is 1 or K); here each
    frame is mirrored around its own root.

    Args:
        keypoints_flip_cfg: centre of the 2D keypoints' flip.
        target_flip_cfg: centre of the 3D target's flip.
        flip_prob: probability of flipping (``u <= flip_prob`` with a
            uniform ``u``, as MMPose).
        flip_camera: also flip the camera's ``c`` and ``p``.
        flip_label: flip the encoded labels instead of the raw data (put it
            after ``GenerateTarget``).

    Example:

    >>> t = RandomFlipAroundRoot(dict(), dict(center_mode="root"))
    >>> t.get_config()["flip_prob"]
    0.5
    """

    random = True

    def __init__(
        self,
        keypoints_flip_cfg,
        target_flip_cfg,
        flip_prob=0.5,
        flip_camera=False,
        flip_label=False,
    ):
        self._keypoints_cfg = _check_flip_cfg(
            keypoints_flip_cfg, "keypoints_flip_cfg"
        )
        self._target_cfg = _check_flip_cfg(target_flip_cfg, "target_flip_cfg")
        self.keypoints_flip_cfg = dict(keypoints_flip_cfg)
        self.target_flip_cfg = dict(target_flip_cfg)
        self.flip_prob = check_probability(
            flip_prob, "flip_prob", "RandomFlipAroundRoot"
        )
        self.flip_camera = bool(flip_camera)
        self.flip_label = bool(flip_label)

    def _keys(self):
        if self.flip_label:
            return (
                "keypoint_labels",
                "keypoint_labels_visible",
                "lifting_target_label",
            )
        return ("keypoints", "keypoints_visible", "lifting_target")

    def transform(self, results, seed):
        kpt_key, vis_key, target_key = self._keys()
        missing = [k for k in (kpt_key, target_key) if k not in results]
        if missing:
            where = " (flip_label=True: put it after GenerateTarget)"
            raise ValueError(
                f"RandomFlipAroundRoot needs {missing} in the sample"
                + (where if self.flip_label else "")
                + f". Received keys: {sorted(results)}"
            )
        if self.flip_camera and "camera_param" not in results:
            raise ValueError(
                "RandomFlipAroundRoot(flip_camera=True) needs 'camera_param' "
                "in the sample (pass camera_param_file to the dataset). "
                f"Received keys: {sorted(results)}"
            )
        take = uniform(seed) <= self.flip_prob
        kpts = tf.convert_to_tensor(results[kpt_key])
        target = tf.convert_to_tensor(results[target_key])
        num_keypoints = int(kpts.shape[-2])
        kpts_vis = results.get(vis_key)
        if kpts_vis is None:
            kpts_vis = tf.ones(tf.shape(kpts)[:-1], tf.float32)
        target_vis = results.get("lifting_target_visible")
        if target_vis is None:
            target_vis = tf.ones(tf.shape(target)[:-1], tf.float32)
        if "flip_indices" in results:
            flip_indices = tf.cast(results["flip_indices"], tf.int32)
        else:
            flip_indices = tf.range(num_keypoints, dtype=tf.int32)
        out = dict(results)
        pairs = (
            (kpt_key, vis_key, kpts, kpts_vis, self._keypoints_cfg),
            (
                target_key,
                "lifting_target_visible",
                target,
                target_vis,
                self._target_cfg,
            ),
        )
        for key, vkey, value, vis, (mode, cx, index) in pairs:
            if mode == "root" and max(index) >= int(value.shape[-2]):
                raise ValueError(
                    f"RandomFlipAroundRoot: center_index {index} is out of "
                    f"range for {key!r} with {value.shape[-2]} keypoints."
                )
            new, new_vis = flip_keypoints_custom_center(
                value, vis, flip_indices, mode, cx, index
            )
            vis = tf.convert_to_tensor(vis)
            out[key] = tf.where(take, new, value)
            out[vkey] = tf.where(take, tf.cast(new_vis, vis.dtype), vis)
        if self.flip_camera:
            camera = dict(results["camera_param"])
            if "c" not in camera:
                raise ValueError(
                    "RandomFlipAroundRoot(flip_camera=True) needs the "
                    "camera's principal point 'c'. Received camera entries: "
                    f"{sorted(camera)}"
                )
            for name in ("c", "p"):
                if name in camera:
                    value = tf.convert_to_tensor(camera[name])
                    sign = tf.where(
                        tf.range(tf.shape(value)[0]) == 0, -1.0, 1.0
                    )
                    sign = tf.reshape(
                        tf.cast(sign, value.dtype),
                        [-1] + [1] * (len(value.shape) - 1),
                    )
                    camera[name] = tf.where(take, value * sign, value)
            out["camera_param"] = camera
        return out

    def get_config(self):
        return {
            "keypoints_flip_cfg": dict(self.keypoints_flip_cfg),
            "target_flip_cfg": dict(self.target_flip_cfg),
            "flip_prob": self.flip_prob,
            "flip_camera": self.flip_camera,
            "flip_label": self.flip_label,
        }

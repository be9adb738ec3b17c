"""Helpers shared by the 2D-to-3D pose-lifting codecs.

Argument checks, the NumPy pieces of ``encode`` and the ``keras.ops``
``decode`` of :class:`~keraspose.codecs.ImagePoseLifting` and
:class:`~keraspose.codecs.VideoPoseLifting`.
"""

import numpy as np
from keras import ops

#: Encode outputs that are training targets (MMPose's label mapping table).
LIFTING_TARGET_KEYS = (
    "lifting_target_label",
    "lifting_target_weight",
    "trajectory_weights",
)


def check_num_keypoints(num_keypoints, owner):
    if isinstance(num_keypoints, bool) or not isinstance(
        num_keypoints, int | np.integer
    ):
        raise TypeError(
            f"{owner} expects `num_keypoints` as a positive int. "
            f"Received: num_keypoints={num_keypoints!r}"
        )
    if num_keypoints <= 0:
        raise ValueError(
            f"{owner} expects `num_keypoints` as a positive int. "
            f"Received: num_keypoints={num_keypoints!r}"
        )
    return int(num_keypoints)


def check_root_index(root_index, num_keypoints, owner):
    """An int or a list of ints in ``[0, num_keypoints)`` -> list of ints."""
    values = (
        [root_index]
        if not isinstance(root_index, list | tuple)
        else (list(root_index))
    )
    ok = len(values) > 0 and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool)
        for v in values
    )
    if not ok or not all(0 <= v < num_keypoints for v in values):
        raise ValueError(
            f"{owner} expects `root_index` as an int or a non-empty list of "
            f"ints in [0, {num_keypoints}). Received: root_index="
            f"{root_index!r}"
        )
    return [int(v) for v in values]


def check_mean_std(mean, std, rows, names, owner):
    """MMPose's ``reshape(1, rows, -1)`` of a mean/std pair (float32)."""
    if mean is None:
        if std is not None:
            raise ValueError(
                f"{owner}: `{names[1]}` is given without `{names[0]}`. "
                f"Received: {names[0]}=None"
            )
        return None, None
    if std is None:
        raise ValueError(
            f"{owner}: `{names[0]}` needs `{names[1]}`. "
            f"Received: {names[1]}=None"
        )
    arrays = []
    for name, value in zip(names, (mean, std)):
        array = np.asarray(value, dtype=np.float32)
        if array.size == 0 or array.size % rows:
            raise ValueError(
                f"{owner} expects `{name}` with {rows} rows (one per "
                f"keypoint). Received shape {array.shape}"
            )
        arrays.append(array.reshape(1, rows, -1))
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(
            f"{owner} expects `{names[0]}` and `{names[1]}` of the same "
            f"shape. Received shapes {arrays[0].shape} and "
            f"{arrays[1].shape}"
        )
    return arrays[0], arrays[1]


def array_config(array):
    """A (1, K, D) float32 array as a (K, D) nested list (or None)."""
    if array is None:
        return None
    return array.reshape(array.shape[1], -1).tolist()


def prepare_inputs(keypoints, keypoints_visible, owner):
    """(T, K, D) float32 keypoints and float32 visibility (default ones)."""
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.ndim == 2:
        keypoints = keypoints[None]
    if keypoints.ndim != 3:
        raise ValueError(
            f"{owner}.encode expects keypoints of shape (T, K, D). "
            f"Received shape {keypoints.shape}"
        )
    if keypoints_visible is None:
        keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
    keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
    if keypoints_visible.shape[:2] != keypoints.shape[:2] or (
        keypoints_visible.ndim not in (2, 3)
    ):
        raise ValueError(
            f"{owner}.encode expects keypoints_visible of shape "
            f"{keypoints.shape[:2]} (or with a trailing 1) to match "
            f"keypoints {keypoints.shape}. Received shape "
            f"{keypoints_visible.shape}"
        )
    return keypoints, keypoints_visible


def prepare_target(lifting_target, lifting_target_visible, root_index, owner):
    """Checks the 3D target and computes MMPose's weights.

    Returns:
        ``(lifting_target, lifting_target_weight, trajectory_weights)`` as
        float32 arrays.
    """
    if lifting_target is None:
        raise ValueError(
            f"{owner}.encode needs `lifting_target` ((T, K, 3) or (K, 3)); "
            "MMPose fails without it as well. Received: None"
        )
    target = np.asarray(lifting_target, dtype=np.float32)
    if target.ndim not in (2, 3) or target.shape[-2] <= max(root_index):
        raise ValueError(
            f"{owner}.encode expects lifting_target of shape (T, K, C) or "
            f"(K, C) with K > {max(root_index)} (the root index). "
            f"Received shape {target.shape}"
        )
    if lifting_target_visible is None:
        weight = np.ones(target.shape[:-1], dtype=np.float32)
        # MMPose's `1 / lifting_target[:, 2]`: for a (T, K, C) target this
        # is keypoint 2's coordinates, (T, C) (kept as MMPose has it).
        trajectory_weights = np.float32(1.0) / target[:, 2]
    else:
        visible = np.asarray(lifting_target_visible, dtype=np.float32)
        weight = np.where(visible > 0.5, 1.0, 0.0).astype(np.float32)
        trajectory_weights = weight
    return target, weight, trajectory_weights


def remove_root_joint(label, weight, root, owner):
    """Drops the root joint from the label (axis -2) and the weights."""
    if weight.ndim not in (2, 3):
        raise ValueError(
            f"{owner}.encode with remove_root expects lifting target weights "
            f"of shape (T, K) or (T, K, 1). Received shape {weight.shape}"
        )
    label = np.delete(label, root, axis=-2)
    weight = np.delete(weight, root, axis=-2 if weight.ndim == 3 else -1)
    return label, weight


def root_relative(target, weight, root_index, remove_root, save_index, owner):
    """The target minus its root (the mean of the ``root_index`` joints).

    With ``remove_root`` and a single root index the root joint is also
    dropped from the label and the weights.

    Returns:
        ``(label, weight, root, extra)``: ``extra`` holds
        ``target_root_removed`` (and ``target_root_index`` with
        ``save_index``) when the root was removed.
    """
    root = np.mean(target[..., root_index, :], axis=-2, dtype=np.float32)
    label = target - root[..., None, :]
    extra = {}
    if remove_root and len(root_index) == 1:
        label, weight = remove_root_joint(label, weight, root_index[0], owner)
        extra["target_root_removed"] = True
        if save_index:
            extra["target_root_index"] = root_index[0]
    return label, weight, root, extra


def check_camera_param(camera_param, where, intrinsics=False):
    """Raises unless ``camera_param`` is a dict with the image size ``w``,
    ``h`` (and, with ``intrinsics``, ``f`` and ``c``), as MMPose reads it.

    ``where`` names the caller in the message (``"X.encode"``).
    """
    if not isinstance(camera_param, dict) or not {"w", "h"} <= set(
        camera_param
    ):
        keys = (
            sorted(camera_param)
            if isinstance(camera_param, dict)
            else camera_param
        )
        raise ValueError(
            f"{where} needs camera_param with the image size 'w' and 'h' "
            f"(as MMPose). Received: {keys!r}"
        )
    if intrinsics and not {"f", "c"} <= set(camera_param):
        raise ValueError(
            f"{where} with normalize_camera needs camera_param with the "
            f"intrinsics 'f' and 'c'. Received: {sorted(camera_param)!r}"
        )


def concat_visibility(labels, keypoints_visible):
    """Appends the visibility as the last keypoint channel."""
    visible = keypoints_visible
    if visible.ndim == 2:
        visible = visible[..., None]
    return np.concatenate([labels, visible], axis=2).astype(np.float32)


def decode_lifting(
    encoded,
    target_root,
    target_mean,
    target_std,
    root_index,
    remove_root,
    owner,
):
    """Batched decode in ``keras.ops`` (see the codecs' ``decode``)."""
    keypoints = ops.cast(ops.convert_to_tensor(encoded), "float32")
    if len(keypoints.shape) == 2:
        keypoints = keypoints[None]
    if len(keypoints.shape) not in (3, 4):
        raise ValueError(
            f"{owner}.decode expects encoded coordinates of shape (B, K, C) "
            f"or (B, T, K, C). Received shape {tuple(keypoints.shape)}"
        )
    if target_mean is not None:
        if tuple(keypoints.shape[-2:]) != target_mean.shape[-2:]:
            raise ValueError(
                f"{owner}.decode expects encoded coordinates of shape (B, "
                f"{target_mean.shape[1]}, {target_mean.shape[2]}) to match "
                f"target_mean. Received shape {tuple(keypoints.shape)}"
            )
        keypoints = keypoints * ops.convert_to_tensor(target_std[0])
        keypoints = keypoints + ops.convert_to_tensor(target_mean[0])
    if target_root is not None:
        root = ops.cast(ops.convert_to_tensor(target_root), "float32")
        if 0 in tuple(root.shape):
            root = None  # MMPose's empty target_root: nothing to add
    else:
        root = None
    if root is not None:
        rank = len(keypoints.shape)
        # (B, C) -> (B, 1, C); (B, T, C) -> (B, T, 1, C) for (B, T, K, C)
        while 1 <= len(root.shape) < rank:
            root = ops.expand_dims(root, -2)
        if (
            len(root.shape) != rank
            or root.shape[-1] != keypoints.shape[-1]
            or root.shape[-2] != 1
        ):
            raise ValueError(
                f"{owner}.decode expects target_root of shape (B, 1, C) or "
                f"(B, C) (or (B, T, C) for (B, T, K, C) outputs) with C = "
                f"{keypoints.shape[-1]}. Received shape "
                f"{tuple(ops.shape(target_root))}"
            )
        keypoints = keypoints + root
        if remove_root and len(root_index) == 1:
            r = root_index[0]
            # the root itself, broadcast over the leading axes
            inserted = root + ops.zeros_like(keypoints[..., :1, :])
            keypoints = ops.concatenate(
                [keypoints[..., :r, :], inserted, keypoints[..., r:, :]],
                axis=-2,
            )
    scores = ops.ones_like(keypoints[..., 0])
    return keypoints, scores

"""Graph-mode twins of the pose-lifting codecs' ``encode``.

Registered with :func:`register_graph_encoder` for
:class:`~keraspose.codecs.ImagePoseLifting` and
:class:`~keraspose.codecs.VideoPoseLifting`; :class:`GenerateTarget` passes
the codec's ``auxiliary_encode_keys`` found in the sample
(``lifting_target``, ``lifting_target_visible``, ``camera_param``) as
keyword arguments. The outputs have the NumPy ``encode``'s keys, shapes and
float32 values (``camera_param`` keeps the dtype of its ``f`` / ``c``
entries, as NumPy's promotion does).
"""

from keraspose.codecs.image_pose_lifting import ImagePoseLifting
from keraspose.codecs.utils.pose_lifting import check_camera_param
from keraspose.codecs.video_pose_lifting import VideoPoseLifting
from keraspose.datasets.transforms.graph_encoding import register_graph_encoder
from keraspose.utils.lazy_import import tf


def _inputs(keypoints, keypoints_visible, owner):
    keypoints = tf.cast(keypoints, tf.float32)
    if keypoints.shape.rank == 2:
        keypoints = keypoints[None]
    if keypoints.shape.rank != 3:
        raise ValueError(
            f"{owner} graph encoder expects keypoints of shape (T, K, D). "
            f"Received shape {keypoints.shape}"
        )
    if keypoints_visible is None:
        keypoints_visible = tf.ones(tf.shape(keypoints)[:2], tf.float32)
    keypoints_visible = tf.cast(keypoints_visible, tf.float32)
    return keypoints, keypoints_visible


def _target(codec, lifting_target, lifting_target_visible, owner):
    if lifting_target is None:
        raise ValueError(
            f"{owner} graph encoder needs `lifting_target` in the sample. "
            "Received: None"
        )
    target = tf.cast(lifting_target, tf.float32)
    rank = target.shape.rank
    k = target.shape[-2] if rank else None
    if rank not in (2, 3) or (k is not None and k <= max(codec.root_index)):
        raise ValueError(
            f"{owner} graph encoder expects lifting_target of shape "
            f"(T, K, C) or (K, C) with K > {max(codec.root_index)}. "
            f"Received shape {target.shape}"
        )
    if lifting_target_visible is None:
        weight = tf.ones(tf.shape(target)[:-1], tf.float32)
        trajectory_weights = _div(1.0, target[:, 2])  # MMPose's indexing
    else:
        visible = tf.cast(lifting_target_visible, tf.float32)
        weight = tf.where(visible > 0.5, 1.0, 0.0)
        trajectory_weights = weight
    return target, weight, trajectory_weights


def _div(a, b):
    """Float32 ``a / b`` rounded once, as NumPy's (TF's float32 division
    on CPU may differ by an ulp; float64 division then rounding to float32
    is exact for float32 operands)."""
    quotient = tf.cast(a, tf.float64) / tf.cast(b, tf.float64)
    return tf.cast(quotient, tf.float32)


def _root(target, root_index):
    """Float32 mean of the root joints over axis -2 (NumPy's order)."""
    joints = [target[..., i, :] for i in root_index]
    total = joints[0]
    for joint in joints[1:]:
        total = total + joint
    return _div(total, float(len(joints))) if len(joints) > 1 else total


def _delete(x, index, axis):
    """``np.delete(x, index, axis)`` for a static axis (-1 or -2)."""
    if axis == -1:
        return tf.concat([x[..., :index], x[..., index + 1 :]], axis=-1)
    return tf.concat([x[..., :index, :], x[..., index + 1 :, :]], axis=-2)


def _remove_root(label, weight, root, owner):
    if weight.shape.rank not in (2, 3):
        raise ValueError(
            f"{owner} with remove_root expects lifting target weights of "
            f"shape (T, K) or (T, K, 1). Received shape {weight.shape}"
        )
    axis = -2 if weight.shape.rank == 3 else -1
    return _delete(label, root, -2), _delete(weight, root, axis)


def _root_relative(codec, target, weight, owner):
    """Graph twin of ``pose_lifting.root_relative`` for ``codec``."""
    root = _root(target, codec.root_index)
    label = target - root[..., None, :]
    extra = {}
    if codec.remove_root and len(codec.root_index) == 1:
        label, weight = _remove_root(label, weight, codec.root_index[0], owner)
        extra["target_root_removed"] = tf.constant(True)
        if codec.save_index:
            extra["target_root_index"] = tf.constant(codec.root_index[0])
    return label, weight, root, extra


def _concat_visibility(labels, keypoints_visible):
    visible = keypoints_visible
    if visible.shape.rank == 2:
        visible = visible[..., None]
    return tf.concat([labels, visible], axis=2)


@register_graph_encoder(ImagePoseLifting)
def _encode_image_pose_lifting(
    codec,
    keypoints,
    keypoints_visible,
    lifting_target=None,
    lifting_target_visible=None,
    **additional,
):
    owner = "ImagePoseLifting"
    keypoints, keypoints_visible = _inputs(keypoints, keypoints_visible, owner)
    target, weight, trajectory_weights = _target(
        codec, lifting_target, lifting_target_visible, owner
    )
    label, weight, root, encoded = _root_relative(codec, target, weight, owner)
    labels = keypoints
    if codec.keypoints_mean is not None:
        mean = tf.constant(codec.keypoints_mean)
        std = tf.constant(codec.keypoints_std)
        labels = tf.ensure_shape(labels, [None] + list(mean.shape[1:]))
        encoded["keypoints_mean"] = mean
        encoded["keypoints_std"] = std
        labels = _div(labels - mean, std)
    if codec.target_mean is not None:
        mean = tf.constant(codec.target_mean)
        std = tf.constant(codec.target_std)
        label = tf.ensure_shape(label, mean.shape)
        encoded["target_mean"] = mean
        encoded["target_std"] = std
        label = _div(label - mean, std)
    if codec.concat_vis:
        labels = _concat_visibility(labels, keypoints_visible)
    encoded["keypoint_labels"] = labels
    encoded["keypoint_labels_visible"] = keypoints_visible
    encoded["lifting_target_label"] = label
    encoded["lifting_target_weight"] = weight
    encoded["trajectory_weights"] = trajectory_weights
    encoded["target_root"] = root
    return encoded


@register_graph_encoder(VideoPoseLifting)
def _encode_video_pose_lifting(
    codec,
    keypoints,
    keypoints_visible,
    lifting_target=None,
    lifting_target_visible=None,
    camera_param=None,
):
    owner = "VideoPoseLifting"
    keypoints, keypoints_visible = _inputs(keypoints, keypoints_visible, owner)
    target, weight, trajectory_weights = _target(
        codec, lifting_target, lifting_target_visible, owner
    )
    check_camera_param(camera_param, f"{owner} graph encoder")
    encoded = {}
    label = target
    if codec.zero_center:
        label, weight, root, extra = _root_relative(
            codec, target, weight, owner
        )
        encoded["target_root"] = root
        encoded.update(extra)
    w = tf.cast(camera_param["w"], tf.float64)
    h = tf.cast(camera_param["h"], tf.float64)
    center = tf.cast(tf.stack([0.5 * w, 0.5 * h]), tf.float32)
    scale = tf.cast(0.5 * w, tf.float32)
    labels = _div(keypoints - center, scale)
    if codec.normalize_camera:
        check_camera_param(
            camera_param, f"{owner} graph encoder", intrinsics=True
        )
        camera = dict(camera_param)
        f = tf.convert_to_tensor(camera_param["f"])
        c = tf.convert_to_tensor(camera_param["c"])
        dtype = tf.float64 if tf.float64 in (f.dtype, c.dtype) else tf.float32
        f, c = tf.cast(f, dtype), tf.cast(c, dtype)
        s = tf.cast(scale, dtype)
        camera["f"] = f / s
        camera["c"] = (c - tf.cast(center, dtype)[:, None]) / s
        encoded["camera_param"] = camera
    if codec.concat_vis:
        labels = _concat_visibility(labels, keypoints_visible)
    encoded["keypoint_labels"] = labels
    encoded["keypoints_visible"] = keypoints_visible
    encoded["lifting_target_label"] = label
    encoded["lifting_target_weight"] = weight
    encoded["trajectory_weights"] = trajectory_weights
    return encoded

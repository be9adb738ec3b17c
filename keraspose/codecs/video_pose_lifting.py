"""Sequence 2D-to-3D lifting targets (VideoPose3D)."""

import numpy as np

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.utils.pose_lifting import LIFTING_TARGET_KEYS
from keraspose.codecs.utils.pose_lifting import check_camera_param
from keraspose.codecs.utils.pose_lifting import check_num_keypoints
from keraspose.codecs.utils.pose_lifting import check_root_index
from keraspose.codecs.utils.pose_lifting import concat_visibility
from keraspose.codecs.utils.pose_lifting import decode_lifting
from keraspose.codecs.utils.pose_lifting import prepare_inputs
from keraspose.codecs.utils.pose_lifting import prepare_target
from keraspose.codecs.utils.pose_lifting import root_relative
from keraspose.registry import register


def camera_normalisation(camera_param, owner):
    """MMPose's image-size normalisation ``(center, scale)`` (float32)."""
    check_camera_param(camera_param, f"{owner}.encode")
    w = np.asarray(camera_param["w"], dtype=np.float64)
    h = np.asarray(camera_param["h"], dtype=np.float64)
    center = np.array([0.5 * w, 0.5 * h], dtype=np.float32)
    scale = np.array(0.5 * w, dtype=np.float32)
    return center, scale


@register
class VideoPoseLifting(BaseKeypointCodec):
    """Root-relative 3D targets and image-normalised 2D keypoint sequences.

    Reference: Pavllo et al., "3D human pose estimation in video with
    temporal convolutions and semi-supervised training", CVPR 2019.

    ``encode(keypoints, keypoints_visible, lifting_target,
    lifting_target_visible, camera_param)`` works on one sample on the host
    (NumPy), with MMPose's keys and numbers:

    * ``keypoint_labels`` (T, K, C): the T frames of 2D keypoints mapped to
      ``(p - (w / 2, h / 2)) / (w / 2)`` with the image size of
      ``camera_param`` (float32), with the visibility appended as channel
      C = 3 when ``concat_vis``. Model input ``x``.
    * ``keypoints_visible`` (T, K): the 2D visibility (as given).
    * ``lifting_target_label`` (T', K', 3): the target (T' = 1 target
      frame, or T with MMPose's ``multiple_target``), minus the root (mean
      of the ``root_index`` joints) when ``zero_center``, without the root
      joint when ``remove_root`` (K' = K - 1). Training target ``y``.
    * ``lifting_target_weight`` (T', K'): 1 where
      ``lifting_target_visible`` > 0.5, else 0. Training target ``y``.
    * ``trajectory_weights``: the weights before root removal (T', K).
      Training target ``y``.
    * ``target_root`` (T', 3) when ``zero_center``; ``target_root_removed``
      (True) and ``target_root_index`` (with ``save_index``) when the root
      is removed; ``camera_param`` (a copy with ``f / (w / 2)`` and
      ``(c - (w / 2, h / 2)) / (w / 2)``) when ``normalize_camera``.

    MMPose behaviour kept: ``camera_param`` with ``w`` and ``h`` is
    required; without ``lifting_target_visible`` all weights are 1 and
    ``trajectory_weights`` is ``1 / lifting_target[:, 2]`` (for a
    (T', K, 3) target: the reciprocal of joint 2's coordinates);
    ``remove_root`` only applies with ``zero_center`` and a single root
    index.

    Differences (layout and errors only): keraspose models are
    channels-last, so ``keypoint_labels`` is always (T, K, C). MMPose's
    ``reshape_keypoints=True`` (the default) flattens it to its
    channels-first model input (K * C, T), i.e.
    ``labels.transpose(1, 2, 0).reshape(-1, T)``; our models flatten
    (T, K, C) to (T, K * C) themselves, which is the same channel order, so
    ``reshape_keypoints`` is kept for config compatibility only. A missing
    ``lifting_target`` raises a ValueError (MMPose fails too); MMPose's
    ``remove_root`` also fails (IndexError) when ``root_index`` >= T',
    which works here. Keypoints are computed in float32.

    ``decode(encoded, target_root=None)`` is batched ``keras.ops``: when
    ``target_root`` ((B, 1, 3), (B, 3), or (B, T', 3) for (B, T', K', 3)
    outputs; empty = none) is given, it is added and, with ``remove_root``
    and a single root index, inserted back at ``root_index``. Returns
    ``(keypoints, scores)`` with scores 1, equal to MMPose's per-sample
    decode stacked.

    Args:
        num_keypoints: number of keypoints K of the dataset.
        zero_center: subtract the root from the target.
        root_index: index (or list of indices, averaged) of the root joint.
        remove_root: drop the root joint from the target.
        save_index: with ``remove_root``, return ``target_root_index``.
        reshape_keypoints: MMPose's channels-first flattening; see above.
        concat_vis: append the 2D visibility to the keypoint channels.
        normalize_camera: normalise the intrinsics ``f`` and ``c``.

    Example:

    >>> import numpy as np
    >>> codec = VideoPoseLifting(num_keypoints=2)
    >>> enc = codec.encode(
    ...     np.array([[[50., 20.], [100., 40.]]]), np.ones((1, 2)),
    ...     lifting_target=np.array([[[1., 1, 1], [2, 3, 4]]]),
    ...     lifting_target_visible=np.ones((1, 2)),
    ...     camera_param=dict(w=100, h=40))
    >>> enc["keypoint_labels"].tolist()
    [[[0.0, 0.0], [1.0, 0.4000000059604645]]]
    >>> enc["lifting_target_label"].tolist()
    [[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]]
    """

    label_keys = LIFTING_TARGET_KEYS
    target_keys = LIFTING_TARGET_KEYS
    auxiliary_encode_keys = (
        "lifting_target",
        "lifting_target_visible",
        "camera_param",
    )

    def __init__(
        self,
        num_keypoints,
        zero_center=True,
        root_index=0,
        remove_root=False,
        save_index=False,
        reshape_keypoints=True,
        concat_vis=False,
        normalize_camera=False,
    ):
        name = type(self).__name__
        self.num_keypoints = check_num_keypoints(num_keypoints, name)
        self.zero_center = bool(zero_center)
        self.root_index = check_root_index(root_index, self.num_keypoints, name)
        self.remove_root = bool(remove_root)
        self.save_index = bool(save_index)
        self.reshape_keypoints = bool(reshape_keypoints)
        self.concat_vis = bool(concat_vis)
        self.normalize_camera = bool(normalize_camera)

    def encode(
        self,
        keypoints,
        keypoints_visible=None,
        lifting_target=None,
        lifting_target_visible=None,
        camera_param=None,
    ):
        """Encodes one sample (host, NumPy).

        Args:
            keypoints: (T, K, D) 2D keypoints in image pixels.
            keypoints_visible: (T, K) visibility, or None for all visible.
            lifting_target: (T', K, 3) (or (K, 3)) 3D target.
            lifting_target_visible: (T', K) target visibility, or None.
            camera_param: dict with the image size ``w``, ``h`` (and the
                intrinsics ``f``, ``c`` for ``normalize_camera``).

        Returns:
            dict with MMPose's keys (see the class docstring).
        """
        name = type(self).__name__
        keypoints, keypoints_visible = prepare_inputs(
            keypoints, keypoints_visible, name
        )
        target, weight, trajectory_weights = prepare_target(
            lifting_target, lifting_target_visible, self.root_index, name
        )
        center, scale = camera_normalisation(
            {} if camera_param is None else camera_param, name
        )
        encoded = {}
        label = target.copy()
        if self.zero_center:
            label, weight, root, extra = root_relative(
                target,
                weight,
                self.root_index,
                self.remove_root,
                self.save_index,
                name,
            )
            encoded["target_root"] = root
            encoded.update(extra)

        labels = (keypoints - center) / scale
        if self.normalize_camera:
            check_camera_param(camera_param, f"{name}.encode", intrinsics=True)
            camera = dict(camera_param)
            camera["f"] = np.asarray(camera_param["f"]) / scale
            camera["c"] = (
                np.asarray(camera_param["c"]) - center[:, None]
            ) / scale
            encoded["camera_param"] = camera
        if self.concat_vis:
            labels = concat_visibility(labels, keypoints_visible)

        encoded["keypoint_labels"] = labels.astype(np.float32)
        encoded["keypoints_visible"] = keypoints_visible
        encoded["lifting_target_label"] = label
        encoded["lifting_target_weight"] = weight
        encoded["trajectory_weights"] = trajectory_weights
        return encoded

    def decode(self, encoded, target_root=None):
        """Decodes batched model outputs (``keras.ops``).

        Args:
            encoded: (B, K', 3) or (B, T', K', 3) outputs ((K', 3) for one
                sample).
            target_root: (B, 1, 3), (B, 3) or (B, T', 3) roots to add
                back, or None (or empty) for root-relative keypoints.

        Returns:
            ``(keypoints (B, K, 3), scores (B, K))`` (K = K' + 1 when the
            root is inserted back).
        """
        return decode_lifting(
            encoded,
            target_root,
            None,
            None,
            self.root_index,
            self.remove_root,
            type(self).__name__,
        )

    def get_config(self):
        return dict(
            num_keypoints=self.num_keypoints,
            zero_center=self.zero_center,
            root_index=list(self.root_index),
            remove_root=self.remove_root,
            save_index=self.save_index,
            reshape_keypoints=self.reshape_keypoints,
            concat_vis=self.concat_vis,
            normalize_camera=self.normalize_camera,
        )

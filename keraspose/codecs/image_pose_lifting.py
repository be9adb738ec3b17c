"""Single-frame 2D-to-3D lifting targets (SimpleBaseline3D)."""

import numpy as np

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.utils.pose_lifting import LIFTING_TARGET_KEYS
from keraspose.codecs.utils.pose_lifting import array_config
from keraspose.codecs.utils.pose_lifting import check_mean_std
from keraspose.codecs.utils.pose_lifting import check_num_keypoints
from keraspose.codecs.utils.pose_lifting import check_root_index
from keraspose.codecs.utils.pose_lifting import concat_visibility
from keraspose.codecs.utils.pose_lifting import decode_lifting
from keraspose.codecs.utils.pose_lifting import prepare_inputs
from keraspose.codecs.utils.pose_lifting import prepare_target
from keraspose.codecs.utils.pose_lifting import root_relative
from keraspose.registry import register


@register
class ImagePoseLifting(BaseKeypointCodec):
    """Root-relative, optionally standardised 3D targets from 2D keypoints.

    Reference: Martinez et al., "A simple yet effective baseline for 3d
    human pose estimation", ICCV 2017.

    ``encode(keypoints, keypoints_visible, lifting_target,
    lifting_target_visible)`` works on one sample on the host (NumPy), with
    MMPose's keys and numbers:

    * ``keypoint_labels`` (T, K, C): the 2D keypoints, standardised with
      ``keypoints_mean``/``keypoints_std`` when given, with the visibility
      appended as channel C = D + 1 when ``concat_vis``. Model input ``x``.
    * ``keypoint_labels_visible`` (T, K): the 2D visibility.
    * ``lifting_target_label`` (T, K', 3): the target minus the root (the
      mean of the ``root_index`` joints), without the root joint when
      ``remove_root`` (K' = K - 1), standardised with
      ``target_mean``/``target_std``. Training target ``y``.
    * ``lifting_target_weight`` (T, K'): 1 where ``lifting_target_visible``
      > 0.5, else 0. Training target ``y``.
    * ``trajectory_weights``: the weights before root removal (T, K).
      Training target ``y``.
    * ``target_root`` (T, 3); ``target_root_removed`` (True) and
      ``target_root_index`` (int, with ``save_index``) when the root is
      removed; ``keypoints_mean``/``keypoints_std`` (1, K, D) and
      ``target_mean``/``target_std`` (1, K', 3) when given.

    T is the number of frames (1 for the single-frame H36M samples; MMPose's
    datasets give ``lifting_target`` as (1, K, 3)). ``target_keys`` lists
    the training targets; the other outputs are inputs and metadata.

    MMPose behaviour kept: without ``lifting_target_visible`` all weights
    are 1 and ``trajectory_weights`` is ``1 / lifting_target[:, 2]`` (for a
    (T, K, 3) target: the reciprocal of joint 2's coordinates, (T, 3));
    ``remove_root`` with several root indices removes nothing;
    ``target_mean`` has K - 1 rows when ``remove_root``.

    Differences (layout and errors only): keraspose models are
    channels-last, so ``keypoint_labels`` is always (T, K, C).
    MMPose's ``reshape_keypoints=True`` (the default) flattens it to its
    channels-first model input (K * C, T), i.e.
    ``labels.transpose(1, 2, 0).reshape(-1, T)``; our models flatten
    (T, K, C) to (T, K * C) themselves, which is the same channel order, so
    ``reshape_keypoints`` is kept for config compatibility only. MMPose
    assumes a single-frame target (its root broadcast fails or mixes axes
    for T > 1); here each frame uses its own root. A missing
    ``lifting_target`` raises a ValueError (MMPose fails too); MMPose's
    ``remove_root`` also fails (IndexError) when ``root_index`` >= T, which
    works here. ``additional_encode_keys`` are added to this instance's
    ``auxiliary_encode_keys`` (MMPose adds them to the class-level set) and
    are accepted and ignored by ``encode``.

    ``decode(encoded, target_root=None)`` is batched ``keras.ops``: outputs
    (B, K', 3) (or (B, T, K', 3)) are de-standardised with
    ``target_mean``/``target_std``, then, when ``target_root`` ((B, 1, 3)
    or (B, 3); empty = none) is given, the root is added and, with
    ``remove_root`` and a single root index, inserted back at
    ``root_index``. Returns ``(keypoints, scores)`` with scores 1, equal to
    MMPose's per-sample decode stacked.

    Args:
        num_keypoints: number of keypoints K of the dataset.
        root_index: index (or list of indices, averaged) of the root joint.
        remove_root: drop the root joint from the target.
        save_index: with ``remove_root``, return ``target_root_index``.
        reshape_keypoints: MMPose's channels-first flattening; see above.
        concat_vis: append the 2D visibility to the keypoint channels.
        keypoints_mean: (K, D) mean of the 2D keypoints, or None.
        keypoints_std: (K, D) std of the 2D keypoints (with the mean).
        target_mean: (K', 3) mean of the root-relative targets, or None.
        target_std: (K', 3) std of the targets (with the mean).
        additional_encode_keys: extra sample keys passed to ``encode``.

    Example:

    >>> import numpy as np
    >>> codec = ImagePoseLifting(num_keypoints=3, root_index=0,
    ...     remove_root=True)
    >>> enc = codec.encode(
    ...     np.zeros((1, 3, 2)), np.ones((1, 3)),
    ...     lifting_target=np.array([[[1., 1, 1], [2, 2, 2], [4, 4, 4]]]),
    ...     lifting_target_visible=np.ones((1, 3)))
    >>> enc["lifting_target_label"].tolist()
    [[[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]]]
    >>> kpts, scores = codec.decode(enc["lifting_target_label"],
    ...     target_root=enc["target_root"][None])
    >>> np.asarray(kpts).tolist()
    [[[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [4.0, 4.0, 4.0]]]
    """

    label_keys = LIFTING_TARGET_KEYS
    target_keys = LIFTING_TARGET_KEYS

    def __init__(
        self,
        num_keypoints,
        root_index=0,
        remove_root=False,
        save_index=False,
        reshape_keypoints=True,
        concat_vis=False,
        keypoints_mean=None,
        keypoints_std=None,
        target_mean=None,
        target_std=None,
        additional_encode_keys=None,
    ):
        name = type(self).__name__
        self.num_keypoints = check_num_keypoints(num_keypoints, name)
        self.root_index = check_root_index(root_index, self.num_keypoints, name)
        self.remove_root = bool(remove_root)
        self.save_index = bool(save_index)
        self.reshape_keypoints = bool(reshape_keypoints)
        self.concat_vis = bool(concat_vis)
        self.keypoints_mean, self.keypoints_std = check_mean_std(
            keypoints_mean,
            keypoints_std,
            self.num_keypoints,
            ("keypoints_mean", "keypoints_std"),
            name,
        )
        target_rows = self.num_keypoints - (1 if self.remove_root else 0)
        self.target_mean, self.target_std = check_mean_std(
            target_mean,
            target_std,
            target_rows,
            ("target_mean", "target_std"),
            name,
        )
        if additional_encode_keys is not None and not isinstance(
            additional_encode_keys, list | tuple
        ):
            raise TypeError(
                f"{name} expects `additional_encode_keys` as a list of "
                f"str. Received: {additional_encode_keys!r}"
            )
        self.additional_encode_keys = (
            None
            if additional_encode_keys is None
            else [str(k) for k in additional_encode_keys]
        )
        extra = tuple(
            k
            for k in (self.additional_encode_keys or ())
            if k not in ("lifting_target", "lifting_target_visible")
        )
        self.auxiliary_encode_keys = (
            "lifting_target",
            "lifting_target_visible",
        ) + extra

    def encode(
        self,
        keypoints,
        keypoints_visible=None,
        lifting_target=None,
        lifting_target_visible=None,
        **additional,
    ):
        """Encodes one sample (host, NumPy).

        Args:
            keypoints: (T, K, D) 2D keypoints ((K, D) for one frame).
            keypoints_visible: (T, K) visibility, or None for all visible.
            lifting_target: (T, K, 3) (MMPose: (1, K, 3)) or (K, 3) 3D
                target.
            lifting_target_visible: (T, K) (or (K,)) target visibility, or
                None.
            **additional: values of ``additional_encode_keys`` (ignored).

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
        label, weight, root, encoded = root_relative(
            target,
            weight,
            self.root_index,
            self.remove_root,
            self.save_index,
            name,
        )

        labels = keypoints
        if self.keypoints_mean is not None:
            if self.keypoints_mean.shape[1:] != keypoints.shape[1:]:
                raise ValueError(
                    f"{name}.encode expects keypoints of shape (T, "
                    f"{self.keypoints_mean.shape[1]}, "
                    f"{self.keypoints_mean.shape[2]}) to match "
                    f"keypoints_mean. Received shape {keypoints.shape}"
                )
            encoded["keypoints_mean"] = self.keypoints_mean.copy()
            encoded["keypoints_std"] = self.keypoints_std.copy()
            labels = (labels - self.keypoints_mean) / self.keypoints_std
        if self.target_mean is not None:
            if self.target_mean.shape != label.shape:
                raise ValueError(
                    f"{name}.encode expects a root-relative target of shape "
                    f"{self.target_mean.shape} (target_mean's). Received "
                    f"shape {label.shape}"
                )
            encoded["target_mean"] = self.target_mean.copy()
            encoded["target_std"] = self.target_std.copy()
            label = (label - self.target_mean) / self.target_std
        if self.concat_vis:
            labels = concat_visibility(labels, keypoints_visible)

        encoded["keypoint_labels"] = labels.astype(np.float32)
        encoded["keypoint_labels_visible"] = keypoints_visible
        encoded["lifting_target_label"] = label.astype(np.float32)
        encoded["lifting_target_weight"] = weight
        encoded["trajectory_weights"] = trajectory_weights
        encoded["target_root"] = root
        return encoded

    def decode(self, encoded, target_root=None):
        """Decodes batched model outputs (``keras.ops``).

        Args:
            encoded: (B, K', 3) or (B, T, K', 3) outputs ((K', 3) for one
                sample).
            target_root: (B, 1, 3) or (B, 3) roots to add back, or None
                (or empty) for root-relative keypoints.

        Returns:
            ``(keypoints (B, K, 3), scores (B, K))`` (K = K' + 1 when the
            root is inserted back).
        """
        return decode_lifting(
            encoded,
            target_root,
            self.target_mean,
            self.target_std,
            self.root_index,
            self.remove_root,
            type(self).__name__,
        )

    def get_config(self):
        return dict(
            num_keypoints=self.num_keypoints,
            root_index=list(self.root_index),
            remove_root=self.remove_root,
            save_index=self.save_index,
            reshape_keypoints=self.reshape_keypoints,
            concat_vis=self.concat_vis,
            keypoints_mean=array_config(self.keypoints_mean),
            keypoints_std=array_config(self.keypoints_std),
            target_mean=array_config(self.target_mean),
            target_std=array_config(self.target_std),
            additional_encode_keys=self.additional_encode_keys,
        )

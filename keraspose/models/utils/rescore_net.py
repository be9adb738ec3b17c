"""DEKR's rescoring MLP: an OKS estimate from a predicted pose."""

import keras
from keras import ops

from keraspose.registry import register
from keraspose.registry import warn_unloadable_init_cfg


@register
class RescoreNet(keras.layers.Layer):
    """Predicts the OKS of a pose from its geometry and keypoint scores.

    DEKR's pose rescoring net (Geng et al., "Bottom-Up Human Pose
    Estimation Via Disentangled Keypoint Regression", CVPR 2021), as
    MMPose's ``RescoreNet``: the feature of a pose is, for each skeleton
    link ``(a, b)``, ``kpt[a] - kpt[b]`` and its length, both divided by
    the mean length of the links ``norm_indexes`` (the torso, clamped to at
    least 1), followed by the K keypoint scores; three linear layers
    (``l1``, ``l2`` with 256 units and ReLU, ``l3`` with one unit) map it
    to the score. ``in_channels`` must equal ``3 * len(skeleton) + K``
    (74 for COCO: 19 links, 17 keypoints).

    Args:
        in_channels: feature size.
        norm_indexes: the two skeleton-link indices whose mean length
            normalises the feature.
        init_cfg: MMPose's (a ``Pretrained`` checkpoint of the authors'
            net); load it with ``keraspose.converters.load_state_dict``.
        **kwargs: base layer arguments.

    Call arguments:
        keypoints: (..., K, 2) keypoints (or a pair ``(keypoints,
            keypoint_scores)``).
        keypoint_scores: (..., K) keypoint scores.
        skeleton: keyword argument, the skeleton links: a list of
            ``(a, b)`` index pairs (the dataset metainfo's
            ``skeleton_links``).

    Returns:
        (...,) scores.

    Example:

    >>> import numpy as np
    >>> net = RescoreNet(in_channels=3 * 2 + 3, norm_indexes=(0, 1))
    >>> kpts = np.zeros((1, 4, 3, 2), "float32")
    >>> scores = np.ones((1, 4, 3), "float32")
    >>> net(kpts, scores, skeleton=[[0, 1], [1, 2]]).shape
    (1, 4)
    """

    def __init__(self, in_channels, norm_indexes, init_cfg=None, **kwargs):
        super().__init__(**kwargs)
        warn_unloadable_init_cfg(init_cfg, "RescoreNet")
        self.in_channels = int(in_channels)
        norm_indexes = tuple(int(i) for i in norm_indexes)
        if len(norm_indexes) != 2:
            raise ValueError(
                "Expected two norm_indexes (skeleton links). Received: "
                f"norm_indexes={norm_indexes}"
            )
        self.norm_indexes = norm_indexes
        dt = self.dtype_policy
        self.l1 = keras.layers.Dense(256, name="l1", dtype=dt)
        self.l2 = keras.layers.Dense(256, name="l2", dtype=dt)
        self.l3 = keras.layers.Dense(1, name="l3", dtype=dt)

    def build(self, keypoints_shape, keypoint_scores_shape=None):
        self.l1.build((None, self.in_channels))
        self.l2.build((None, 256))
        self.l3.build((None, 256))

    def make_feature(self, keypoints, keypoint_scores, skeleton):
        """The (..., in_channels) float32 feature of each pose."""
        skeleton = [tuple(int(j) for j in link) for link in skeleton]
        k = keypoints.shape[-2]
        size = 3 * len(skeleton) + k
        if size != self.in_channels:
            raise ValueError(
                f"RescoreNet expects {self.in_channels} features; "
                f"{len(skeleton)} skeleton links and {k} keypoints give "
                f"{size} (3 per link + 1 per keypoint). Check rescore_cfg "
                "against the dataset's skeleton_links."
            )
        for i in self.norm_indexes:
            if not 0 <= i < len(skeleton):
                raise ValueError(
                    f"norm_indexes {self.norm_indexes} must index the "
                    f"{len(skeleton)} skeleton links."
                )
        kpts = ops.cast(keypoints, "float32")[..., :2]
        first, second = zip(*skeleton)
        relate = ops.take(kpts, list(first), axis=-2) - ops.take(
            kpts, list(second), axis=-2
        )  # (..., L, 2)
        length = ops.sqrt(ops.sum(ops.square(relate), axis=-1))  # (..., L)
        a, b = self.norm_indexes
        norm = ops.maximum((length[..., a] + length[..., b]) / 2.0, 1.0)
        norm = norm[..., None]
        length = length / norm
        relate = relate / norm[..., None]
        shape = ops.shape(relate)
        relate = ops.reshape(relate, (*shape[:-2], 2 * len(skeleton)))
        scores = ops.cast(keypoint_scores, "float32")
        return ops.concatenate([relate, length, scores], axis=-1)

    def call(self, keypoints, keypoint_scores=None, skeleton=None):
        if keypoint_scores is None:
            keypoints, keypoint_scores = keypoints
        if skeleton is None:
            raise ValueError(
                "RescoreNet needs `skeleton` (the dataset's skeleton_links)."
            )
        x = self.make_feature(keypoints, keypoint_scores, skeleton)
        x = ops.relu(self.l1(x))
        x = ops.relu(self.l2(x))
        return ops.squeeze(self.l3(x), axis=-1)

    def compute_output_shape(self, keypoints_shape, *args, **kwargs):
        if isinstance(keypoints_shape[0], list | tuple):
            keypoints_shape = keypoints_shape[0]
        return tuple(keypoints_shape[:-2])

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels, norm_indexes=self.norm_indexes
        )
        return config

"""Base class of keypoint codecs."""

import numpy as np

from keraspose.utils.config_mixin import ConfigMixin


class BaseKeypointCodec(ConfigMixin):
    """Encodes keypoints into training targets and decodes model outputs.

    The contract follows MMPose:

    * ``encode(keypoints, keypoints_visible)`` takes one sample's instances,
      ``keypoints`` (N, K, 2) in model-input pixels and ``keypoints_visible``
      (N, K), and returns a dict of targets with MMPose's keys (for heatmap
      codecs: ``heatmaps`` (H, W, K), channels-last, and ``keypoint_weights``
      (N, K)). It runs on the host (NumPy) for one sample.
    * ``batch_encode(keypoints, keypoints_visible)`` encodes a top-down batch
      (B, K, 2) into the batched fit targets (``heatmaps`` (B, H, W, K),
      ``keypoint_weights`` (B, K)).
    * ``decode(encoded)`` takes batched model outputs and returns
      ``(keypoints, scores)`` of shapes (B, K, 2) and (B, K) in model-input
      pixels. It is written in ``keras.ops`` so that it runs on the device
      inside a compiled predict step.

    Codecs are plain Python objects; ``get_config()`` plus ``type`` rebuilds
    them through :func:`keraspose.build`.
    """

    #: Keys of ``encode`` outputs that are per-instance labels.
    label_keys = ("keypoint_weights",)
    #: Keys of ``encode`` outputs that are dense (per-pixel) fields.
    field_keys = ()
    #: Extra sample entries ``encode`` takes as keyword arguments (MMPose's
    #: ``auxiliary_encode_keys``, e.g. ``lifting_target`` for lifting
    #: codecs); :class:`GenerateTarget` passes those present in the sample.
    auxiliary_encode_keys = ()
    #: ``encode`` outputs that become training targets ``y`` when packed
    #: (None: all of them). Lifting codecs also encode model inputs.
    target_keys = None

    def encode(self, keypoints, keypoints_visible=None):
        raise NotImplementedError

    def decode(self, encoded):
        raise NotImplementedError

    def batch_encode(self, keypoints, keypoints_visible=None):
        """Encodes a batch of single-instance (top-down) samples.

        Args:
            keypoints: (B, K, 2) keypoints in model-input pixels.
            keypoints_visible: (B, K) visibility, or None for all visible.

        Returns:
            dict of batched targets (fields stacked, labels ``(B, K)``).
        """
        keypoints = np.asarray(keypoints, dtype=np.float32)
        if keypoints.ndim != 3:
            raise ValueError(
                "Expected keypoints of shape (B, K, 2). Received shape "
                f"{keypoints.shape}"
            )
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], np.float32)
        keypoints_visible = np.asarray(keypoints_visible, np.float32)
        outs = [
            self.encode(k[None], v[None])
            for k, v in zip(keypoints, keypoints_visible)
        ]
        batched = {}
        for key in outs[0]:
            values = [o[key] for o in outs]
            if key in self.label_keys:
                batched[key] = np.concatenate(values, axis=0)
            else:
                batched[key] = np.stack(values, axis=0)
        return batched

    def __eq__(self, other):
        return type(self) is type(other) and (
            self.get_config() == other.get_config()
        )

    def __hash__(self):
        return hash(type(self).__name__)


def check_keypoints(keypoints, keypoints_visible, codec_name):
    """Validates and normalises ``encode`` inputs.

    Non-finite coordinates are marked invisible (weight 0) so that targets
    never contain NaN, as MMPose's integer cast effectively does.

    Returns:
        ``(keypoints, keypoints_visible)`` as float32 arrays with NaN
        coordinates replaced by -1e6 and their visibility set to 0.
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.ndim != 3 or keypoints.shape[-1] < 2:
        raise ValueError(
            f"{codec_name}.encode expects keypoints of shape (N, K, 2). "
            f"Received shape {keypoints.shape}"
        )
    keypoints = keypoints[..., :2]
    if keypoints_visible is None:
        keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
    keypoints_visible = np.asarray(keypoints_visible, dtype=np.float32)
    if keypoints_visible.ndim == 3:
        keypoints_visible = keypoints_visible[..., 0]
    if keypoints_visible.shape != keypoints.shape[:2]:
        raise ValueError(
            f"{codec_name}.encode expects keypoints_visible of shape "
            f"{keypoints.shape[:2]} to match keypoints {keypoints.shape}. "
            f"Received shape {keypoints_visible.shape}"
        )
    finite = np.isfinite(keypoints).all(-1)
    if not finite.all():
        keypoints = np.where(finite[..., None], keypoints, -1e6).astype(
            np.float32
        )
        keypoints_visible = np.where(finite, keypoints_visible, 0.0).astype(
            np.float32
        )
    keypoints_visible = np.nan_to_num(keypoints_visible, nan=0.0)
    return keypoints, keypoints_visible

"""Base class of keraspose heads."""

import keras

from keraspose.models.utils.symbolic_build import build_by_symbolic_call
from keraspose.registry import build


class BaseHead(keras.layers.Layer):
    """A head turns backbone/neck features into outputs, losses, keypoints.

    The contract every head follows (and that ``VisPredictHead`` relies on):

    * ``call(feats, training=None)``: raw outputs (a tensor, or a tuple for
      hybrid heads) from the tuple of feature maps.
    * ``loss_by_outputs(outputs, targets, train_cfg=None)``: dict of named
      losses (keys starting with ``loss``) and accuracies (``acc_*``) from
      raw outputs and the batched codec targets.
    * ``loss(feats, targets, train_cfg=None)``: MMPose's entry point,
      ``loss_by_outputs(self(feats, training=True), targets)``.
    * ``log_names(train_cfg=None)``: the keys ``loss_by_outputs`` returns.
    * ``predict(feats, test_cfg=None, flip_indices=None)``: dict with
      ``keypoints`` (B, K, 2) in model-input pixels and ``keypoint_scores``
      (B, K), decoded on the device through ``self.decoder``. With
      ``test_cfg["flip_test"]``, ``feats`` is ``[feats, feats_flipped]``.

    Args:
        decoder: codec config or object used by ``predict``.
        **kwargs: base layer arguments.
    """

    def __init__(self, decoder=None, **kwargs):
        super().__init__(**kwargs)
        self.decoder = build(decoder)

    def build(self, input_shape):
        build_by_symbolic_call(self, input_shape)

    def loss(self, feats, targets, train_cfg=None):
        """Named losses and accuracies of ``feats`` against ``targets``."""
        return self.loss_by_outputs(
            self(feats, training=True), targets, train_cfg=train_cfg
        )

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        raise NotImplementedError

    def log_names(self, train_cfg=None):
        raise NotImplementedError

    def predict(self, feats, test_cfg=None, flip_indices=None):
        raise NotImplementedError

    def decode(self, outputs):
        """Decodes raw outputs into ``keypoints`` and ``keypoint_scores``."""
        if self.decoder is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} has no decoder: pass "
                "`decoder=dict(type=...)` (a codec config) to decode "
                "predictions."
            )
        keypoints, scores = self.decoder.decode(outputs)
        return {"keypoints": keypoints, "keypoint_scores": scores}

    @staticmethod
    def _require(targets, key, owner):
        if not isinstance(targets, dict) or key not in targets:
            got = (
                sorted(targets) if isinstance(targets, dict) else type(targets)
            )
            raise ValueError(
                f"{owner} needs the target {key!r} (the codec's encode "
                f"output). Received targets: {got}"
            )
        return targets[key]

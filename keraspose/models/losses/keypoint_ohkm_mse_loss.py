"""MSE with online hard keypoint mining (MMPose's ``KeypointOHKMMSELoss``)."""

import numpy as np
from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import register


def keypoint_weights_mask(target_weights, owner):
    """(B, K) keypoint weights as a (B, 1, 1, K) channels-last mask."""
    if target_weights is None:
        raise ValueError(
            f"{owner}(use_target_weight=True) needs target_weights of shape "
            "(B, K). Received: None"
        )
    w = ops.cast(target_weights, "float32")
    if len(w.shape) != 2:
        raise ValueError(
            f"{owner} expects target_weights of shape (B, K). Received "
            f"shape {tuple(w.shape)}"
        )
    return ops.reshape(w, (ops.shape(w)[0], 1, 1, ops.shape(w)[1]))


@register
class KeypointOHKMMSELoss(BaseLoss):
    """Heatmap MSE averaged over each sample's ``topk`` hardest keypoints.

    Reference: Chen et al., "Cascaded Pyramid Network for Multi-Person Pose
    Estimation" (CPN), CVPR 2018.

    As MMPose: each keypoint's loss is the squared error averaged over its
    heatmap (with ``use_target_weight``, output and target are both
    multiplied by the keypoint weight first, so the error scales with the
    weight squared); per sample the ``topk`` largest are summed and divided
    by ``topk``; the result is averaged over the batch. Without
    ``use_target_weight`` the weights are ignored.

    Args:
        use_target_weight: weight each keypoint's heatmap.
        topk: number of hardest keypoints kept per sample (a positive int,
            at most the number of keypoints; checked on the first call).
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = KeypointOHKMMSELoss(topk=2)
    >>> out = np.zeros((1, 2, 2, 3), "float32")
    >>> tgt = np.ones((1, 2, 2, 3), "float32") * np.array([1.0, 2.0, 3.0])
    >>> float(loss(out, tgt, None))
    6.5
    """

    def __init__(self, use_target_weight=False, topk=8, loss_weight=1.0):
        if (
            isinstance(topk, bool)
            or not isinstance(topk, int | np.integer)
            or topk <= 0
        ):
            raise ValueError(
                f"Expected topk as a positive integer. Received: topk={topk!r}"
            )
        self.use_target_weight = bool(use_target_weight)
        self.topk = int(topk)
        self.loss_weight = float(loss_weight)

    def __call__(self, output, target, target_weights=None):
        """Computes the loss.

        Args:
            output: predicted heatmaps (B, H, W, K).
            target: target heatmaps (B, H, W, K).
            target_weights: (B, K) keypoint weights (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        num_keypoints = output.shape[-1]
        if num_keypoints is not None and num_keypoints < self.topk:
            raise ValueError(
                f"KeypointOHKMMSELoss: topk ({self.topk}) should not be "
                f"larger than the number of keypoints ({num_keypoints}, the "
                "heatmaps' last axis)."
            )
        if self.use_target_weight:
            w = keypoint_weights_mask(target_weights, "KeypointOHKMMSELoss")
            output = output * w
            target = target * w
        losses = ops.mean(ops.square(output - target), axis=(1, 2))  # (B, K)
        hardest, _ = ops.top_k(losses, self.topk, sorted=False)
        per_sample = ops.sum(hardest, axis=-1) / self.topk
        return ops.mean(per_sample) * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            topk=self.topk,
            loss_weight=self.loss_weight,
        )

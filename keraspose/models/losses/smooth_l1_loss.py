"""Smooth L1 loss on coordinates (MMPose's ``SmoothL1Loss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import register


def expand_weight(weight, ndim):
    """Appends unit axes to ``weight`` until it has ``ndim`` axes (MMPose's
    repeated ``unsqueeze(-1)``)."""
    weight = ops.cast(weight, "float32")
    for _ in range(ndim - len(weight.shape)):
        weight = ops.expand_dims(weight, -1)
    return weight


def require_weight(target_weight, owner):
    if target_weight is None:
        raise ValueError(
            f"{owner}(use_target_weight=True) needs target_weight. "
            "Received: None"
        )
    return target_weight


@register
class SmoothL1Loss(BaseLoss):
    """Smooth L1 (Huber, beta 1) loss, averaged over every element.

    Follows MMPose: with ``use_target_weight`` both the output and the
    target are multiplied by the weights (given unit trailing axes up to
    the output's rank, so (B, K) weights apply to (B, K, 2) coordinates)
    before PyTorch's ``smooth_l1_loss`` with mean reduction; masked entries
    therefore count as zero error in the mean.

    Args:
        use_target_weight: weight the keypoints by ``target_weight``.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = SmoothL1Loss()
    >>> float(loss(np.array([[[0.0, 3.0]]]), np.zeros((1, 1, 2))))
    1.25
    """

    def __init__(self, use_target_weight=False, loss_weight=1.0):
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)

    def __call__(self, output, target, target_weight=None):
        """Computes the loss.

        Args:
            output: predicted coordinates (B, K, D).
            target: target coordinates (B, K, D).
            target_weight: (B, K) or (B, K, 1) weights
                (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        if self.use_target_weight:
            w = require_weight(target_weight, "SmoothL1Loss")
            w = expand_weight(w, len(output.shape))
            output, target = output * w, target * w
        diff = ops.abs(output - target)
        loss = ops.where(diff < 1.0, 0.5 * ops.square(diff), diff - 0.5)
        return ops.mean(loss) * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

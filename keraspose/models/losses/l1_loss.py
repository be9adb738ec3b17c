"""L1 loss on coordinates (MMPose's ``L1Loss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.smooth_l1_loss import expand_weight
from keraspose.models.losses.smooth_l1_loss import require_weight
from keraspose.registry import register


@register
class L1Loss(BaseLoss):
    """Absolute error with a "mean", "sum" or "none" reduction.

    Follows MMPose: with ``use_target_weight`` the output and the target
    are multiplied by the weights (unit trailing axes appended up to the
    *target's* rank) before PyTorch's ``l1_loss``.

    Args:
        reduction: "mean", "sum" or "none".
        use_target_weight: weight the keypoints by ``target_weight``.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = L1Loss(reduction="sum")
    >>> float(loss(np.array([[[1.0, -2.0]]]), np.zeros((1, 1, 2))))
    3.0
    """

    def __init__(
        self, reduction="mean", use_target_weight=False, loss_weight=1.0
    ):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                "Expected reduction in ('mean', 'sum', 'none'). "
                f"Received: reduction={reduction!r}"
            )
        self.reduction = reduction
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
            The reduced float32 loss (element-wise for "none").
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        if self.use_target_weight:
            w = require_weight(target_weight, "L1Loss")
            w = expand_weight(w, len(target.shape))
            output, target = output * w, target * w
        loss = ops.abs(output - target)
        if self.reduction == "mean":
            loss = ops.mean(loss)
        elif self.reduction == "sum":
            loss = ops.sum(loss)
        return loss * self.loss_weight

    def get_config(self):
        return dict(
            reduction=self.reduction,
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

"""Mean squared error on coordinates (MMPose's ``MSELoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.smooth_l1_loss import require_weight
from keraspose.registry import register


@register
class MSELoss(BaseLoss):
    """Squared error averaged over every element.

    Follows MMPose: with ``use_target_weight`` the output and the target
    are multiplied by ``target_weight`` as given, *without* adding unit
    axes (MMPose's quirk, unlike :class:`SmoothL1Loss`), so pass weights of
    shape (B, K, 1) for (B, K, D) coordinates; the product broadcasts like
    NumPy.

    Args:
        use_target_weight: weight the keypoints by ``target_weight``.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = MSELoss()
    >>> float(loss(np.array([[[1.0, 3.0]]]), np.zeros((1, 1, 2))))
    5.0
    """

    def __init__(self, use_target_weight=False, loss_weight=1.0):
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)

    def __call__(self, output, target, target_weight=None):
        """Computes the loss.

        Args:
            output: predicted coordinates (B, K, D).
            target: target coordinates (B, K, D).
            target_weight: weights broadcastable to the coordinates,
                typically (B, K, 1) (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        if self.use_target_weight:
            w = ops.cast(require_weight(target_weight, "MSELoss"), "float32")
            output, target = output * w, target * w
        return ops.mean(ops.square(output - target)) * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

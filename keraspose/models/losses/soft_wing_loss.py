"""Soft wing loss for landmark regression (MMPose's ``SoftWingLoss``)."""

import math

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.smooth_l1_loss import require_weight
from keraspose.models.losses.wing_loss import check_coordinates
from keraspose.registry import register


@register
class SoftWingLoss(BaseLoss):
    """Linear for small errors, logarithmic for large ones.

    Reference: Lin et al., "Structure-Coherent Deep Feature Learning for
    Robust Face Alignment", IEEE TIP 2021.

    ``|d|`` when ``|d| < omega1``, else ``omega2 * log(1 + |d| / epsilon) +
    B`` with ``B = omega1 - omega2 * log(1 + omega1 / epsilon)``; summed over
    keypoints and coordinates, averaged over the batch (MMPose's
    reduction). With ``use_target_weight`` the output and the target are
    multiplied by ``target_weight`` as given (no unit axes added, as in
    MMPose: pass (B, K, 1) weights).

    Args:
        omega1: end of the linear part.
        omega2: scale of the logarithmic part.
        epsilon: curvature of the logarithmic part.
        use_target_weight: weight the keypoints by ``target_weight``.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = SoftWingLoss()
    >>> float(loss(np.array([[[1.5, 0.0]]]), np.zeros((1, 1, 2))))
    1.5
    """

    def __init__(
        self,
        omega1=2.0,
        omega2=20.0,
        epsilon=0.5,
        use_target_weight=False,
        loss_weight=1.0,
    ):
        if not epsilon > 0:
            raise ValueError(
                f"Expected epsilon > 0. Received: epsilon={epsilon!r}"
            )
        self.omega1 = float(omega1)
        self.omega2 = float(omega2)
        self.epsilon = float(epsilon)
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)
        self.B = self.omega1 - self.omega2 * math.log(
            1.0 + self.omega1 / self.epsilon
        )

    def criterion(self, pred, target):
        delta = ops.abs(target - pred)
        losses = ops.where(
            delta < self.omega1,
            delta,
            self.omega2 * ops.log(1.0 + delta / self.epsilon) + self.B,
        )
        return ops.mean(ops.sum(losses, axis=(1, 2)), axis=0)

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
        check_coordinates(output, "SoftWingLoss")
        if self.use_target_weight:
            w = require_weight(target_weight, "SoftWingLoss")
            w = ops.cast(w, "float32")
            output, target = output * w, target * w
        return self.criterion(output, target) * self.loss_weight

    def get_config(self):
        return dict(
            omega1=self.omega1,
            omega2=self.omega2,
            epsilon=self.epsilon,
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

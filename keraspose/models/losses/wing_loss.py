"""Wing loss for landmark regression (MMPose's ``WingLoss``)."""

import math

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.smooth_l1_loss import require_weight
from keraspose.registry import register


def check_coordinates(output, owner):
    if len(output.shape) != 3:
        raise ValueError(
            f"{owner} expects coordinates of shape (B, K, D). Received shape "
            f"{tuple(output.shape)}"
        )


@register
class WingLoss(BaseLoss):
    """Logarithmic for small errors, linear for large ones.

    Reference: Feng et al., "Wing Loss for Robust Facial Landmark
    Localisation with Convolutional Neural Networks", CVPR 2018.

    ``omega * log(1 + |d| / epsilon)`` when ``|d| < omega``, else
    ``|d| - C`` with ``C = omega * (1 - log(1 + omega / epsilon))``; summed
    over keypoints and coordinates, averaged over the batch (MMPose's
    reduction). With ``use_target_weight`` the output and the target are
    multiplied by ``target_weight`` as given (no unit axes added, as in
    MMPose: pass (B, K, 1) weights).

    Args:
        omega: width of the non-linear part.
        epsilon: curvature of the non-linear part.
        use_target_weight: weight the keypoints by ``target_weight``.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = WingLoss(omega=10.0, epsilon=2.0)
    >>> round(float(loss(np.array([[[2.0, 0.0]]]), np.zeros((1, 1, 2)))), 4)
    6.9315
    """

    def __init__(
        self, omega=10.0, epsilon=2.0, use_target_weight=False, loss_weight=1.0
    ):
        if not epsilon > 0:
            raise ValueError(
                f"Expected epsilon > 0. Received: epsilon={epsilon!r}"
            )
        self.omega = float(omega)
        self.epsilon = float(epsilon)
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)
        self.C = self.omega * (1.0 - math.log(1.0 + self.omega / self.epsilon))

    def criterion(self, pred, target):
        delta = ops.abs(target - pred)
        losses = ops.where(
            delta < self.omega,
            self.omega * ops.log(1.0 + delta / self.epsilon),
            delta - self.C,
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
        check_coordinates(output, type(self).__name__)
        if self.use_target_weight:
            w = require_weight(target_weight, type(self).__name__)
            w = ops.cast(w, "float32")
            output, target = output * w, target * w
        return self.criterion(output, target) * self.loss_weight

    def get_config(self):
        return dict(
            omega=self.omega,
            epsilon=self.epsilon,
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

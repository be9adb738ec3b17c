"""Adaptive wing loss for heatmaps (MMPose's ``AdaptiveWingLoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import register


@register
class AdaptiveWingLoss(BaseLoss):
    """Adaptive wing loss between heatmaps.

    Reference: Wang et al., "Adaptive Wing Loss for Robust Face Alignment
    via Heatmap Regression", ICCV 2019.

    With ``d = |target - output|`` and ``p = alpha - target``, the loss is
    ``omega * log(1 + (d / epsilon) ** p)`` where ``d < theta`` and
    ``A * d - C`` elsewhere (``A`` and ``C`` make it continuous and smooth
    at ``theta``), averaged over every element, as MMPose. With
    ``use_target_weight`` output and target are multiplied by the weights
    ((B, K) per keypoint or (B, H, W, K) per pixel) before the loss, as
    MMPose does; without it the weights are ignored.

    Args:
        alpha: exponent offset (``alpha - target`` is the exponent).
        omega: scale of the non-linear part.
        epsilon: normalisation of the error.
        theta: threshold between the non-linear and linear parts.
        use_target_weight: weight output and target.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = AdaptiveWingLoss()
    >>> out = np.zeros((1, 2, 2, 1), "float32")
    >>> round(float(loss(out, np.full_like(out, 0.25))), 4)
    1.0378
    """

    def __init__(
        self,
        alpha=2.1,
        omega=14,
        epsilon=1,
        theta=0.5,
        use_target_weight=False,
        loss_weight=1.0,
    ):
        if not epsilon > 0:
            raise ValueError(
                f"Expected epsilon > 0. Received: epsilon={epsilon!r}"
            )
        if not theta > 0:
            raise ValueError(f"Expected theta > 0. Received: theta={theta!r}")
        self.alpha = float(alpha)
        self.omega = float(omega)
        self.epsilon = float(epsilon)
        self.theta = float(theta)
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)

    def criterion(self, pred, target):
        """Element-wise adaptive wing loss, averaged."""
        delta = ops.abs(target - pred)
        power = self.alpha - target
        ratio = self.theta / self.epsilon
        ratio_p = ops.power(ratio, power)
        a = (
            self.omega
            * (1 / (1 + ratio_p))
            * power
            * ops.power(ratio, power - 1)
            * (1 / self.epsilon)
        )
        c = self.theta * a - self.omega * ops.log(1 + ratio_p)
        small = self.omega * ops.log(1 + ops.power(delta / self.epsilon, power))
        losses = ops.where(delta < self.theta, small, a * delta - c)
        return ops.mean(losses)

    def __call__(self, output, target, target_weights=None):
        """Computes the loss.

        Args:
            output: predicted heatmaps (B, H, W, K).
            target: target heatmaps (B, H, W, K).
            target_weights: (B, K) or (B, H, W, K) weights
                (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        if self.use_target_weight:
            if target_weights is None:
                raise ValueError(
                    "AdaptiveWingLoss(use_target_weight=True) needs "
                    "target_weights of shape (B, K) or (B, H, W, K). "
                    "Received: None"
                )
            w = ops.cast(target_weights, "float32")
            shape = tuple(w.shape)
            if len(shape) == 2:
                w = ops.reshape(w, (ops.shape(w)[0], 1, 1, ops.shape(w)[1]))
            elif len(shape) != 4:
                raise ValueError(
                    "AdaptiveWingLoss expects target_weights of shape "
                    f"(B, K) or (B, H, W, K). Received shape {shape}"
                )
            output = output * w
            target = target * w
        return self.criterion(output, target) * self.loss_weight

    def get_config(self):
        return dict(
            alpha=self.alpha,
            omega=self.omega,
            epsilon=self.epsilon,
            theta=self.theta,
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

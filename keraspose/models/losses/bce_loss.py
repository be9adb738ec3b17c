"""Binary cross-entropy (MMPose's ``BCELoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import register


@register
class BCELoss(BaseLoss):
    """Binary cross-entropy with MMPose's semantics.

    ``use_sigmoid=True`` means the *input is already a probability* (MMPose
    then uses ``binary_cross_entropy``; log terms are clamped at -100 like
    PyTorch); ``use_sigmoid=False`` means the input is a logit.

    Args:
        use_target_weight: multiply the element-wise loss by target weights.
        loss_weight: multiplier of the loss.
        reduction: "mean", "sum" or "none".
        use_sigmoid: inputs are probabilities (True) or logits (False).

    Example:

    >>> import numpy as np
    >>> loss = BCELoss(use_sigmoid=True)
    >>> round(float(loss(np.array([[0.5]]), np.array([[1.0]]))), 4)
    0.6931
    """

    def __init__(
        self,
        use_target_weight=False,
        loss_weight=1.0,
        reduction="mean",
        use_sigmoid=False,
    ):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                "Expected reduction in ('mean', 'sum', 'none'). "
                f"Received: reduction={reduction!r}"
            )
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)
        self.reduction = reduction
        self.use_sigmoid = bool(use_sigmoid)

    def __call__(self, output, target, target_weight=None):
        """Computes the loss.

        Args:
            output: probabilities (``use_sigmoid``) or logits, (B, K).
            target: binary targets, (B, K).
            target_weight: (B, K) or (B,) weights (``use_target_weight``).

        Returns:
            The reduced loss (float32).
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        if self.use_sigmoid:
            log_p = ops.maximum(ops.log(output), -100.0)
            log_1mp = ops.maximum(ops.log(1.0 - output), -100.0)
            loss = -(target * log_p + (1.0 - target) * log_1mp)
        else:
            # numerically stable BCE with logits
            loss = (
                ops.maximum(output, 0.0)
                - output * target
                + ops.log1p(ops.exp(-ops.abs(output)))
            )
        if self.use_target_weight:
            if target_weight is None:
                raise ValueError(
                    "BCELoss(use_target_weight=True) needs target_weight. "
                    "Received: None"
                )
            w = ops.cast(target_weight, "float32")
            if len(w.shape) == 1:
                w = w[:, None]
            loss = loss * w
        if self.reduction == "sum":
            loss = ops.sum(loss)
        elif self.reduction == "mean":
            loss = ops.mean(loss)
        return loss * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
            reduction=self.reduction,
            use_sigmoid=self.use_sigmoid,
        )

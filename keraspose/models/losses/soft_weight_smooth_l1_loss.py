"""Smooth L1 loss with soft weights (MMPose's ``SoftWeightSmoothL1Loss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.smooth_l1_loss import expand_weight
from keraspose.models.losses.smooth_l1_loss import require_weight
from keraspose.registry import register


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"Expected `{name}` as a number. Received: {name}={value!r}"
        )
    return float(value)


@register
class SoftWeightSmoothL1Loss(BaseLoss):
    """Smooth L1 loss with per-element soft weights (DEKR's offset loss).

    Reference: Geng et al., "Bottom-Up Human Pose Estimation Via
    Disentangled Keypoint Regression", CVPR 2021.

    ``l = d^2 / (2 beta)`` where ``|d| < beta``, else ``|d| - beta / 2``,
    with ``d = output - target``. Reductions follow MMPose:

    * without ``use_target_weight``: the mean over all elements (any
      ``target_weight`` is ignored);
    * with it: ``l * target_weight`` (the weight gets unit trailing axes up
      to the output's rank, so (B, K) weights apply to (B, K, D)), then the
      mean over all elements (``supervise_empty=True``) or the sum divided
      by the number of positive entries of ``target_weight`` itself, before
      broadcasting (at least 1; ``supervise_empty=False``, DEKR's setting).

    Shapes are free: DEKR passes channels-last displacements (B, h, w, 2K)
    with weights of the same shape. The loss is computed in float32.

    Args:
        use_target_weight: weight the elements by ``target_weight``.
        supervise_empty: with weights, average over all elements (True) or
            only over the positive weights (False).
        beta: where the loss switches from L2 to L1 (0 gives plain L1).
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = SoftWeightSmoothL1Loss(use_target_weight=True,
    ...                               supervise_empty=False)
    >>> out = np.array([[0.5, 3.0, 9.0]])
    >>> float(loss(out, np.zeros((1, 3)), np.array([[1.0, 2.0, 0.0]])))
    2.5625
    """

    def __init__(
        self,
        use_target_weight=False,
        supervise_empty=True,
        beta=1.0,
        loss_weight=1.0,
    ):
        self.use_target_weight = bool(use_target_weight)
        self.supervise_empty = bool(supervise_empty)
        self.beta = _number(beta, "beta")
        if self.beta < 0:
            raise ValueError(f"Expected beta >= 0. Received: beta={beta!r}")
        self.loss_weight = _number(loss_weight, "loss_weight")

    def smooth_l1_loss(self, output, target):
        """Element-wise smooth L1 (``reduction='none'``), float32."""
        delta = ops.abs(
            ops.cast(output, "float32") - ops.cast(target, "float32")
        )
        if self.beta == 0:
            return delta
        small = delta < self.beta
        # the quadratic branch sees small deltas only: finite gradients
        quad = ops.square(ops.where(small, delta, 0.0)) / (2 * self.beta)
        return ops.where(small, quad, delta - self.beta / 2)

    def __call__(self, output, target, target_weight=None):
        """Computes the loss.

        Args:
            output: predictions, any shape (DEKR: (B, h, w, 2K)).
            target: targets, same shape.
            target_weight: weights of the output's shape or a prefix of it
                (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        loss = self.smooth_l1_loss(output, target)
        if self.use_target_weight:
            weight = ops.convert_to_tensor(
                require_weight(target_weight, "SoftWeightSmoothL1Loss")
            )
            if len(weight.shape) > len(loss.shape):
                raise ValueError(
                    "SoftWeightSmoothL1Loss expects target_weight with at "
                    "most as many axes as the output. Received shapes "
                    f"{tuple(weight.shape)} and {tuple(loss.shape)}"
                )
            weight = expand_weight(weight, len(loss.shape))
            loss = loss * weight
            if self.supervise_empty:
                loss = ops.mean(loss)
            else:
                count = ops.sum(ops.cast(weight > 0, "float32"))
                loss = ops.sum(loss) / ops.maximum(count, 1.0)
        else:
            loss = ops.mean(loss)
        return loss * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            supervise_empty=self.supervise_empty,
            beta=self.beta,
            loss_weight=self.loss_weight,
        )

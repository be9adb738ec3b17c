"""Mean per-joint position error (MMPose's ``MPJPELoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.smooth_l1_loss import expand_weight
from keraspose.models.losses.smooth_l1_loss import require_weight
from keraspose.registry import register


def safe_norm(x, axis=-1):
    """Euclidean norm with a zero (not NaN) gradient at zero vectors, as
    PyTorch's ``torch.norm``."""
    squared = ops.sum(ops.square(x), axis=axis)
    positive = squared > 0
    safe = ops.where(positive, squared, ops.ones_like(squared))
    return ops.where(positive, ops.sqrt(safe), ops.zeros_like(squared))


@register
class MPJPELoss(BaseLoss):
    """Euclidean distance per joint, averaged over joints and samples.

    Reference: Ionescu et al., "Human3.6M: Large Scale Datasets and
    Predictive Methods for 3D Human Sensing in Natural Environments",
    TPAMI 2014 (the MPJPE error); used as a loss by Pavllo et al.,
    "3D human pose estimation in video with temporal convolutions and
    semi-supervised training", CVPR 2019.

    Follows MMPose: ``mean(||(output - target) * w||_2) * loss_weight``
    over the last axis, where the weight multiplies the difference
    *inside* the norm and weighted-out joints still count in the mean.
    MMPose's lifting heads pass (B, K, 1) weights; (B, K) weights get a
    trailing unit axis here (MMPose would fail to broadcast them). The
    norm's gradient at a zero difference is 0, as PyTorch's.

    Args:
        use_target_weight: weight the joints by ``target_weight``.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = MPJPELoss()
    >>> float(loss(np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]]),
    ...     np.zeros((1, 2, 3))))
    3.0
    """

    def __init__(self, use_target_weight=False, loss_weight=1.0):
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)

    def __call__(self, output, target, target_weight=None):
        """Computes the loss.

        Args:
            output: predicted coordinates (B, K, D) (or (B, T, K, D)).
            target: target coordinates of the same shape.
            target_weight: (B, K, 1) or (B, K) joint weights
                (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        diff = output - target
        if self.use_target_weight:
            w = require_weight(target_weight, "MPJPELoss")
            diff = diff * expand_weight(w, len(diff.shape))
        return ops.mean(safe_norm(diff, axis=-1)) * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

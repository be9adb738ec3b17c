"""Jensen-Shannon divergence between heatmaps (MMPose's ``JSDiscretLoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.smooth_l1_loss import require_weight
from keraspose.registry import register


def _xlogy_self(p):
    """``p * log(p)`` with 0 at p = 0 and finite gradients."""
    positive = p > 0
    safe = ops.where(positive, p, 1.0)
    return ops.where(positive, p * ops.log(safe), 0.0)


@register
class JSDiscretLoss(BaseLoss):
    """Discrete Jensen-Shannon divergence of predicted and target heatmaps.

    Reference: Nibali et al., "Numerical Coordinate Regression with
    Convolutional Neural Networks" (DSNT), 2018.

    Follows MMPose: ``KL(p || m) = p * log(p) - p * log(m + 1e-24)`` (0
    where ``p == 0``, like ``torch.nn.KLDivLoss``) with ``m = (pred +
    gt) / 2``; the element-wise ``0.5 * (KL(pred || m) + KL(gt || m))`` is
    summed over everything and, with ``size_average``, divided by the batch
    size. With ``use_target_weight`` both heatmaps are multiplied by the
    (B, K) weights first. Heatmaps are channels-last (B, H, W, K).

    Args:
        use_target_weight: weight the keypoints by ``target_weight``.
        size_average: divide by the batch size.

    Example:

    >>> import numpy as np
    >>> loss = JSDiscretLoss(use_target_weight=False)
    >>> hm = np.full((1, 2, 2, 1), 0.25, "float32")
    >>> float(loss(hm, hm))
    0.0
    """

    def __init__(self, use_target_weight=True, size_average=True):
        self.use_target_weight = bool(use_target_weight)
        self.size_average = bool(size_average)

    @staticmethod
    def kl(p, q):
        """Element-wise ``KL(p || q)`` terms, as MMPose's ``kl``."""
        return _xlogy_self(p) - p * ops.log(q + 1e-24)

    def js(self, pred_hm, gt_hm):
        """Element-wise Jensen-Shannon terms."""
        m = 0.5 * (pred_hm + gt_hm)
        return 0.5 * (self.kl(pred_hm, m) + self.kl(gt_hm, m))

    def __call__(self, pred_hm, gt_hm, target_weight=None):
        """Computes the loss.

        Args:
            pred_hm: predicted heatmaps (B, H, W, K).
            gt_hm: target heatmaps (B, H, W, K).
            target_weight: (B, K) or (B,) weights (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        pred_hm = ops.cast(pred_hm, "float32")
        gt_hm = ops.cast(gt_hm, "float32")
        if self.use_target_weight:
            w = ops.cast(
                require_weight(target_weight, "JSDiscretLoss"), "float32"
            )
            if len(w.shape) == 1:
                w = ops.reshape(w, (-1, 1, 1, 1))
            elif len(w.shape) == 2:
                w = w[:, None, None, :]
            else:
                raise ValueError(
                    "JSDiscretLoss expects target_weight of shape (B, K) or "
                    f"(B,). Received shape {tuple(w.shape)}"
                )
            pred_hm, gt_hm = pred_hm * w, gt_hm * w
        loss = self.js(pred_hm, gt_hm)
        if self.size_average:
            loss = loss / ops.cast(ops.shape(gt_hm)[0], "float32")
        return ops.sum(loss)

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            size_average=self.size_average,
        )

"""Discrete KL divergence between SimCC vectors (MMPose's ``KLDiscretLoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import register


def _xlogx(t):
    """``t * log(t)`` with 0 at ``t == 0`` (PyTorch's ``xlogy(t, t)``)."""
    zero = ops.equal(t, 0.0)
    return ops.where(zero, 0.0, t * ops.log(ops.where(zero, 1.0, t)))


@register
class KLDiscretLoss(BaseLoss):
    """KL divergence between softmax predictions and SimCC labels, per axis.

    Reference: Li et al., "SimCC: a Simple Coordinate Classification
    Perspective for Human Pose Estimation", ECCV 2022.

    For each axis, ``KL(labels || softmax(beta * pred))`` is averaged over the
    bins (PyTorch's ``KLDivLoss(reduction="none")`` then ``mean`` over the
    last axis), multiplied by the keypoint weights, and the x and y terms
    are summed. MMPose's reduction is kept: the sum over all instances and
    keypoints is divided by K, the number of keypoints, **not** by the batch
    size, so the loss grows with the batch size. ``mask`` lists keypoint
    indices whose loss is multiplied by ``mask_weight``.

    Args:
        beta: temperature of the prediction softmax.
        label_softmax: turn the labels into a distribution with
            ``softmax(label_beta * labels)``.
        label_beta: temperature of the label softmax.
        use_target_weight: weight each keypoint's loss by ``target_weight``.
        mask: optional list of keypoint indices to reweight.
        mask_weight: weight of the masked keypoints.

    Example:

    >>> import numpy as np
    >>> loss = KLDiscretLoss(use_target_weight=False)
    >>> pred = (np.zeros((1, 1, 4), "float32"),) * 2
    >>> gt = (np.full((1, 1, 4), 0.25, "float32"),) * 2
    >>> float(loss(pred, gt, None))
    0.0
    """

    def __init__(
        self,
        beta=1.0,
        label_softmax=False,
        label_beta=10.0,
        use_target_weight=True,
        mask=None,
        mask_weight=1.0,
    ):
        self.beta = float(beta)
        self.label_softmax = bool(label_softmax)
        self.label_beta = float(label_beta)
        self.use_target_weight = bool(use_target_weight)
        if mask is not None:
            try:
                mask = [int(i) for i in mask]
            except (TypeError, ValueError):
                raise TypeError(
                    "Expected `mask` as a list of keypoint indices or None. "
                    f"Received: mask={mask!r}"
                ) from None
        self.mask = mask
        self.mask_weight = float(mask_weight)

    def criterion(self, pred, labels):
        """Per-row KL divergence averaged over the bins: (..., W) -> (...)."""
        log_pt = ops.log_softmax(pred * self.beta, axis=-1)
        if self.label_softmax:
            labels = ops.softmax(labels * self.label_beta, axis=-1)
        return ops.mean(_xlogx(labels) - labels * log_pt, axis=-1)

    def __call__(self, pred_simcc, gt_simcc, target_weight=None):
        """Computes the loss.

        Args:
            pred_simcc: ``(pred_x (B, K, Wx), pred_y (B, K, Wy))``.
            gt_simcc: ``(gt_x, gt_y)`` of the same shapes.
            target_weight: (B, K) keypoint weights (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        if len(pred_simcc) != len(gt_simcc):
            raise ValueError(
                "KLDiscretLoss expects as many targets as predictions (one "
                f"per axis). Received {len(pred_simcc)} predictions and "
                f"{len(gt_simcc)} targets"
            )
        k = pred_simcc[0].shape[1]
        weight = 1.0
        if self.use_target_weight:
            if target_weight is None:
                raise ValueError(
                    "KLDiscretLoss(use_target_weight=True) needs "
                    "target_weight (B, K). Received: None"
                )
            weight = ops.cast(target_weight, "float32")
            if len(weight.shape) == 1:
                weight = weight[:, None]
        loss = 0.0
        for pred, target in zip(pred_simcc, gt_simcc):
            pred = ops.cast(pred, "float32")
            target = ops.cast(target, "float32")
            if pred.shape[-1] != target.shape[-1]:
                raise ValueError(
                    "KLDiscretLoss: predictions have "
                    f"{pred.shape[-1]} bins but the labels have "
                    f"{target.shape[-1]}; check the codec's input_size and "
                    "simcc_split_ratio against the head's."
                )
            t_loss = self.criterion(pred, target) * weight
            if self.mask is not None:
                scale = [1.0] * k
                for i in self.mask:
                    scale[i] = self.mask_weight
                t_loss = t_loss * ops.convert_to_tensor(scale, "float32")
            loss = loss + ops.sum(t_loss)
        return loss / k

    def get_config(self):
        return dict(
            beta=self.beta,
            label_softmax=self.label_softmax,
            label_beta=self.label_beta,
            use_target_weight=self.use_target_weight,
            mask=self.mask,
            mask_weight=self.mask_weight,
        )

"""Mean squared error between heatmaps (MMPose's ``KeypointMSELoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.registry import register


@register
class KeypointMSELoss(BaseLoss):
    """MSE loss for heatmaps, masked per keypoint.

    Matches MMPose: the (optionally masked) squared error is averaged over
    every element of the batch, keypoint and pixel, so masking scales the
    loss down rather than renormalising it. As in MMPose 1.x, keypoint
    weights passed to the call are applied whether or not
    ``use_target_weight`` is set (the flag is kept for config
    compatibility; heads always pass the codec's ``keypoint_weights``).

    Args:
        use_target_weight: kept for MMPose compatibility (see above).
        skip_empty_channel: ignore channels whose target is all zeros.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = KeypointMSELoss(use_target_weight=True)
    >>> out = np.zeros((2, 4, 4, 3), "float32")
    >>> tgt = np.ones((2, 4, 4, 3), "float32")
    >>> float(loss(out, tgt, np.array([[1, 1, 0]] * 2, "float32")))
    0.6666666865348816
    """

    def __init__(
        self, use_target_weight=False, skip_empty_channel=False, loss_weight=1.0
    ):
        self.use_target_weight = bool(use_target_weight)
        self.skip_empty_channel = bool(skip_empty_channel)
        self.loss_weight = float(loss_weight)

    def _get_mask(self, target, target_weights, mask):
        # MMPose 1.x quirk (kept): weights apply whenever they are given,
        # whatever `use_target_weight` says.
        if target_weights is not None:
            w = ops.cast(target_weights, "float32")
            # (B, K) -> (B, 1, 1, K) for channels-last heatmaps
            w = ops.reshape(w, (ops.shape(w)[0], 1, 1, ops.shape(w)[-1]))
            mask = w if mask is None else mask * w
        if self.skip_empty_channel:
            nonempty = ops.any(
                ops.not_equal(target, 0), axis=(1, 2), keepdims=True
            )
            nonempty = ops.cast(nonempty, "float32")
            mask = nonempty if mask is None else mask * nonempty
        return mask

    def __call__(self, output, target, target_weights=None, mask=None):
        """Computes the loss.

        Args:
            output: predicted heatmaps (B, H, W, K).
            target: target heatmaps (B, H, W, K).
            target_weights: (B, K) keypoint weights.
            mask: optional mask broadcastable to the heatmaps.

        Returns:
            Scalar float32 loss.
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        if mask is not None:
            mask = ops.cast(mask, "float32")
        mask = self._get_mask(target, target_weights, mask)
        err = ops.square(output - target)
        if mask is not None:
            err = err * mask
        return ops.mean(err) * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            skip_empty_channel=self.skip_empty_channel,
            loss_weight=self.loss_weight,
        )

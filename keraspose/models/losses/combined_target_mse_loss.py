"""MSE of UDP's combined targets (MMPose's ``CombinedTargetMSELoss``)."""

from keras import ops

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.keypoint_ohkm_mse_loss import keypoint_weights_mask
from keraspose.registry import register


@register
class CombinedTargetMSELoss(BaseLoss):
    """MSE of disc maps plus disc-masked MSE of the offset maps.

    Reference: Huang et al., "The Devil is in the Details: Delving into
    Unbiased Data Processing for Human Pose Estimation", CVPR 2020.

    The maps are channels-last (B, H, W, 3K) in MMPose's grouping: channel
    ``3k`` is keypoint k's disc, ``3k + 1`` and ``3k + 2`` its x and y
    offsets (``UDPHeatmap(heatmap_type='combined')``). As MMPose: per
    keypoint, ``0.5 * mse(disc)`` plus ``0.5 * mse`` of each offset map
    multiplied by the target disc, each mean over batch and pixels; summed
    over keypoints and divided by K. With ``use_target_weight`` both disc
    maps are multiplied by the keypoint weight and the *weighted* target
    disc then masks the offsets (so offsets are weighted by the weight
    squared, MMPose's quirk); without it the weights are ignored.

    Args:
        use_target_weight: weight each keypoint's maps.
        loss_weight: multiplier of the loss.

    Example:

    >>> import numpy as np
    >>> loss = CombinedTargetMSELoss()
    >>> out = np.zeros((1, 2, 2, 3), "float32")
    >>> tgt = np.ones((1, 2, 2, 3), "float32")
    >>> float(loss(out, tgt, None))
    1.5
    """

    def __init__(self, use_target_weight=False, loss_weight=1.0):
        self.use_target_weight = bool(use_target_weight)
        self.loss_weight = float(loss_weight)

    def __call__(self, output, target, target_weights=None):
        """Computes the loss.

        Args:
            output: predicted maps (B, H, W, 3K).
            target: target maps (B, H, W, 3K).
            target_weights: (B, K) keypoint weights (``use_target_weight``).

        Returns:
            Scalar float32 loss.
        """
        output = ops.cast(output, "float32")
        target = ops.cast(target, "float32")
        channels = output.shape[-1]
        if channels is not None and channels % 3:
            raise ValueError(
                "CombinedTargetMSELoss expects 3K channels (disc, x offset, "
                f"y offset per keypoint). Received {channels} channels"
            )
        heat_pred, heat_gt = output[..., 0::3], target[..., 0::3]
        if self.use_target_weight:
            w = keypoint_weights_mask(target_weights, "CombinedTargetMSELoss")
            heat_pred = heat_pred * w
            heat_gt = heat_gt * w
        loss = 0.5 * ops.mean(ops.square(heat_pred - heat_gt))
        for i in (1, 2):
            off_pred = heat_gt * output[..., i::3]
            off_gt = heat_gt * target[..., i::3]
            loss = loss + 0.5 * ops.mean(ops.square(off_pred - off_gt))
        return loss * self.loss_weight

    def get_config(self):
        return dict(
            use_target_weight=self.use_target_weight,
            loss_weight=self.loss_weight,
        )

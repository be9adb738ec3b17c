"""Integral regression head with heatmap supervision (DSNT)."""

from keras import ops

from keraspose.models.heads.regression_heads import utils as reg_utils
from keraspose.models.heads.regression_heads.integral_regression_head import (
    IntegralRegressionHead,
)
from keraspose.models.losses.multiple_loss_wrapper import MultipleLossWrapper
from keraspose.registry import register


@register
class DSNTHead(IntegralRegressionHead):
    """Integral regression whose heatmaps are also supervised.

    Reference: Nibali et al., "Numerical Coordinate Regression with
    Convolutional Neural Networks" (DSNT), 2018. Follows MMPose's
    ``DSNTHead``: the loss is a :class:`MultipleLossWrapper` of a coordinate
    loss and a heatmap loss (``SmoothL1Loss`` and ``JSDiscretLoss``, both
    with target weights, by default) called with ``[coords, heatmaps]``,
    ``[keypoint_labels, heatmaps]`` (the codec's normalised heatmaps) and
    the keypoint weights; ``loss_kpt`` is their sum.

    ``lambda_t > 0`` drops the heatmap loss from epoch ``lambda_t`` on
    (0-based, as MMPose's message-hub epoch). The head then holds a
    non-trainable ``current_epoch`` variable that a training loop sets
    with :meth:`set_epoch` at the start of each epoch, e.g.
    ``keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs:
    model.head.set_epoch(epoch))``.

    See :class:`IntegralRegressionHead` for everything else.

    Args:
        in_channels: channels of the last feature map.
        in_featuremap_size: size (w, h) of the last feature map.
        num_joints: number of keypoints K.
        lambda_t: epoch from which the heatmap loss is dropped (-1: never).
        **kwargs: the other :class:`IntegralRegressionHead` arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="DSNTHead", in_channels=8,
    ...     in_featuremap_size=(4, 4), num_joints=3,
    ...     deconv_out_channels=(8,), deconv_kernel_sizes=(4,)))
    >>> coords, heatmaps = head((np.zeros((2, 4, 4, 8), "float32"),))
    >>> heatmaps.shape
    (2, 8, 8, 3)
    """

    def __init__(
        self,
        in_channels,
        in_featuremap_size,
        num_joints,
        lambda_t=-1,
        loss=dict(  # noqa: B006 (MMPose default)
            type="MultipleLossWrapper",
            losses=[
                dict(type="SmoothL1Loss", use_target_weight=True),
                dict(type="JSDiscretLoss", use_target_weight=True),
            ],
        ),
        **kwargs,
    ):
        super().__init__(
            in_channels, in_featuremap_size, num_joints, loss=loss, **kwargs
        )
        if (
            not isinstance(self.loss_module, MultipleLossWrapper)
            or self.loss_module.num_losses != 2
        ):
            raise ValueError(
                "DSNTHead needs loss=dict(type='MultipleLossWrapper', "
                "losses=[coordinate loss, heatmap loss]). Received: "
                f"{self.loss_module!r}"
            )
        self.lambda_t = int(lambda_t)
        self.current_epoch = None
        if self.lambda_t > 0:
            self.current_epoch = self.add_weight(
                shape=(),
                initializer="zeros",
                dtype="float32",
                trainable=False,
                name="current_epoch",
            )

    def set_epoch(self, epoch):
        """Sets the current (0-based) epoch used by ``lambda_t``."""
        if self.current_epoch is not None:
            self.current_epoch.assign(float(epoch))

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        coords, heatmaps = outputs
        labels, weights = self._targets(coords, targets)
        gt_heatmaps = self._require(targets, "heatmaps", "DSNTHead.loss")
        if tuple(heatmaps.shape[1:]) != tuple(gt_heatmaps.shape[1:]):
            raise ValueError(
                f"DSNTHead predicts heatmaps of shape {heatmaps.shape[1:]} "
                f"(H, W, K) but the target heatmaps are "
                f"{gt_heatmaps.shape[1:]}: check the codec's heatmap_size "
                "and num_joints."
            )
        loss_coords, loss_heatmaps = self.loss_module(
            [coords, heatmaps], [labels, gt_heatmaps], weights
        )
        loss = loss_coords + loss_heatmaps
        if self.current_epoch is not None:
            loss = ops.where(
                self.current_epoch >= float(self.lambda_t), loss_coords, loss
            )
        return {
            "loss_kpt": loss,
            "acc_pose": reg_utils.regression_accuracy(coords, labels, weights),
        }

    def get_config(self):
        config = super().get_config()
        config.update(lambda_t=self.lambda_t)
        return config

"""Top-down regression head with residual log-likelihood estimation."""

import keras
from keras import ops

from keraspose.models.heads.regression_heads import utils as reg_utils
from keraspose.models.heads.regression_heads.regression_head import (
    RegressionHead,
)
from keraspose.models.losses.rle_loss import RLELoss
from keraspose.registry import register


@register
class RLEHead(RegressionHead):
    """Regresses coordinates and their sigmas (4 values per keypoint).

    Reference: Li et al., "Human Pose Regression with Residual
    Log-likelihood Estimation" (RLE), ICCV 2021. Follows MMPose's
    ``RLEHead``: the linear layer ``fc`` outputs (B, K, 4), normalised
    (x, y) and two sigma logits; the loss is :class:`RLELoss`, whose
    RealNVP flow is a weight of this head (``loss_module.flow_model``,
    trained and saved with it; MMPose counts it among the model's
    parameters). ``predict`` applies the sigmoid to the sigmas (after
    flipping, as MMPose) and the codec scores keypoints with
    ``mean(1 - sigma)``.

    MMPose's head ``init_cfg`` (normal, std 0.01, zero bias, on every
    ``Linear``) also re-initialises the flow's linear layers; so does this
    head when it builds its loss from a config.

    An RLE head needs RLELoss (and RLELoss an RLE head): any other loss
    raises at construction. See :class:`RegressionHead` for the features
    and the arguments (the default loss is ``RLELoss(use_target_weight=
    True)``).

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="RLEHead", in_channels=8,
    ...     num_joints=3, decoder=dict(type="RegressionLabel",
    ...                                input_size=(32, 32))))
    >>> head((np.zeros((2, 4, 4, 8), "float32"),)).shape
    (2, 3, 4)
    """

    num_values = 4

    def __init__(
        self,
        in_channels,
        num_joints,
        loss=dict(type="RLELoss", use_target_weight=True),  # noqa: B006
        decoder=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(
            in_channels,
            num_joints,
            loss=loss,
            decoder=decoder,
            init_cfg=init_cfg,
            **kwargs,
        )
        if isinstance(loss, dict):
            self._init_flow_like_mmpose()

    def _check_loss(self):
        if not isinstance(self.loss_module, RLELoss):
            raise ValueError(
                "RLEHead outputs coordinates and sigmas (4 values per "
                "keypoint) and needs loss=dict(type='RLELoss', ...). "
                f"Received: {type(self.loss_module).__name__}"
            )

    def _init_flow_like_mmpose(self):
        init = keras.initializers.RandomNormal(stddev=0.01)
        for dense in self.loss_module.flow_model.flow_layers:
            dense.kernel.assign(init(dense.kernel.shape, dense.kernel.dtype))
            dense.bias.assign(ops.zeros(dense.bias.shape, dense.bias.dtype))

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        labels, weights = self._targets(outputs, targets)
        coords = outputs[..., :2]
        return {
            "loss_kpt": self.loss_module(
                coords, outputs[..., 2:4], labels, weights[..., None]
            ),
            "acc_pose": reg_utils.regression_accuracy(coords, labels, weights),
        }

    def _activate(self, outputs):
        outputs = ops.cast(outputs, "float32")
        return ops.concatenate(
            [outputs[..., :2], ops.sigmoid(outputs[..., 2:])], axis=-1
        )

"""Trajectory regression head of VideoPose3D: the root's 3D position."""

from keraspose.models.heads.regression_heads.temporal_regression_head import (
    TemporalRegressionHead,
)
from keraspose.models.heads.regression_heads.temporal_regression_head import (
    output_flip_indices,
)
from keraspose.registry import register


@register
class TrajectoryRegressionHead(TemporalRegressionHead):
    """Root trajectory head of VideoPose3D (MMPose's
    ``TrajectoryRegressionHead``).

    Reference: Pavllo et al., "3D human pose estimation in video with
    temporal convolutions and semi-supervised training", CVPR 2019.

    The layers and decoding of :class:`TemporalRegressionHead` (a 1x1
    temporal convolution ``conv`` to (B, num_joints, 3); MMPose's configs
    use ``num_joints=1``, the root), with MMPose's trajectory loss:
    ``loss(outputs, lifting_target_label, trajectory_weights[..., None])``
    logged as ``loss_traj`` and ``mpjpe_traj`` (mask ``trajectory_weights >
    0``). As in MMPose the (B, 1, 3) prediction is compared with every
    joint of ``lifting_target_label`` (they broadcast). With flip test a
    single-joint output flips as the root (index 0).

    Args:
        in_channels: channels of the last feature sequence.
        num_joints: number of predicted joints (1: the root).
        loss: loss config (``MPJPELoss`` with target weights).
        decoder: lifting codec config.
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="TrajectoryRegressionHead",
    ...                             in_channels=8, num_joints=1))
    >>> head((np.zeros((2, 1, 8), "float32"),)).shape
    (2, 1, 3)
    """

    weight_key = "trajectory_weights"
    loss_name = "loss_traj"
    acc_name = "mpjpe_traj"

    def __init__(
        self,
        in_channels,
        num_joints,
        loss=dict(type="MPJPELoss", use_target_weight=True),  # noqa: B006
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

    def _flip_back(self, coords, test_cfg, flip_indices):
        if self.num_joints == 1:
            flip_indices = [0]
        else:
            flip_indices = output_flip_indices(
                flip_indices, self.num_joints, self.decoder
            )
        return super()._flip_back(coords, test_cfg, flip_indices)

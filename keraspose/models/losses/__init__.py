"""Losses with MMPose's names, signatures and reductions."""

from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.bce_loss import BCELoss
from keraspose.models.losses.keypoint_mse_loss import KeypointMSELoss

__all__ = ["BaseLoss", "BCELoss", "KeypointMSELoss"]

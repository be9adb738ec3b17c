"""Losses with MMPose's names, signatures and reductions."""

from keraspose.models.losses.adaptive_wing_loss import AdaptiveWingLoss
from keraspose.models.losses.ae_loss import AssociativeEmbeddingLoss
from keraspose.models.losses.base_loss import BaseLoss
from keraspose.models.losses.bce_loss import BCELoss
from keraspose.models.losses.combined_target_mse_loss import (
    CombinedTargetMSELoss,
)
from keraspose.models.losses.js_discret_loss import JSDiscretLoss
from keraspose.models.losses.keypoint_mse_loss import KeypointMSELoss
from keraspose.models.losses.keypoint_ohkm_mse_loss import KeypointOHKMMSELoss
from keraspose.models.losses.kl_discret_loss import KLDiscretLoss
from keraspose.models.losses.l1_loss import L1Loss
from keraspose.models.losses.mpjpe_loss import MPJPELoss
from keraspose.models.losses.mse_loss import MSELoss
from keraspose.models.losses.multiple_loss_wrapper import MultipleLossWrapper
from keraspose.models.losses.rle_loss import RLELoss
from keraspose.models.losses.smooth_l1_loss import SmoothL1Loss
from keraspose.models.losses.soft_weight_smooth_l1_loss import (
    SoftWeightSmoothL1Loss,
)
from keraspose.models.losses.soft_wing_loss import SoftWingLoss
from keraspose.models.losses.wing_loss import WingLoss

__all__ = [
    "AdaptiveWingLoss",
    "AssociativeEmbeddingLoss",
    "BaseLoss",
    "BCELoss",
    "CombinedTargetMSELoss",
    "KeypointMSELoss",
    "KeypointOHKMMSELoss",
    "KLDiscretLoss",
    "JSDiscretLoss",
    "L1Loss",
    "MPJPELoss",
    "MSELoss",
    "MultipleLossWrapper",
    "RLELoss",
    "SmoothL1Loss",
    "SoftWeightSmoothL1Loss",
    "SoftWingLoss",
    "WingLoss",
]

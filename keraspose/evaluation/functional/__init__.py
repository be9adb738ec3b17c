from keraspose.evaluation.functional.keypoint_eval import keypoint_auc
from keraspose.evaluation.functional.keypoint_eval import keypoint_epe
from keraspose.evaluation.functional.keypoint_eval import keypoint_mpjpe
from keraspose.evaluation.functional.keypoint_eval import keypoint_nme
from keraspose.evaluation.functional.keypoint_eval import keypoint_pck_accuracy
from keraspose.evaluation.functional.mesh_eval import (
    compute_similarity_transform,
)
from keraspose.evaluation.functional.nms import nearby_joints_nms
from keraspose.evaluation.functional.nms import nms
from keraspose.evaluation.functional.nms import oks_iou
from keraspose.evaluation.functional.nms import oks_nms
from keraspose.evaluation.functional.nms import soft_oks_nms

__all__ = [
    "compute_similarity_transform",
    "keypoint_auc",
    "keypoint_epe",
    "keypoint_mpjpe",
    "keypoint_nme",
    "keypoint_pck_accuracy",
    "nearby_joints_nms",
    "nms",
    "oks_iou",
    "oks_nms",
    "soft_oks_nms",
]

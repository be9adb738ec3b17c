"""Dataset readers (annotation parsing on the host, tf.data streaming)."""

from keraspose.datasets.datasets.animal.ap10k_dataset import AP10KDataset
from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.datasets.datasets.base_mocap_dataset import BaseMocapDataset
from keraspose.datasets.datasets.body.coco_dataset import CocoDataset
from keraspose.datasets.datasets.body.crowdpose_dataset import CrowdPoseDataset
from keraspose.datasets.datasets.body.mpii_dataset import MpiiDataset
from keraspose.datasets.datasets.body3d.h36m_dataset import Human36mDataset
from keraspose.datasets.datasets.hand.onehand10k_dataset import (
    OneHand10KDataset,
)

__all__ = [
    "AP10KDataset",
    "BaseCocoStyleDataset",
    "BaseMocapDataset",
    "CocoDataset",
    "CrowdPoseDataset",
    "Human36mDataset",
    "MpiiDataset",
    "OneHand10KDataset",
]

"""The OneHand10K keypoint dataset (COCO format)."""

from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.registry import register


@register
class OneHand10KDataset(BaseCocoStyleDataset):
    """OneHand10K-21 hand keypoints (Wang et al., "Mask-pose Cascaded CNN for
    2D Hand Pose Estimation from Single Color Image", TCSVT 2019).

    A COCO-format dataset with the ``onehand10k`` metainfo; see
    :class:`BaseCocoStyleDataset` for the arguments and MMPose's parsing
    rules.

    Example:

    >>> OneHand10KDataset.METAINFO
    'onehand10k'
    """

    METAINFO = "onehand10k"

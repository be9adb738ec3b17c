"""The CrowdPose keypoint dataset (COCO format)."""

from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.registry import register


@register
class CrowdPoseDataset(BaseCocoStyleDataset):
    """CrowdPose-14 (Li et al., "CrowdPose: Efficient Crowded Scenes Pose
    Estimation and A New Benchmark", CVPR 2019).

    A COCO-format dataset with the ``crowdpose`` metainfo; see
    :class:`BaseCocoStyleDataset` for the arguments and MMPose's parsing
    rules.

    Example:

    >>> CrowdPoseDataset.METAINFO
    'crowdpose'
    """

    METAINFO = "crowdpose"

"""The AP10K keypoint dataset (COCO format)."""

from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.registry import register


@register
class AP10KDataset(BaseCocoStyleDataset):
    """AP-10K animal keypoints (Yu et al., "AP-10K: A Benchmark for Animal Pose
    Estimation in the Wild", NeurIPS 2021).

    A COCO-format dataset with the ``ap10k`` metainfo; see
    :class:`BaseCocoStyleDataset` for the arguments and MMPose's parsing
    rules.

    Example:

    >>> AP10KDataset.METAINFO
    'ap10k'
    """

    METAINFO = "ap10k"

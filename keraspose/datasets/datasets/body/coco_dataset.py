"""The Coco keypoint dataset (COCO format)."""

from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.registry import register


@register
class CocoDataset(BaseCocoStyleDataset):
    """COCO-17 keypoints (Lin et al., "Microsoft COCO: Common Objects in
    Context", ECCV 2014).

    A COCO-format dataset with the ``coco`` metainfo; see
    :class:`BaseCocoStyleDataset` for the arguments and MMPose's parsing
    rules.

    Example:

    >>> CocoDataset.METAINFO
    'coco'
    """

    METAINFO = "coco"

"""Graph-mode (tf.data) data transforms with MMPose's names and defaults."""

from keraspose.datasets.transforms.albumentation import Albumentation
from keraspose.datasets.transforms.base import BaseTransform
from keraspose.datasets.transforms.bottomup_get_heatmap_mask import (
    BottomupGetHeatmapMask,
)
from keraspose.datasets.transforms.bottomup_random_affine import (
    BottomupRandomAffine,
)
from keraspose.datasets.transforms.bottomup_resize import BottomupResize
from keraspose.datasets.transforms.compose import Compose
from keraspose.datasets.transforms.generate_target import GenerateTarget
from keraspose.datasets.transforms.get_bbox_center_scale import (
    GetBBoxCenterScale,
)
from keraspose.datasets.transforms.load_image import LoadImage
from keraspose.datasets.transforms.pack_pose_inputs import PackPoseInputs
from keraspose.datasets.transforms.photometric_distortion import (
    PhotometricDistortion,
)
from keraspose.datasets.transforms.random_bbox_transform import (
    RandomBBoxTransform,
)
from keraspose.datasets.transforms.random_flip import RandomFlip
from keraspose.datasets.transforms.random_flip_around_root import (
    RandomFlipAroundRoot,
)
from keraspose.datasets.transforms.random_half_body import RandomHalfBody
from keraspose.datasets.transforms.topdown_affine import TopdownAffine
from keraspose.datasets.transforms.yolox_hsv_random_aug import YOLOXHSVRandomAug

__all__ = [
    "Albumentation",
    "BaseTransform",
    "BottomupGetHeatmapMask",
    "BottomupRandomAffine",
    "BottomupResize",
    "Compose",
    "GenerateTarget",
    "GetBBoxCenterScale",
    "LoadImage",
    "PackPoseInputs",
    "PhotometricDistortion",
    "RandomBBoxTransform",
    "RandomFlip",
    "RandomFlipAroundRoot",
    "RandomHalfBody",
    "TopdownAffine",
    "YOLOXHSVRandomAug",
]

"""Datasets, metainfo and the tf.data top-down pipeline."""

from keraspose.datasets import transforms
from keraspose.datasets.builder import build_dataloader
from keraspose.datasets.builder import build_dataset
from keraspose.datasets.datasets import AP10KDataset
from keraspose.datasets.datasets import BaseCocoStyleDataset
from keraspose.datasets.datasets import CocoDataset
from keraspose.datasets.datasets import CrowdPoseDataset
from keraspose.datasets.datasets import MpiiDataset
from keraspose.datasets.datasets import OneHand10KDataset
from keraspose.datasets.metainfo import load_metainfo
from keraspose.datasets.metainfo import parse_pose_metainfo
from keraspose.datasets.synthetic import SyntheticPoseDataset
from keraspose.datasets.tfds import TfdsPoseDataset

__all__ = [
    "AP10KDataset",
    "BaseCocoStyleDataset",
    "CocoDataset",
    "CrowdPoseDataset",
    "MpiiDataset",
    "OneHand10KDataset",
    "SyntheticPoseDataset",
    "TfdsPoseDataset",
    "build_dataloader",
    "build_dataset",
    "load_metainfo",
    "parse_pose_metainfo",
    "transforms",
]

"""Datasets (synthetic for now; COCO-style datasets come with issue 3)."""

from keraspose.datasets.synthetic import SyntheticPoseDataset

__all__ = ["SyntheticPoseDataset"]

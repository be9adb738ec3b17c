"""TensorFlow Datasets support: a local COCO-style builder and its reader.

``TfdsPoseDataset`` is importable without ``tensorflow_datasets``; the
builder names (``CocoStyleKeypoints``, ``CocoStyleKeypointsConfig``,
``build_tfds_dataset``) import it on first access, so ``import keraspose``
never imports ``tensorflow_datasets``.

Example:

>>> from keraspose.datasets.tfds import TfdsPoseDataset
>>> TfdsPoseDataset.METAINFO
'coco'
"""

import importlib

from keraspose.datasets.tfds.tfds_pose_dataset import TfdsPoseDataset

_BUILDER_NAMES = (
    "CocoStyleKeypoints",
    "CocoStyleKeypointsConfig",
    "build_tfds_dataset",
)

__all__ = [*_BUILDER_NAMES, "TfdsPoseDataset"]


def __getattr__(name):
    if name in _BUILDER_NAMES:
        try:
            module = importlib.import_module(
                "keraspose.datasets.tfds.coco_style_keypoints"
            )
        except ImportError as e:
            raise ImportError(
                f"keraspose.datasets.tfds.{name} needs the optional package "
                "'tensorflow_datasets' (pip install 'keraspose[data]')."
            ) from e
        return getattr(module, name)
    raise AttributeError(
        f"module 'keraspose.datasets.tfds' has no attribute {name!r}"
    )


def __dir__():
    return sorted(__all__)

"""Loading MMPose checkpoints into keraspose models."""

from keraspose.converters.mmpose_checkpoint import build_estimator
from keraspose.converters.mmpose_checkpoint import convert_mmpose_checkpoint
from keraspose.converters.mmpose_config import check_supported
from keraspose.converters.mmpose_config import find_unsupported
from keraspose.converters.mmpose_config import load_mmpose_config
from keraspose.converters.mmpose_config import load_mmpose_dataset_info
from keraspose.converters.pth_reader import PickledObject
from keraspose.converters.pth_reader import checkpoint_state_dict
from keraspose.converters.pth_reader import read_pth
from keraspose.converters.state_dict import LoadReport
from keraspose.converters.state_dict import export_state_dict
from keraspose.converters.state_dict import load_state_dict
from keraspose.converters.state_dict import named_weights

__all__ = [
    "LoadReport",
    "PickledObject",
    "build_estimator",
    "check_supported",
    "checkpoint_state_dict",
    "convert_mmpose_checkpoint",
    "export_state_dict",
    "find_unsupported",
    "load_mmpose_config",
    "load_mmpose_dataset_info",
    "load_state_dict",
    "named_weights",
    "read_pth",
]

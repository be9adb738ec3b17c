"""Presets named after MMPose's model-zoo configs (see :mod:`.loading`)."""

from keraspose.presets.loading import expected_sha256_prefix
from keraspose.presets.loading import fetch_weights
from keraspose.presets.loading import from_preset
from keraspose.presets.loading import is_preset
from keraspose.presets.loading import list_presets
from keraspose.presets.loading import preset_config
from keraspose.presets.loading import preset_info
from keraspose.presets.loading import resolve_weights
from keraspose.presets.loading import verify_checkpoint_hash
from keraspose.presets.table import PRESETS

__all__ = [
    "PRESETS",
    "expected_sha256_prefix",
    "fetch_weights",
    "from_preset",
    "is_preset",
    "list_presets",
    "preset_config",
    "preset_info",
    "resolve_weights",
    "verify_checkpoint_hash",
]

"""Models: backbones, necks, heads, losses, estimators, preprocessors."""

from keraspose.models import backbones
from keraspose.models import data_preprocessors
from keraspose.models import heads
from keraspose.models import losses
from keraspose.models import necks
from keraspose.models import pose_estimators
from keraspose.models import utils

__all__ = [
    "backbones",
    "data_preprocessors",
    "heads",
    "losses",
    "necks",
    "pose_estimators",
    "utils",
]

"""Backbones: images -> tuple of feature maps."""

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.backbones.cspnext import CSPNeXt
from keraspose.models.backbones.hrnet import HRNet
from keraspose.models.backbones.keras_model_backbone import KerasModelBackbone
from keraspose.models.backbones.litehrnet import LiteHRNet
from keraspose.models.backbones.mobilenet_v2 import MobileNetV2
from keraspose.models.backbones.resnet import ResidualBlock
from keraspose.models.backbones.resnet import ResNet
from keraspose.models.backbones.resnet import ResNetV1d
from keraspose.models.backbones.tcn import TCN
from keraspose.models.backbones.tcn import BasicTemporalBlock
from keraspose.models.backbones.vision_transformer import VisionTransformer

__all__ = [
    "BaseBackbone",
    "BasicTemporalBlock",
    "CSPNeXt",
    "HRNet",
    "KerasModelBackbone",
    "LiteHRNet",
    "MobileNetV2",
    "ResidualBlock",
    "ResNet",
    "ResNetV1d",
    "TCN",
    "VisionTransformer",
]

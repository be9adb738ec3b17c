"""Backbones: images -> tuple of feature maps."""

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.models.backbones.cspnext import CSPNeXt
from keraspose.models.backbones.resnet import ResidualBlock
from keraspose.models.backbones.resnet import ResNet
from keraspose.models.backbones.resnet import ResNetV1d

__all__ = ["BaseBackbone", "CSPNeXt", "ResidualBlock", "ResNet", "ResNetV1d"]

"""Building blocks shared by models (PyTorch-exact conv layers, TTA)."""

from keraspose.models.utils.channel_attention import ChannelAttention
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.conv_transpose2d import ConvTranspose2d
from keraspose.models.utils.csp_layer import CSPLayer
from keraspose.models.utils.cspnext_block import CSPNeXtBlock
from keraspose.models.utils.darknet_bottleneck import DarknetBottleneck
from keraspose.models.utils.depthwise_separable_conv_module import (
    DepthwiseSeparableConvModule,
)
from keraspose.models.utils.realnvp import RealNVP
from keraspose.models.utils.rtmcc_block import RTMCCBlock
from keraspose.models.utils.rtmcc_block import Scale
from keraspose.models.utils.scale_norm import ScaleNorm
from keraspose.models.utils.spp_bottleneck import SPPBottleneck

__all__ = [
    "CSPLayer",
    "CSPNeXtBlock",
    "ChannelAttention",
    "Conv2d",
    "ConvModule",
    "ConvTranspose2d",
    "DarknetBottleneck",
    "DepthwiseSeparableConvModule",
    "RTMCCBlock",
    "RealNVP",
    "Scale",
    "ScaleNorm",
    "SPPBottleneck",
]

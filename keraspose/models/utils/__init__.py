"""Building blocks shared by models (PyTorch-exact conv layers, TTA)."""

from keraspose.models.utils.adaptive_activation_block import (
    AdaptiveActivationBlock,
)
from keraspose.models.utils.channel_attention import ChannelAttention
from keraspose.models.utils.channel_shuffle import channel_shuffle
from keraspose.models.utils.conditional_channel_weighting import (
    ConditionalChannelWeighting,
)
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.conv_module import ConvModule
from keraspose.models.utils.conv_transpose2d import ConvTranspose2d
from keraspose.models.utils.cross_resolution_weighting import (
    CrossResolutionWeighting,
)
from keraspose.models.utils.csp_layer import CSPLayer
from keraspose.models.utils.cspnext_block import CSPNeXtBlock
from keraspose.models.utils.darknet_bottleneck import DarknetBottleneck
from keraspose.models.utils.deform_conv2d import DeformConv2d
from keraspose.models.utils.depthwise_separable_conv_module import (
    DepthwiseSeparableConvModule,
)
from keraspose.models.utils.ffn import FFN
from keraspose.models.utils.hr_module import HRModule
from keraspose.models.utils.inverted_residual import InvertedResidual
from keraspose.models.utils.iterative_head import IterativeHead
from keraspose.models.utils.layer_scale import LayerScale
from keraspose.models.utils.lite_hr_module import LiteHRModule
from keraspose.models.utils.make_divisible import make_divisible
from keraspose.models.utils.multihead_attention import MultiheadAttention
from keraspose.models.utils.patch_embed import PatchEmbed
from keraspose.models.utils.realnvp import RealNVP
from keraspose.models.utils.rescore_net import RescoreNet
from keraspose.models.utils.rtmcc_block import RTMCCBlock
from keraspose.models.utils.rtmcc_block import Scale
from keraspose.models.utils.scale_norm import ScaleNorm
from keraspose.models.utils.shuffle_unit import ShuffleUnit
from keraspose.models.utils.spatial_weighting import SpatialWeighting
from keraspose.models.utils.spp_bottleneck import SPPBottleneck
from keraspose.models.utils.stem import Stem
from keraspose.models.utils.transformer_encoder_layer import (
    TransformerEncoderLayer,
)

__all__ = [
    "AdaptiveActivationBlock",
    "DeformConv2d",
    "RescoreNet",
    "CSPLayer",
    "CSPNeXtBlock",
    "ChannelAttention",
    "ConditionalChannelWeighting",
    "Conv2d",
    "ConvModule",
    "ConvTranspose2d",
    "CrossResolutionWeighting",
    "DarknetBottleneck",
    "DepthwiseSeparableConvModule",
    "FFN",
    "HRModule",
    "InvertedResidual",
    "IterativeHead",
    "LayerScale",
    "LiteHRModule",
    "MultiheadAttention",
    "PatchEmbed",
    "RTMCCBlock",
    "RealNVP",
    "Scale",
    "ScaleNorm",
    "ShuffleUnit",
    "SpatialWeighting",
    "SPPBottleneck",
    "Stem",
    "TransformerEncoderLayer",
    "channel_shuffle",
    "make_divisible",
]

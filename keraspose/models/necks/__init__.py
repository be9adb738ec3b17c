"""Necks: feature maps -> feature maps (or pooled vectors)."""

from keraspose.models.necks.channel_mapper import ChannelMapper
from keraspose.models.necks.cspnext_pafpn import CSPNeXtPAFPN
from keraspose.models.necks.fmap_proc_neck import FeatureMapProcessor
from keraspose.models.necks.fpn import FPN
from keraspose.models.necks.gap_neck import GlobalAveragePooling

__all__ = [
    "CSPNeXtPAFPN",
    "ChannelMapper",
    "FPN",
    "FeatureMapProcessor",
    "GlobalAveragePooling",
]

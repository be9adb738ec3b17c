from keraspose.models.heads.coord_cls_heads.rtmcc_head import RTMCCHead
from keraspose.models.heads.coord_cls_heads.simcc_head import SimCCHead

__all__ = ["RTMCCHead", "SimCCHead"]

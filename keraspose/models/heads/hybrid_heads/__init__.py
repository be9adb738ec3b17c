from keraspose.models.heads.hybrid_heads.dekr_head import DEKRHead
from keraspose.models.heads.hybrid_heads.vis_head import VisPredictHead

__all__ = ["DEKRHead", "VisPredictHead"]

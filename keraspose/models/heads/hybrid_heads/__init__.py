from keraspose.models.heads.hybrid_heads.vis_head import VisPredictHead

__all__ = ["VisPredictHead"]

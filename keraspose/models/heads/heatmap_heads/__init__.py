from keraspose.models.heads.heatmap_heads.heatmap_head import HeatmapHead

__all__ = ["HeatmapHead"]

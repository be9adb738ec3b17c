from keraspose.models.heads.heatmap_heads.ae_head import (
    AssociativeEmbeddingHead,
)
from keraspose.models.heads.heatmap_heads.heatmap_head import HeatmapHead

__all__ = ["AssociativeEmbeddingHead", "HeatmapHead"]

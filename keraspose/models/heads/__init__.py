"""Heads: features -> raw outputs, losses and decoded keypoints."""

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.heads.heatmap_heads import HeatmapHead
from keraspose.models.heads.hybrid_heads import VisPredictHead

__all__ = ["BaseHead", "HeatmapHead", "VisPredictHead"]

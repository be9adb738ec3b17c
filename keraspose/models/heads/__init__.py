"""Heads: features -> raw outputs, losses and decoded keypoints."""

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.heads.coord_cls_heads import RTMCCHead
from keraspose.models.heads.coord_cls_heads import SimCCHead
from keraspose.models.heads.heatmap_heads import AssociativeEmbeddingHead
from keraspose.models.heads.heatmap_heads import HeatmapHead
from keraspose.models.heads.hybrid_heads import DEKRHead
from keraspose.models.heads.hybrid_heads import VisPredictHead
from keraspose.models.heads.regression_heads import DSNTHead
from keraspose.models.heads.regression_heads import IntegralRegressionHead
from keraspose.models.heads.regression_heads import RegressionHead
from keraspose.models.heads.regression_heads import RLEHead
from keraspose.models.heads.regression_heads import TemporalRegressionHead
from keraspose.models.heads.regression_heads import TrajectoryRegressionHead

__all__ = [
    "AssociativeEmbeddingHead",
    "BaseHead",
    "DEKRHead",
    "HeatmapHead",
    "RTMCCHead",
    "SimCCHead",
    "VisPredictHead",
    "DSNTHead",
    "IntegralRegressionHead",
    "RegressionHead",
    "RLEHead",
    "TemporalRegressionHead",
    "TrajectoryRegressionHead",
]

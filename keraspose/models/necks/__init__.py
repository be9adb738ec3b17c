"""Necks: feature maps -> feature maps (or pooled vectors)."""

from keraspose.models.necks.gap_neck import GlobalAveragePooling

__all__ = ["GlobalAveragePooling"]

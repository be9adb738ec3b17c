"""Necks: feature maps -> feature maps (none yet)."""

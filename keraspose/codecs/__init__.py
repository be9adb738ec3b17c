"""Keypoint codecs: targets for training, decoding for prediction."""

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.msra_heatmap import MSRAHeatmap

__all__ = ["BaseKeypointCodec", "MSRAHeatmap"]

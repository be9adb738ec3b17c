"""Keypoint codecs: targets for training, decoding for prediction."""

from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.integral_regression_label import IntegralRegressionLabel
from keraspose.codecs.megvii_heatmap import MegviiHeatmap
from keraspose.codecs.msra_heatmap import MSRAHeatmap
from keraspose.codecs.regression_label import RegressionLabel
from keraspose.codecs.simcc_label import SimCCLabel
from keraspose.codecs.udp_heatmap import UDPHeatmap

__all__ = [
    "BaseKeypointCodec",
    "IntegralRegressionLabel",
    "MegviiHeatmap",
    "MSRAHeatmap",
    "RegressionLabel",
    "SimCCLabel",
    "UDPHeatmap",
]

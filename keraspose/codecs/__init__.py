"""Keypoint codecs: targets for training, decoding for prediction."""

from keraspose.codecs.associative_embedding import AssociativeEmbedding
from keraspose.codecs.base import BaseKeypointCodec
from keraspose.codecs.image_pose_lifting import ImagePoseLifting
from keraspose.codecs.integral_regression_label import IntegralRegressionLabel
from keraspose.codecs.megvii_heatmap import MegviiHeatmap
from keraspose.codecs.msra_heatmap import MSRAHeatmap
from keraspose.codecs.regression_label import RegressionLabel
from keraspose.codecs.simcc_label import SimCCLabel
from keraspose.codecs.spr import SPR
from keraspose.codecs.udp_heatmap import UDPHeatmap
from keraspose.codecs.video_pose_lifting import VideoPoseLifting

__all__ = [
    "AssociativeEmbedding",
    "BaseKeypointCodec",
    "ImagePoseLifting",
    "IntegralRegressionLabel",
    "MegviiHeatmap",
    "MSRAHeatmap",
    "RegressionLabel",
    "SimCCLabel",
    "SPR",
    "UDPHeatmap",
    "VideoPoseLifting",
]

"""Pose estimators (keras.Model): top-down for now."""

from keraspose.models.pose_estimators.base import BasePoseEstimator
from keraspose.models.pose_estimators.bottomup import BottomupPoseEstimator
from keraspose.models.pose_estimators.pose_lifter import PoseLifter
from keraspose.models.pose_estimators.topdown import TopdownPoseEstimator

__all__ = ["BasePoseEstimator", "TopdownPoseEstimator"]
__all__ += ["PoseLifter"]
__all__ += ["BottomupPoseEstimator"]

"""Pose estimators (keras.Model): top-down for now."""

from keraspose.models.pose_estimators.base import BasePoseEstimator
from keraspose.models.pose_estimators.topdown import TopdownPoseEstimator

__all__ = ["BasePoseEstimator", "TopdownPoseEstimator"]

"""Helpers shared by the regression heads (not public API)."""

import keras
from keras import ops

from keraspose.codecs.integral_regression_label import IntegralRegressionLabel
from keraspose.codecs.regression_label import RegressionLabel
from keraspose.models.utils.accuracy import keypoint_pck_accuracy
from keraspose.registry import build
from keraspose.registry import get_class

_COORDINATE_CODECS = (RegressionLabel, IntegralRegressionLabel)


def build_head_loss(loss):
    """Builds a head's loss; a loss with weights (a Keras layer such as
    ``RLELoss``) is named ``loss_module`` (MMPose's attribute) and computes
    in float32."""
    if (
        isinstance(loss, dict)
        and "type" in loss
        and issubclass(get_class(loss["type"]), keras.layers.Layer)
    ):
        return build(loss, name="loss_module")
    return build(loss)


def single_in_channels(in_channels, owner):
    """``in_channels`` as an int; a list (several input features) raises."""
    if isinstance(in_channels, list | tuple):
        raise ValueError(
            f"{owner} does not support selecting multiple input "
            f"features. Received: in_channels={in_channels!r}"
        )
    return int(in_channels)


def check_positive_sizes(in_channels, num_joints, owner):
    """Raises unless ``in_channels`` and ``num_joints`` are positive."""
    if in_channels <= 0 or num_joints <= 0:
        raise ValueError(
            f"{owner} expects positive in_channels and num_joints. "
            f"Received: in_channels={in_channels!r}, "
            f"num_joints={num_joints!r}"
        )


def check_coordinate_decoder(decoder, owner):
    """Raises unless ``decoder`` is None or decodes normalised coordinates."""
    if decoder is not None and not isinstance(decoder, _COORDINATE_CODECS):
        raise ValueError(
            f"{owner} predicts normalised coordinates: its decoder must be "
            "a RegressionLabel or IntegralRegressionLabel codec. Received: "
            f"{type(decoder).__name__}"
        )


def last_feature(feats):
    return feats[-1] if isinstance(feats, list | tuple) else feats


def check_in_channels(x, in_channels, owner):
    if x.shape[-1] is not None and x.shape[-1] != in_channels:
        raise ValueError(
            f"{owner} was configured with in_channels={in_channels} but the "
            f"features have {x.shape[-1]} channels (shape {tuple(x.shape)})."
        )


def check_num_joints(outputs, labels, owner):
    if outputs.shape[1] != labels.shape[1]:
        raise ValueError(
            f"{owner} predicts {outputs.shape[1]} keypoints (num_joints) but "
            f"the targets have {labels.shape[1]}: set num_joints to the "
            "dataset's keypoint count."
        )


def regression_accuracy(coords, labels, weights):
    """MMPose's ``acc_pose`` of the regression heads: PCK at 0.05 of the
    normalised coordinates (norm factor 1)."""
    return keypoint_pck_accuracy(
        coords, labels, ops.cast(weights, "float32") > 0, thr=0.05
    )


def flip_input_size(head):
    if head.decoder is None:
        raise ValueError(
            f"{type(head).__name__} {head.name!r} has no decoder: pass "
            "`decoder=dict(type=...)` (a codec config) to decode "
            "predictions; flip test takes the input size from it."
        )
    return head.decoder.input_size


def check_flip_indices(flip_indices, owner):
    if flip_indices is None:
        raise ValueError(
            f"{owner}.predict with flip_test needs flip_indices (one per "
            "keypoint). Received: None"
        )
    return list(flip_indices)

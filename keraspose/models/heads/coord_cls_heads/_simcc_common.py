"""Loss, prediction and checks shared by the SimCC heads (private)."""

from keras import ops

from keraspose.codecs.simcc_label import SimCCLabel
from keraspose.codecs.utils.simcc import get_simcc_normalized
from keraspose.models.utils.accuracy import simcc_pck_accuracy
from keraspose.models.utils.tta import flip_vectors


def check_in_channels(in_channels, owner):
    if isinstance(in_channels, list | tuple):
        raise ValueError(
            f"{owner} does not support selecting multiple input features: "
            f"expected an int in_channels. Received: {in_channels!r}"
        )


def check_decoder(head, owner):
    """The decoder must be a SimCC codec with the head's size and ratio."""
    decoder = head.decoder
    if decoder is None:
        return
    if not isinstance(decoder, SimCCLabel):
        raise TypeError(
            f"{owner} decodes SimCC vectors: expected a SimCCLabel decoder. "
            f"Received: {type(decoder).__name__}"
        )
    if tuple(decoder.input_size) != tuple(head.input_size):
        raise ValueError(
            f"{owner}: the decoder's input_size {tuple(decoder.input_size)} "
            f"differs from the head's input_size {tuple(head.input_size)}."
        )
    if float(decoder.simcc_split_ratio) != float(head.simcc_split_ratio):
        raise ValueError(
            f"{owner}: the decoder's simcc_split_ratio "
            f"{decoder.simcc_split_ratio} differs from the head's "
            f"simcc_split_ratio {head.simcc_split_ratio}."
        )
    if tuple(decoder.label_size) != tuple(head.simcc_size):
        raise ValueError(
            f"{owner}: input_size * simcc_split_ratio is not an integer, so "
            f"the codec's round() gives {decoder.label_size} bins but the "
            f"head's int() gives {head.simcc_size} (MMPose's sizes); choose "
            "a ratio that gives whole bins."
        )


def check_flatten(shape, expected_hw, owner, what):
    """Static check that an (H, W) map flattens to the expected size."""
    h, w = shape[1], shape[2]
    if h is None or w is None:
        return
    if h * w != expected_hw[0] * expected_hw[1]:
        raise ValueError(
            f"{owner} expects {what} of size {expected_hw} (w, h), "
            f"{expected_hw[0] * expected_hw[1]} positions flattened into its "
            f"linear layer. Received a map of {w}x{h} (w x h): set "
            "in_featuremap_size to the backbone's output size (input_size // "
            "stride)."
        )


def flatten_keypoint_maps(x):
    """(B, H, W, C) -> (B, C, H * W), each map flattened row-major.

    This is PyTorch's ``flatten(2)`` of the channels-first map, so linear
    weights over the flattened positions map one-to-one.
    """
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    x = ops.transpose(x, (0, 3, 1, 2))
    return ops.reshape(x, (-1, c, h * w))


def simcc_loss_by_outputs(head, outputs, targets, owner):
    pred_x, pred_y = outputs
    gt_x = head._require(targets, "keypoint_x_labels", f"{owner}.loss")
    gt_y = head._require(targets, "keypoint_y_labels", f"{owner}.loss")
    weights = head._require(targets, "keypoint_weights", f"{owner}.loss")
    if pred_x.shape[1] != gt_x.shape[1]:
        raise ValueError(
            f"{owner} predicts {pred_x.shape[1]} keypoints (out_channels) "
            f"but the targets have {gt_x.shape[1]}: set out_channels to the "
            "dataset's keypoint count."
        )
    for axis, pred, gt in (("x", pred_x, gt_x), ("y", pred_y, gt_y)):
        if pred.shape[-1] != gt.shape[-1]:
            raise ValueError(
                f"{owner} outputs {pred.shape[-1]} {axis} bins but the "
                f"targets have {gt.shape[-1]}: the codec's input_size and "
                "simcc_split_ratio must match the head's."
            )
    loss = head.loss_module((pred_x, pred_y), (gt_x, gt_y), weights)
    acc = simcc_pck_accuracy(
        (pred_x, pred_y), (gt_x, gt_y), head.simcc_split_ratio, weights
    )
    return {"loss_kpt": loss, "acc_pose": acc}


def simcc_predict(head, feats, test_cfg, flip_indices, heatmap_sigma):
    """MMPose's SimCC ``predict``: optional flip test, decode, 2-D maps."""
    test_cfg = test_cfg or {}
    if test_cfg.get("flip_test", False):
        if flip_indices is None:
            raise ValueError(
                "flip_test needs flip_indices (one per keypoint). Received: "
                "None"
            )
        _feats, _feats_flip = feats
        pred_x, pred_y = head(_feats, training=False)
        flip_x, flip_y = head(_feats_flip, training=False)
        flip_x, flip_y = flip_vectors(
            ops.cast(flip_x, "float32"),
            ops.cast(flip_y, "float32"),
            flip_indices,
        )
        pred_x = (ops.cast(pred_x, "float32") + flip_x) * 0.5
        pred_y = (ops.cast(pred_y, "float32") + flip_y) * 0.5
    else:
        pred_x, pred_y = head(feats, training=False)
        pred_x = ops.cast(pred_x, "float32")
        pred_y = ops.cast(pred_y, "float32")
    preds = head.decode((pred_x, pred_y))
    if test_cfg.get("output_heatmaps", False):
        sx, sy = heatmap_sigma or (None, None)
        norm_x = get_simcc_normalized(pred_x, sx)
        norm_y = get_simcc_normalized(pred_y, sy)
        # (B, K, Wy, 1) * (B, K, 1, Wx) -> channels-last (B, Wy, Wx, K)
        maps = ops.expand_dims(norm_y, -1) * ops.expand_dims(norm_x, -2)
        preds["heatmaps"] = ops.transpose(maps, (0, 2, 3, 1))
        preds["keypoint_x_labels"] = norm_x
        preds["keypoint_y_labels"] = norm_y
    return preds


def split_visibility(preds):
    """Moves a decoded ``(scores, visibility)`` pair to its own key."""
    scores = preds["keypoint_scores"]
    if isinstance(scores, tuple | list) and len(scores) == 2:
        preds["keypoint_scores"], preds["keypoints_visible"] = scores
    return preds

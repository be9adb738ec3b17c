"""Temporal regression head of VideoPose3D: TCN features -> 3D keypoints."""

from keras import ops

from keraspose.models.backbones.tcn import conv1d
from keraspose.models.heads.base_head import BaseHead
from keraspose.models.heads.regression_heads import utils as reg_utils
from keraspose.models.utils.tta import flip_coordinates
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg


def masked_mpjpe(pred, gt, mask):
    """Mean Euclidean error over the keypoints where ``mask`` is true.

    MMPose's ``keypoint_mpjpe`` (no alignment) in ``keras.ops``: the norm
    of ``pred - gt`` over the last axis, averaged over the masked entries
    (``pred`` and ``gt`` broadcast, as NumPy does). MMPose asserts that some
    entry is masked; here an empty mask gives 0.
    """
    pred = ops.cast(pred, "float32")
    gt = ops.cast(gt, "float32")
    err = ops.sqrt(ops.sum(ops.square(pred - gt), axis=-1))
    mask = ops.cast(ops.broadcast_to(mask, ops.shape(err)), "float32")
    return ops.sum(err * mask) / ops.maximum(ops.sum(mask), 1.0)


def concat_samples(value, ndim):
    """Merges a leading per-sample axis like MMPose's ``torch.cat`` over the
    samples' labels: (B, N, ...) -> (B * N, ...) when ``value`` has one axis
    more than ``ndim``."""
    value = ops.convert_to_tensor(value)
    if len(value.shape) == ndim + 1:
        return ops.reshape(value, (-1,) + tuple(value.shape[2:]))
    return value


def output_flip_indices(flip_indices, num_joints, decoder):
    """Flip indices of the predicted joints: the input keypoints' indices,
    or, when the codec removed the root joint from the targets, the same
    pairs without the root (indices above it shifted down)."""
    indices = [int(i) for i in flip_indices]
    if len(indices) == num_joints:
        return indices
    root = list(getattr(decoder, "root_index", None) or [])
    remove = getattr(decoder, "remove_root", False)
    if remove and len(root) == 1 and len(indices) == num_joints + 1:
        r = int(root[0])
        if indices[r] == r:
            return [i - (i > r) for j, i in enumerate(indices) if j != r]
    raise ValueError(
        f"flip_indices has {len(indices)} entries but the head predicts "
        f"{num_joints} joints (and they are not the input keypoints with "
        "the removed root joint)."
    )


@register
class TemporalRegressionHead(BaseHead):
    """3D keypoint regression head of VideoPose3D (MMPose's
    ``TemporalRegressionHead``).

    Reference: Pavllo et al., "3D human pose estimation in video with
    temporal convolutions and semi-supervised training", CVPR 2019.

    A 1x1 temporal convolution ``conv`` maps the last feature sequence
    (B, T', in_channels) to ``num_joints * 3`` channels, reshaped to
    (-1, num_joints, 3) in PyTorch's channel-first memory order (MMPose's
    reshape): (B, num_joints, 3) when T' = 1, as in every MMPose config
    (with T' > 1 MMPose mixes frames into the batch axis; so does this
    head). The convolution keeps PyTorch's default initialisation (MMPose's
    default ``init_cfg`` only covers ``Linear`` layers).

    Loss: ``loss(outputs, lifting_target_label, lifting_target_weight[...,
    None])`` logged as ``loss_pose3d``, and ``mpjpe`` (MMPose's
    ``keypoint_mpjpe`` on the normalised outputs with mask
    ``lifting_target_weight > 0``). Targets with a per-sample axis
    (B, 1, K, 3) are merged like MMPose's concatenation.

    ``predict`` decodes through the codec: ``decoder.decode(coords,
    target_root)`` (denormalised, with the root added back when
    ``target_root`` is given, as MMPose's ``predict`` does with the
    samples' ``target_root``). With ``test_cfg["flip_test"]`` (``feats =
    [feats, feats_flipped]``), the flipped pass is flipped back with
    ``flip_coordinates(..., input_size=(1, 1))`` (x -> -x with
    ``shift_coords``, the default: a mirror around the root of the
    root-relative output) and averaged, as MMPose's
    ``MotionRegressionHead``; MMPose's ``TemporalRegressionHead`` itself
    cannot run flip test (it convolves the list of both passes).

    Args:
        in_channels: channels of the last feature sequence.
        num_joints: number of predicted joints.
        loss: loss config (``MSELoss`` with target weights).
        decoder: lifting codec config (``ImagePoseLifting`` /
            ``VideoPoseLifting``).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="TemporalRegressionHead",
    ...                             in_channels=8, num_joints=4))
    >>> head((np.zeros((2, 1, 8), "float32"),)).shape
    (2, 4, 3)
    """

    #: target keys and log names (the trajectory head uses others)
    weight_key = "lifting_target_weight"
    loss_name = "loss_pose3d"
    acc_name = "mpjpe"

    def __init__(
        self,
        in_channels,
        num_joints,
        loss=dict(type="MSELoss", use_target_weight=True),  # noqa: B006
        decoder=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(decoder=decoder, **kwargs)
        owner = type(self).__name__
        warn_unloadable_init_cfg(init_cfg, owner)
        self.in_channels = reg_utils.single_in_channels(in_channels, owner)
        self.num_joints = int(num_joints)
        reg_utils.check_positive_sizes(self.in_channels, self.num_joints, owner)
        if self.decoder is not None and not hasattr(self.decoder, "decode"):
            raise ValueError(
                f"{owner} needs a lifting codec as decoder. Received: "
                f"{type(self.decoder).__name__}"
            )
        self.loss_module = build(loss)
        self.conv = conv1d(
            self.num_joints * 3, 1, name="conv", dtype=self.dtype_policy
        )

    @property
    def out_channels(self):
        """The number of predicted joints (``num_joints``)."""
        return self.num_joints

    def call(self, feats, training=None):
        x = reg_utils.last_feature(feats)
        if len(x.shape) != 3 or (
            x.shape[-1] is not None and x.shape[-1] != self.in_channels
        ):
            raise ValueError(
                f"{type(self).__name__} expects feature sequences of shape "
                f"(B, T, {self.in_channels}). Received shape "
                f"{tuple(x.shape)}"
            )
        x = self.conv(x)
        if x.shape[1] != 1:  # PyTorch's (B, C, T) memory order
            x = ops.transpose(x, (0, 2, 1))
        return ops.reshape(x, (-1, self.num_joints, 3))

    def log_names(self, train_cfg=None):
        return [self.loss_name, self.acc_name]

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        owner = f"{type(self).__name__}.loss"
        labels = self._require(targets, "lifting_target_label", owner)
        weights = self._require(targets, self.weight_key, owner)
        labels = ops.cast(concat_samples(labels, 3), "float32")
        weights = ops.cast(concat_samples(weights, 2), "float32")
        if labels.shape[-1] != 3 or len(weights.shape) != 2:
            raise ValueError(
                f"{owner} expects lifting_target_label (B, K, 3) and "
                f"{self.weight_key} (B, K). Received shapes "
                f"{tuple(labels.shape)} and {tuple(weights.shape)}"
            )
        loss = self.loss_module(outputs, labels, weights[..., None])
        return {
            self.loss_name: loss,
            self.acc_name: masked_mpjpe(outputs, labels, weights > 0),
        }

    def _flip_back(self, coords, test_cfg, flip_indices):
        indices = output_flip_indices(
            flip_indices, self.num_joints, self.decoder
        )
        return flip_coordinates(
            coords,
            flip_indices=indices,
            shift_coords=test_cfg.get("shift_coords", True),
            input_size=(1, 1),
        )

    def predict(
        self, feats, test_cfg=None, flip_indices=None, target_root=None
    ):
        """Decoded predictions (``keypoints`` (B, K, 3), scores (B, K)).

        Args:
            feats: features, or ``[feats, flipped_feats]`` with flip test.
            test_cfg: ``flip_test`` and ``shift_coords``.
            flip_indices: mirror partner of each input keypoint.
            target_root: (B, 1, 3) root positions added back by the codec,
                or None for root-relative keypoints.
        """
        test_cfg = test_cfg or {}
        if test_cfg.get("flip_test", False):
            if flip_indices is None:
                raise ValueError(
                    f"{type(self).__name__}.predict with flip_test needs "
                    "flip_indices. Received: None"
                )
            _feats, _feats_flip = feats
            coords = ops.cast(self(_feats, training=False), "float32")
            flipped = ops.cast(self(_feats_flip, training=False), "float32")
            flipped = self._flip_back(flipped, test_cfg, flip_indices)
            coords = (coords + flipped) * 0.5
        else:
            coords = ops.cast(self(feats, training=False), "float32")
        return self.decode(coords, target_root)

    def decode(self, outputs, target_root=None):
        """Decodes (B, K, 3) outputs through the lifting codec."""
        if self.decoder is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} has no decoder: pass "
                "`decoder=dict(type=...)` (a lifting codec config) to "
                "decode predictions."
            )
        if target_root is not None:
            target_root = ops.cast(target_root, "float32")
        keypoints, scores = self.decoder.decode(
            outputs, target_root=target_root
        )
        return {"keypoints": keypoints, "keypoint_scores": scores}

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            num_joints=self.num_joints,
            loss=to_config(self.loss_module),
            decoder=to_config(self.decoder),
        )
        return config

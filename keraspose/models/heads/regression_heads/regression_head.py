"""Top-down coordinate regression head (DeepPose)."""

import keras
from keras import ops

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.heads.regression_heads import utils as reg_utils
from keraspose.models.losses.rle_loss import RLELoss
from keraspose.models.utils.tta import flip_coordinates
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg


@register
class RegressionHead(BaseHead):
    """Regresses normalised keypoint coordinates with one linear layer.

    Reference: Toshev & Szegedy, "DeepPose: Human Pose Estimation via Deep
    Neural Networks", CVPR 2014. Arguments, defaults, initialisation
    (normal, std 0.01, zero bias) and the ``loss_kpt`` / ``acc_pose`` logs
    follow MMPose's ``RegressionHead``; outputs are (B, K, 2) coordinates
    normalised by the input size.

    As in MMPose the head flattens its input: MMPose's configs put a
    ``GlobalAveragePooling`` neck before it, so ``fc`` sees (B, C) vectors,
    and a (B, H, W, C) map with ``in_channels == C * H * W`` is flattened in
    PyTorch's (C, H, W) order (so the ``fc`` weights map one to one). A map
    with ``in_channels == C``, which MMPose would reject, is average-pooled
    first: the numbers of that neck.

    The loss is called as MMPose does, ``loss(outputs, keypoint_labels,
    keypoint_weights[..., None])``; ``acc_pose`` is MMPose's
    ``keypoint_pck_accuracy`` at 0.05 on the normalised coordinates. With
    ``test_cfg["flip_test"]`` the flipped pass goes through
    ``flip_coordinates`` (``shift_coords``, True by default) and the two
    are averaged.

    Args:
        in_channels: channels of the last feature map.
        num_joints: number of keypoints K.
        loss: loss config (``SmoothL1Loss`` with target weights).
        decoder: codec config used by ``predict`` (``RegressionLabel``).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="RegressionHead", in_channels=8,
    ...     num_joints=3, decoder=dict(type="RegressionLabel",
    ...                                input_size=(32, 32))))
    >>> head((np.zeros((2, 4, 4, 8), "float32"),)).shape
    (2, 3, 2)
    """

    #: values predicted per keypoint
    num_values = 2

    def __init__(
        self,
        in_channels,
        num_joints,
        loss=dict(type="SmoothL1Loss", use_target_weight=True),  # noqa: B006
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
        self.loss_module = reg_utils.build_head_loss(loss)
        self._check_loss()
        reg_utils.check_coordinate_decoder(self.decoder, owner)
        self.fc = keras.layers.Dense(
            self.num_joints * self.num_values,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
            bias_initializer="zeros",
            name="fc",
            dtype=self.dtype_policy,
        )

    def _check_loss(self):
        if isinstance(self.loss_module, RLELoss):
            raise ValueError(
                "RLELoss needs the 4-value output (coordinates and sigmas) "
                "of an RLEHead; RegressionHead predicts 2 values per "
                "keypoint. Use type='RLEHead'."
            )

    @property
    def out_channels(self):
        """The number of keypoints (``num_joints``), as other heads name it."""
        return self.num_joints

    def call(self, feats, training=None):
        x = reg_utils.last_feature(feats)
        if len(x.shape) == 4:
            _, h, w, c = x.shape
            if c == self.in_channels:
                x = ops.mean(x, axis=(1, 2))
            elif None in (h, w, c) or h * w * c != self.in_channels:
                raise ValueError(
                    f"{type(self).__name__} was configured with in_channels="
                    f"{self.in_channels} but the features have shape "
                    f"{tuple(x.shape)}: expected C (pooled, like MMPose's "
                    "`neck=dict(type='GlobalAveragePooling')`) or C*H*W "
                    "(flattened) to equal in_channels."
                )
            else:
                x = ops.reshape(ops.transpose(x, (0, 3, 1, 2)), (-1, h * w * c))
        elif len(x.shape) == 2:
            reg_utils.check_in_channels(
                x, self.in_channels, type(self).__name__
            )
        else:
            raise ValueError(
                f"{type(self).__name__} expects pooled features (B, C) or a "
                "(B, H, W, C) map to flatten. Received shape "
                f"{tuple(x.shape)}"
            )
        x = self.fc(x)
        return ops.reshape(x, (-1, self.num_joints, self.num_values))

    def log_names(self, train_cfg=None):
        return ["loss_kpt", "acc_pose"]

    def _targets(self, outputs, targets):
        owner = f"{type(self).__name__}.loss"
        labels = self._require(targets, "keypoint_labels", owner)
        weights = self._require(targets, "keypoint_weights", owner)
        reg_utils.check_num_joints(outputs, labels, type(self).__name__)
        return labels, ops.cast(weights, "float32")

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        labels, weights = self._targets(outputs, targets)
        return {
            "loss_kpt": self.loss_module(outputs, labels, weights[..., None]),
            "acc_pose": reg_utils.regression_accuracy(outputs, labels, weights),
        }

    def _merge_flip(self, feats, test_cfg, flip_indices):
        """Outputs of the plain and flipped passes, averaged."""
        _feats, _feats_flip = feats
        indices = reg_utils.check_flip_indices(
            flip_indices, type(self).__name__
        )
        coords = self._activate(self(_feats, training=False))
        flipped = flip_coordinates(
            self(_feats_flip, training=False),
            flip_indices=indices,
            shift_coords=test_cfg.get("shift_coords", True),
            input_size=reg_utils.flip_input_size(self),
        )
        return (coords + self._activate(flipped)) * 0.5

    def _activate(self, outputs):
        """Raw outputs -> what is decoded (float32 coordinates)."""
        return ops.cast(outputs, "float32")

    def predict(self, feats, test_cfg=None, flip_indices=None):
        test_cfg = test_cfg or {}
        if test_cfg.get("flip_test", False):
            coords = self._merge_flip(feats, test_cfg, flip_indices)
        else:
            coords = self._activate(self(feats, training=False))
        return self.decode(coords)

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            num_joints=self.num_joints,
            loss=to_config(self.loss_module),
            decoder=to_config(self.decoder),
        )
        return config

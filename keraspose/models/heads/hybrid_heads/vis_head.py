"""Per-keypoint visibility prediction around any head."""

import keras
from keras import ops

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.utils.accuracy import binary_accuracy
from keraspose.models.utils.tta import flip_visibility
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config


@register
class VisPredictHead(BaseHead):
    """Wraps a pose head and adds keypoint visibility prediction.

    Visibility comes from the last feature map: global average pooling
    (skipped for already pooled (B, C) features) -> linear -> sigmoid (when
    the loss says ``use_sigmoid``), as in MMPose's ``VisPredictHead``. The
    visibility labels are the codec's ``keypoint_weights``;
    ``keypoints_visible_weights`` in the targets, if present, weight the
    loss when ``use_target_weight`` is set.

    Only the :class:`BaseHead` contract of the wrapped head is used, so any
    head works. Raw outputs are ``(pose_outputs, visibility)``.

    Args:
        pose_cfg: config (or object) of the wrapped head; must give
            ``in_channels`` and ``out_channels`` (or ``num_joints``).
        loss: visibility loss (``BCELoss(use_sigmoid=True)`` by default).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="VisPredictHead", pose_cfg=dict(
    ...     type="HeatmapHead", in_channels=8, out_channels=3,
    ...     deconv_out_channels=None)))
    >>> pose, vis = head((np.zeros((2, 4, 4, 8), "float32"),))
    >>> vis.shape
    (2, 3)
    """

    def __init__(self, pose_cfg, loss=None, init_cfg=None, **kwargs):
        super().__init__(**kwargs)
        loss = loss or {
            "type": "BCELoss",
            "use_target_weight": False,
            "use_sigmoid": True,
        }
        self.pose_head = build(
            pose_cfg, name="pose_head", dtype=self.dtype_policy
        )
        if not isinstance(self.pose_head, BaseHead):
            raise TypeError(
                "VisPredictHead expects pose_cfg to build a keraspose head. "
                f"Received: {type(self.pose_head).__name__}"
            )
        self.in_channels = getattr(self.pose_head, "in_channels", None)
        out = (
            getattr(self.pose_head, "num_keypoints", None)
            or getattr(self.pose_head, "num_joints", None)
            or getattr(self.pose_head, "out_channels", None)
        )
        if out is None:
            raise ValueError(
                "VisPredictHead requires 'num_joints' or 'out_channels' in "
                "the pose_cfg."
            )
        self.out_channels = int(out)
        self.loss_module = build(loss)
        self.use_sigmoid = bool(getattr(self.loss_module, "use_sigmoid", False))
        self.vis_head = keras.layers.Dense(
            self.out_channels,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
            name="vis_head_2",
            dtype=self.dtype_policy,
        )

    @property
    def decoder(self):
        return self.pose_head.decoder

    @decoder.setter
    def decoder(self, value):
        if value is not None:
            raise ValueError("VisPredictHead decodes through its pose head.")

    def vis_forward(self, feats):
        x = feats[-1] if isinstance(feats, list | tuple) else feats
        if len(x.shape) == 4:  # pooled features (a GAP neck) pass as is
            x = ops.mean(x, axis=(1, 2))
        x = self.vis_head(x)
        if self.use_sigmoid:
            x = ops.sigmoid(x)
        return x

    def call(self, feats, training=None):
        return self.pose_head(feats, training=training), self.vis_forward(feats)

    def log_names(self, train_cfg=None):
        return ["loss_vis", "acc_vis"] + self.pose_head.log_names(train_cfg)

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        pose_outputs, vis = outputs
        labels = self._require(targets, "keypoint_weights", "VisPredictHead")
        labels = ops.cast(labels, "float32")
        weights = None
        if getattr(self.loss_module, "use_target_weight", False):
            weights = targets.get("keypoints_visible_weights")
            if weights is None:
                weights = ops.ones_like(labels)
        vis = ops.cast(vis, "float32")
        losses = {
            "loss_vis": self.loss_module(vis, labels, weights),
            "acc_vis": binary_accuracy(
                vis if self.use_sigmoid else ops.sigmoid(vis), labels, weights
            ),
        }
        losses.update(
            self.pose_head.loss_by_outputs(pose_outputs, targets, train_cfg)
        )
        return losses

    def predict(self, feats, test_cfg=None, flip_indices=None):
        test_cfg = test_cfg or {}
        if test_cfg.get("flip_test", False):
            _feats, _feats_flip = feats
            vis = self.vis_forward(_feats)
            vis_flip = flip_visibility(
                self.vis_forward(_feats_flip), flip_indices
            )
            vis = (vis + vis_flip) * 0.5
        else:
            vis = self.vis_forward(feats)
        if not self.use_sigmoid:
            vis = ops.sigmoid(vis)
        preds = self.pose_head.predict(feats, test_cfg, flip_indices)
        preds["keypoints_visible"] = ops.cast(vis, "float32")
        return preds

    def get_config(self):
        config = super().get_config()
        config.update(
            pose_cfg=to_config(self.pose_head),
            loss=to_config(self.loss_module),
        )
        return config

"""Top-down integral regression head (soft-argmax over heatmaps)."""

import math

import keras
from keras import ops

from keraspose.models.heads.base_head import BaseHead
from keraspose.models.heads.heatmap_heads.heatmap_head import HeatmapHead
from keraspose.models.heads.regression_heads import utils as reg_utils
from keraspose.models.utils.conv2d import Conv2d
from keraspose.models.utils.tta import flip_coordinates
from keraspose.models.utils.tta import flip_heatmaps
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg
from keraspose.utils.checks import size_pair


@register
class IntegralRegressionHead(BaseHead):
    """Heatmaps, a spatial softmax and their expected (x, y) coordinates.

    Reference: Sun et al., "Integral Human Pose Regression", ECCV 2018
    (``debias``: Gu et al., "Removing the Bias of Integral Pose
    Regression", ICCV 2021). Follows MMPose's ``IntegralRegressionHead``:

    * Heatmap branch: with deconvolutions, a :class:`HeatmapHead` named
      ``simplebaseline_head`` (deconvs, optional convs, final 1x1 conv);
      without, an optional final convolution ``final_layer`` (PyTorch's
      default init, as in MMPose) on the last feature map. The heatmap size
      is ``in_featuremap_size * 2 ** len(deconv_out_channels)``.
    * ``softmax(beta * x)`` over each channel's H x W pixels gives the
      heatmaps; the coordinates are their expectations over MMPose's grids
      ``arange(W) / W`` and ``arange(H) / H`` (so pixel i maps to i / W,
      not to its centre). With ``debias``, ``C = sum(exp(x))`` (of the raw
      logits, without ``beta``: MMPose's formula) and ``coord = C / (C - 1)
      * (coord - 1 / (2 C))``.

    ``call`` returns ``(coords (B, K, 2), heatmaps (B, H, W, K))``; both are
    computed in float32 whatever the dtype policy (softmax and expectation
    are precision-sensitive). The loss is called as
    ``loss(coords, keypoint_labels, keypoint_weights)`` (``SmoothL1Loss``
    with target weights by default); ``acc_pose`` is MMPose's PCK at 0.05
    of the normalised coordinates. Flip test flips the coordinates
    (``shift_coords``, True by default) and the heatmaps (``flip_heatmaps``,
    ``shift_heatmap``, False by default); ``output_heatmaps`` returns the
    averaged heatmaps.

    Args:
        in_channels: channels of the last feature map.
        in_featuremap_size: size (w, h) of the last feature map.
        num_joints: number of keypoints K.
        debias: remove the bias of the soft-argmax.
        beta: softmax temperature multiplier.
        deconv_out_channels: output channels of each deconvolution, or
            None/() for none.
        deconv_kernel_sizes: kernel size (4, 3 or 2) of each deconvolution.
        conv_out_channels: output channels of each extra convolution.
        conv_kernel_sizes: kernel size of each extra convolution.
        final_layer: dict of the final conv (``kernel_size``, ``padding``)
            or None.
        loss: loss config.
        decoder: codec config used by ``predict``
            (``IntegralRegressionLabel`` or ``RegressionLabel``).
        init_cfg: accepted for MMPose compatibility.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> head = keraspose.build(dict(type="IntegralRegressionHead",
    ...     in_channels=8, in_featuremap_size=(4, 4), num_joints=3,
    ...     deconv_out_channels=(8,), deconv_kernel_sizes=(4,)))
    >>> coords, heatmaps = head((np.zeros((2, 4, 4, 8), "float32"),))
    >>> coords.shape, heatmaps.shape
    ((2, 3, 2), (2, 8, 8, 3))
    """

    def __init__(
        self,
        in_channels,
        in_featuremap_size,
        num_joints,
        debias=False,
        beta=1.0,
        deconv_out_channels=(256, 256, 256),
        deconv_kernel_sizes=(4, 4, 4),
        conv_out_channels=None,
        conv_kernel_sizes=None,
        final_layer=dict(kernel_size=1),  # noqa: B006 (MMPose default)
        loss=dict(type="SmoothL1Loss", use_target_weight=True),  # noqa: B006
        decoder=None,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(decoder=decoder, **kwargs)
        owner = type(self).__name__
        warn_unloadable_init_cfg(init_cfg, owner)
        self.in_channels = reg_utils.single_in_channels(in_channels, owner)
        self.in_featuremap_size = size_pair(
            in_featuremap_size, "in_featuremap_size", allow_int=True
        )
        self.num_joints = int(num_joints)
        self.debias = bool(debias)
        self.beta = float(beta)
        self.deconv_out_channels = tuple(deconv_out_channels or ())
        self.deconv_kernel_sizes = tuple(deconv_kernel_sizes or ())
        self.conv_out_channels = tuple(conv_out_channels or ())
        self.conv_kernel_sizes = tuple(conv_kernel_sizes or ())
        self.final_layer_cfg = (
            None if final_layer is None else dict(final_layer)
        )
        self.loss_module = reg_utils.build_head_loss(loss)
        reg_utils.check_coordinate_decoder(self.decoder, owner)
        dt = self.dtype_policy
        num_deconv = len(self.deconv_out_channels)
        self.final_layer = None
        if num_deconv:
            self.heatmap_size = tuple(
                s * 2**num_deconv for s in self.in_featuremap_size
            )
            self.simplebaseline_head = HeatmapHead(
                in_channels=self.in_channels,
                out_channels=self.num_joints,
                deconv_out_channels=self.deconv_out_channels,
                deconv_kernel_sizes=self.deconv_kernel_sizes,
                conv_out_channels=self.conv_out_channels,
                conv_kernel_sizes=self.conv_kernel_sizes,
                final_layer=self.final_layer_cfg,
                name="simplebaseline_head",
                dtype=dt,
            )
            channels = (
                self.num_joints
                if final_layer is not None
                else (self.conv_out_channels or self.deconv_out_channels)[-1]
            )
        else:
            self.simplebaseline_head = None
            self.heatmap_size = self.in_featuremap_size
            channels = self.in_channels
            if final_layer is not None:
                self.final_layer = self._build_final_layer(self.final_layer_cfg)
                channels = self.num_joints
        if channels != self.num_joints:
            raise ValueError(
                f"{owner} needs one heatmap channel per keypoint: without a "
                f"final layer its heatmaps have {channels} channels but "
                f"num_joints={self.num_joints}. Keep final_layer or match "
                "the channels."
            )

    def _build_final_layer(self, cfg):
        cfg = dict(cfg)
        kernel_size = cfg.pop("kernel_size", 1)
        padding = cfg.pop("padding", 0)
        strides = cfg.pop("stride", 1)
        use_bias = cfg.pop("bias", True)
        if cfg:
            raise ValueError(
                "final_layer supports kernel_size, padding, stride and bias. "
                f"Received other keys: {sorted(cfg)}"
            )
        ks = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
        fan_in = self.in_channels * ks * ks
        bound = 1.0 / math.sqrt(fan_in)
        return Conv2d(
            self.num_joints,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=use_bias,
            # PyTorch's default Conv2d init (MMPose leaves it)
            kernel_initializer=keras.initializers.VarianceScaling(
                scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
            ),
            bias_initializer=keras.initializers.RandomUniform(-bound, bound),
            name="final_layer",
            dtype=self.dtype_policy,
        )

    @property
    def out_channels(self):
        """The number of keypoints (``num_joints``), as other heads name it."""
        return self.num_joints

    def _heatmap_logits(self, feats, training=None):
        x = reg_utils.last_feature(feats)
        reg_utils.check_in_channels(x, self.in_channels, type(self).__name__)
        if self.simplebaseline_head is not None:
            return self.simplebaseline_head(feats, training=training)
        if self.final_layer is not None:
            x = self.final_layer(x)
        return x

    def call(self, feats, training=None):
        x = self._heatmap_logits(feats, training=training)
        w, h = self.heatmap_size
        size = tuple(x.shape[1:3])
        if None not in size and size != (h, w):
            raise ValueError(
                f"{type(self).__name__} expects heatmaps of size (h, w) = "
                f"{(h, w)} (in_featuremap_size {self.in_featuremap_size} "
                f"times 2 ** {len(self.deconv_out_channels)}) but got "
                f"{tuple(x.shape[1:3])}: check in_featuremap_size against "
                "the input size."
            )
        x = ops.cast(x, "float32")
        k = x.shape[-1]
        flat = ops.reshape(x * self.beta, (-1, h * w, k))
        heatmaps = ops.reshape(ops.softmax(flat, axis=1), (-1, h, w, k))
        grid_x = ops.arange(w, dtype="float32") / float(w)
        grid_y = ops.arange(h, dtype="float32") / float(h)
        pred_x = ops.sum(heatmaps * grid_x[None, None, :, None], axis=(1, 2))
        pred_y = ops.sum(heatmaps * grid_y[None, :, None, None], axis=(1, 2))
        if self.debias:
            c = ops.sum(ops.exp(x), axis=(1, 2))
            pred_x = c / (c - 1.0) * (pred_x - 1.0 / (2.0 * c))
            pred_y = c / (c - 1.0) * (pred_y - 1.0 / (2.0 * c))
        coords = ops.stack([pred_x, pred_y], axis=-1)
        return coords, heatmaps

    def log_names(self, train_cfg=None):
        return ["loss_kpt", "acc_pose"]

    def _targets(self, coords, targets):
        owner = f"{type(self).__name__}.loss"
        labels = self._require(targets, "keypoint_labels", owner)
        weights = self._require(targets, "keypoint_weights", owner)
        reg_utils.check_num_joints(coords, labels, type(self).__name__)
        return labels, ops.cast(weights, "float32")

    def loss_by_outputs(self, outputs, targets, train_cfg=None):
        coords, _ = outputs
        labels, weights = self._targets(coords, targets)
        return {
            "loss_kpt": self.loss_module(coords, labels, weights),
            "acc_pose": reg_utils.regression_accuracy(coords, labels, weights),
        }

    def predict(self, feats, test_cfg=None, flip_indices=None):
        test_cfg = test_cfg or {}
        if test_cfg.get("flip_test", False):
            _feats, _feats_flip = feats
            indices = reg_utils.check_flip_indices(
                flip_indices, type(self).__name__
            )
            coords, heatmaps = self(_feats, training=False)
            coords_flip, heatmaps_flip = self(_feats_flip, training=False)
            coords_flip = flip_coordinates(
                coords_flip,
                flip_indices=indices,
                shift_coords=test_cfg.get("shift_coords", True),
                input_size=reg_utils.flip_input_size(self),
            )
            heatmaps_flip = flip_heatmaps(
                heatmaps_flip,
                flip_indices=indices,
                flip_mode="heatmap",
                shift_heatmap=test_cfg.get("shift_heatmap", False),
            )
            coords = (coords + coords_flip) * 0.5
            heatmaps = (heatmaps + heatmaps_flip) * 0.5
        else:
            coords, heatmaps = self(feats, training=False)
        preds = self.decode(coords)
        if test_cfg.get("output_heatmaps", False):
            preds["heatmaps"] = heatmaps
        return preds

    def get_config(self):
        config = super().get_config()
        config.update(
            in_channels=self.in_channels,
            in_featuremap_size=self.in_featuremap_size,
            num_joints=self.num_joints,
            debias=self.debias,
            beta=self.beta,
            deconv_out_channels=self.deconv_out_channels,
            deconv_kernel_sizes=self.deconv_kernel_sizes,
            conv_out_channels=self.conv_out_channels,
            conv_kernel_sizes=self.conv_kernel_sizes,
            final_layer=self.final_layer_cfg,
            loss=to_config(self.loss_module),
            decoder=to_config(self.decoder),
        )
        return config

"""Pose lifter: 2D keypoint sequences in, 3D keypoints out."""

import warnings

import keras
from keras import ops

from keraspose.models.pose_estimators.base import BasePoseEstimator
from keraspose.models.pose_estimators.base import jsonable
from keraspose.models.utils.tta import flip_coordinates
from keraspose.registry import build
from keraspose.registry import register
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg


@register
class PoseLifter(BasePoseEstimator):
    """2D-to-3D pose lifting (MMPose's ``PoseLifter``).

    Used by SimpleBaseline3D (Martinez et al., ICCV 2017) and VideoPose3D
    (Pavllo et al., CVPR 2019). There are no images and no data
    preprocessor: the model reads the lifting codec's encoded 2D keypoints.

    Data contract:

    * ``x``: a dict with ``keypoints`` (B, T, K, C), the codec's
      ``keypoint_labels`` (normalised 2D keypoints, C = 2, or 3 with
      ``concat_vis``), flattened to (B, T, K * C) for the backbone (the
      channel order of MMPose's reshaped (K * C, T) input); optionally
      ``target_root`` (B, 1, 3) for decoding. A bare (B, T, K, C) tensor
      also works.
    * ``y``: the codec's targets: ``lifting_target_label`` (B, K', 3),
      ``lifting_target_weight`` (B, K') and, with a trajectory head,
      ``trajectory_weights``.
    * ``model(x)`` returns the head's raw (B, K', 3) outputs, or the pair
      ``(pose, trajectory)`` with a trajectory head.
    * ``model.predict(x)``: ``keypoints`` (B, K, 3) and ``keypoint_scores``
      (B, K), decoded by the head's codec: de-standardised and, when ``x``
      has ``target_root``, with the root added back (and re-inserted when
      the codec removed it), as MMPose's head adds the samples'
      ``target_root``; without it the keypoints stay root-relative. With a
      trajectory head, also ``trajectory``: its raw (B, J, 3) outputs
      (MMPose computes and discards them). ``test_cfg[
      "output_keypoint_indices"]`` selects output keypoints as MMPose.

    Flip test (``test_cfg["flip_test"]``): the input is mirrored with
    ``flip_coordinates(..., input_size=(1, 1))`` per frame (x -> -x with
    ``shift_coords``, MMPose's default, and left/right keypoints swapped by
    the metainfo's ``flip_indices``), both passes go through the model, and
    the heads flip the mirrored prediction back and average (see
    :class:`TemporalRegressionHead`). MMPose intends this but its
    ``PoseLifter`` fails on the (B, K * C, T) inputs of its TCN configs.

    Trajectory model: ``traj_head`` (with ``traj_backbone`` /
    ``traj_neck``; without ``traj_backbone`` it shares the pose backbone's
    features) adds ``loss_traj`` / ``mpjpe_traj``. ``semi_loss`` is
    accepted and kept in the config but not applied (MMPose's
    ``PoseLifter`` marks semi-supervised training as TODO and cannot call
    it either); training is supervised.

    Args:
        backbone: backbone config (``TCN``).
        neck: optional neck config.
        head: head config (``TemporalRegressionHead``).
        traj_backbone: optional trajectory backbone config.
        traj_neck: optional trajectory neck config.
        traj_head: optional trajectory head config
            (``TrajectoryRegressionHead``).
        semi_loss: accepted for MMPose compatibility (not applied).
        train_cfg: training options.
        test_cfg: ``flip_test``, ``shift_coords``,
            ``output_keypoint_indices``.
        data_preprocessor: must be None (pose lifters take keypoints).
        metainfo: dataset metainfo (``flip_indices`` for flip test).
        init_cfg: MMPose init config (a ``Pretrained`` entry warns).
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).

    Example:

    >>> import numpy as np, keraspose
    >>> model = keraspose.build(dict(
    ...     type="PoseLifter",
    ...     backbone=dict(type="TCN", in_channels=2 * 4, stem_channels=8,
    ...                   kernel_sizes=(3, 3, 3), use_stride_conv=True),
    ...     head=dict(type="TemporalRegressionHead", in_channels=8,
    ...               num_joints=4, loss=dict(type="MSELoss"),
    ...               decoder=dict(type="VideoPoseLifting",
    ...                            num_keypoints=4))))
    >>> out = model.predict(
    ...     dict(keypoints=np.zeros((2, 27, 4, 2), "float32")), verbose=0)
    >>> out["keypoints"].shape, out["keypoint_scores"].shape
    ((2, 4, 3), (2, 4))
    """

    #: ``x`` entries the model reads (``evaluate_model`` feeds these)
    input_keys = ("keypoints", "target_root")

    def __init__(
        self,
        backbone,
        neck=None,
        head=None,
        traj_backbone=None,
        traj_neck=None,
        traj_head=None,
        semi_loss=None,
        train_cfg=None,
        test_cfg=None,
        data_preprocessor=None,
        metainfo=None,
        init_cfg=None,
        **kwargs,
    ):
        # Not BasePoseEstimator.__init__: a pose lifter has no image
        # preprocessor.
        keras.Model.__init__(self, **kwargs)
        owner = type(self).__name__
        warn_unloadable_init_cfg(init_cfg, owner)
        if data_preprocessor is not None:
            raise ValueError(
                f"{owner} reads encoded keypoints and has no data "
                f"preprocessor. Received: data_preprocessor="
                f"{data_preprocessor!r}"
            )
        if head is None:
            raise ValueError(f"A {owner} needs a `head` config.")
        dt = self.dtype_policy
        self.data_preprocessor = None
        self.backbone = build(backbone, name="backbone", dtype=dt)
        self.neck = build(neck, name="neck", dtype=dt)
        self.head = build(head, name="head", dtype=dt)
        self.traj_backbone = None
        self.traj_neck = None
        self.traj_head = None
        if traj_head is not None:
            self.traj_backbone = build(
                traj_backbone, name="traj_backbone", dtype=dt
            )
            self.traj_neck = build(traj_neck, name="traj_neck", dtype=dt)
            self.traj_head = build(traj_head, name="traj_head", dtype=dt)
        elif traj_backbone is not None or traj_neck is not None:
            raise ValueError(
                f"{owner} builds traj_backbone / traj_neck only with a "
                "traj_head; pass traj_head=dict(type="
                "'TrajectoryRegressionHead', ...)."
            )
        self.semi_loss = semi_loss
        if semi_loss is not None:
            warnings.warn(
                f"{owner}: semi_loss is not applied (MMPose's PoseLifter "
                "does not support semi-supervised training either); the "
                "model trains supervised.",
                stacklevel=2,
            )
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or {})
        self.metainfo = jsonable(metainfo)
        self.use_syncbn = False
        self._check_metainfo()
        self._log_names = []
        if self.traj_head is not None:
            self._log_names += list(self.traj_head.log_names(self.train_cfg))
        self._log_names += list(self.head.log_names(self.train_cfg))
        self._log_trackers = [
            keras.metrics.Mean(name=name) for name in self._log_names
        ]

    # --- properties (MMPose's) ---------------------------------------------

    @property
    def with_traj(self):
        """Whether the model has a trajectory head."""
        return self.traj_head is not None

    @property
    def share_backbone(self):
        """Whether the trajectory head reads the pose backbone's features."""
        return self.with_traj and self.traj_backbone is None

    @property
    def causal(self):
        """Whether the backbone is causal (MMPose's property)."""
        if not hasattr(self.backbone, "causal"):
            raise AttributeError(
                f"The backbone {type(self.backbone).__name__} has no "
                "`causal` attribute."
            )
        return self.backbone.causal

    # --- Keras plumbing -----------------------------------------------------

    def build(self, input_shape):
        shape = tuple(_keypoints_entry(input_shape))
        self._check_keypoint_shape(shape)
        flat = keras.KerasTensor(_flat_shape(shape), "float32")
        feats = self.extract_feat(flat)
        if self.with_traj:
            feats, traj_feats = feats
            self.traj_head(traj_feats)
        self.head(feats)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y is None:
            raise ValueError(
                "Training needs targets `y`: the lifting codec's encoded "
                "targets (lifting_target_label, lifting_target_weight, ...)."
            )
        losses = {}
        if self.with_traj:
            pose_pred, traj_pred = y_pred
            losses.update(
                self.traj_head.loss_by_outputs(traj_pred, y, self.train_cfg)
            )
        else:
            pose_pred = y_pred
        losses.update(self.head.loss_by_outputs(pose_pred, y, self.train_cfg))
        total = None
        for name, value in losses.items():
            tracker = self._log_trackers[self._log_names.index(name)]
            tracker.update_state(value)
            if name.startswith("loss"):
                total = value if total is None else total + value
        for extra in self.losses:
            total = total + ops.cast(extra, "float32")
        return total

    def predict(self, x, *args, **kwargs):
        """``keras.Model.predict`` on the ``input_keys`` entries of ``x``.

        ``x`` may be a whole packed batch (a dict, or a ``tf.data`` dataset
        of ``(x, y)``) with MMPose's meta, string ``target_img_path``
        included: only :attr:`input_keys` reach the model (JAX and PyTorch
        cannot take strings; the compiled function sees the same inputs
        each call).
        """
        return super().predict(
            _model_inputs(x, self.input_keys), *args, **kwargs
        )

    def predict_on_batch(self, x):
        """``keras.Model.predict_on_batch`` on the ``input_keys`` entries
        of ``x`` (a dict batch may carry string meta, see :meth:`predict`).
        """
        return super().predict_on_batch(_model_inputs(x, self.input_keys))

    # --- model API ----------------------------------------------------------

    def call(self, inputs, training=None, mode="tensor"):
        """Runs the model.

        Args:
            inputs: dict with ``keypoints`` (B, T, K, C) (and optional
                ``target_root``), or the keypoint tensor.
            training: training mode flag.
            mode: "tensor" for raw head outputs, "predict" for decoded
                predictions.
        """
        if mode == "tensor":
            x = self._flat_keypoints(inputs)
            feats = self.extract_feat(x, training)
            if self.with_traj:
                feats, traj_feats = feats
                return (
                    self.head(feats, training=training),
                    self.traj_head(traj_feats, training=training),
                )
            return self.head(feats, training=training)
        if mode == "predict":
            return self.predict_from_inputs(inputs)
        raise ValueError(
            f"Expected mode 'tensor' or 'predict'. Received: mode={mode!r}"
        )

    def extract_feat(self, x, training=None):
        """Pose features, or ``(pose, trajectory)`` features with a
        trajectory head, of flattened (B, T, K * C) keypoints."""
        feats = self.backbone(x, training=training)
        if self.neck is not None:
            feats = self.neck(feats, training=training)
        if not self.with_traj:
            return feats
        if self.share_backbone:
            traj = feats
        else:
            traj = self.traj_backbone(x, training=training)
        if self.traj_neck is not None:
            traj = self.traj_neck(traj, training=training)
        return feats, traj

    def predict_from_inputs(self, inputs):
        keypoints = self._keypoints(inputs)
        x = _flatten(keypoints)
        target_root = None
        if isinstance(inputs, dict) and inputs.get("target_root") is not None:
            target_root = ops.cast(inputs["target_root"], "float32")
        flip_test = self.test_cfg.get("flip_test", False)
        flip_indices = self.flip_indices if flip_test else None
        feats = self.extract_feat(x, False)
        if flip_test:
            flipped = self._flip_inputs(keypoints, flip_indices)
            flipped_feats = self.extract_feat(_flatten(flipped), False)
            if self.with_traj:
                feats = (
                    [feats[0], flipped_feats[0]],
                    [feats[1], flipped_feats[1]],
                )
            else:
                feats = [feats, flipped_feats]
        if self.with_traj:
            feats, traj_feats = feats
        preds = self.head.predict(
            feats, self.test_cfg, flip_indices, target_root=target_root
        )
        indices = self.test_cfg.get("output_keypoint_indices")
        if indices is not None:
            indices = [int(i) for i in indices]
            for key in list(preds):
                if key.startswith("keypoint"):
                    # keypoints (B, K, 3), scores (B, K)
                    axis = -2 if key == "keypoints" else -1
                    preds[key] = ops.take(preds[key], indices, axis=axis)
        if self.with_traj:
            preds["trajectory"] = self._trajectory(
                traj_feats, flip_test, flip_indices
            )
        return preds

    def _trajectory(self, traj_feats, flip_test, flip_indices):
        head = self.traj_head
        if not flip_test:
            return ops.cast(head(traj_feats, training=False), "float32")
        plain = ops.cast(head(traj_feats[0], training=False), "float32")
        flipped = ops.cast(head(traj_feats[1], training=False), "float32")
        flipped = head._flip_back(flipped, self.test_cfg, flip_indices)
        return (plain + flipped) * 0.5

    def _flip_inputs(self, keypoints, flip_indices):
        """Mirrors (B, T, K, C) keypoints frame by frame."""
        shape = ops.shape(keypoints)
        k, c = keypoints.shape[2], keypoints.shape[3]
        flat = ops.reshape(keypoints, (-1, k, c))
        flat = flip_coordinates(
            flat,
            flip_indices=flip_indices,
            shift_coords=self.test_cfg.get("shift_coords", True),
            input_size=(1, 1),
        )
        return ops.reshape(flat, shape)

    @property
    def flip_indices(self):
        """The metainfo's ``flip_indices`` (over the input keypoints)."""
        if self.metainfo and self.metainfo.get("flip_indices") is not None:
            return list(self.metainfo["flip_indices"])
        raise ValueError(
            "flip_test needs dataset metainfo with `flip_indices` (one per "
            "input keypoint); pass metainfo=dict(flip_indices=[...]) to the "
            "PoseLifter or set test_cfg['flip_test'] = False."
        )

    # --- helpers ------------------------------------------------------------

    def _keypoints(self, inputs):
        keypoints = _keypoints_entry(inputs)
        keypoints = ops.convert_to_tensor(keypoints)
        self._check_keypoint_shape(tuple(keypoints.shape))
        if keras.backend.standardize_dtype(keypoints.dtype) != "float32":
            keypoints = ops.cast(keypoints, "float32")
        return keypoints

    def _flat_keypoints(self, inputs):
        return _flatten(self._keypoints(inputs))

    def _check_keypoint_shape(self, shape):
        channels = getattr(self.backbone, "in_channels", None)
        ok = len(shape) == 4 and (
            channels is None
            or None in shape[2:]
            or shape[2] * shape[3] == channels
        )
        if not ok:
            raise ValueError(
                "Expected keypoints of shape (B, T, K, C) with K * C == the "
                f"backbone's in_channels ({channels}). Received shape "
                f"{shape}"
            )

    def _check_metainfo(self):
        if not self.metainfo:
            return
        flip = self.metainfo.get("flip_indices")
        n = self.metainfo.get("num_keypoints", len(flip) if flip else None)
        channels = getattr(self.backbone, "in_channels", None)
        if n is not None and channels is not None and channels % n:
            raise ValueError(
                f"The backbone takes {channels} input channels, not a "
                f"multiple of the metainfo's {n} keypoints."
            )

    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }
        config.update(
            backbone=to_config(self.backbone),
            neck=to_config(self.neck),
            head=to_config(self.head),
            traj_backbone=to_config(self.traj_backbone),
            traj_neck=to_config(self.traj_neck),
            traj_head=to_config(self.traj_head),
            semi_loss=self.semi_loss,
            train_cfg=self.train_cfg,
            test_cfg=self.test_cfg,
            metainfo=self.metainfo,
        )
        return config


def _model_inputs(x, keys):
    """``x`` reduced to its ``keys`` entries: a dict with ``keypoints``,
    or a ``tf.data`` dataset of such dicts (or of ``(x, y, ...)``, whose
    ``x`` is kept). Anything else is returned unchanged."""
    if isinstance(x, dict):
        if "keypoints" not in x:
            return x  # the model's error names the keys received
        return {k: v for k, v in x.items() if k in keys}
    if not type(x).__module__.startswith("tensorflow"):
        return x
    from keraspose.utils.lazy_import import tf

    if not isinstance(x, tf.data.Dataset):
        return x
    spec = x.element_spec
    x_spec = spec[0] if isinstance(spec, tuple) else spec
    if not isinstance(x_spec, dict) or "keypoints" not in x_spec:
        return x
    kept = [k for k in x_spec if k in keys]

    def select(*element):
        return {k: element[0][k] for k in kept}

    return x.map(select, num_parallel_calls=tf.data.AUTOTUNE)


def _keypoints_entry(inputs):
    if not isinstance(inputs, dict):
        return inputs
    if "keypoints" not in inputs:
        raise ValueError(
            "Expected an input dict with a 'keypoints' entry (B, T, K, C). "
            f"Received keys: {sorted(inputs)}"
        )
    return inputs["keypoints"]


def _flat_shape(shape):
    b, t, k, c = shape
    return (b, t, None if None in (k, c) else k * c)


def _flatten(keypoints):
    """(B, T, K, C) -> (B, T, K * C)."""
    shape = ops.shape(keypoints)
    k, c = keypoints.shape[2], keypoints.shape[3]
    return ops.reshape(keypoints, (shape[0], shape[1], k * c))

"""Base class of pose estimators: a Keras Model that trains and decodes."""

import warnings

import keras
from keras import ops

from keraspose.registry import build
from keraspose.registry import to_config
from keraspose.registry import warn_unloadable_init_cfg

# MMPose falls back to COCO's metainfo when a model has none.
_COCO_FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


class BasePoseEstimator(keras.Model):
    """Data preprocessor -> backbone -> (neck) -> head, as a ``keras.Model``.

    Data contract (``fit``, ``evaluate``, ``predict``):

    * ``x``: a dict with ``images`` (N, H, W, 3) raw pixels and optionally
      ``input_center`` / ``input_scale`` (N, 2) (the crop of each sample in
      the original image), or a bare image tensor.
    * ``y``: the codec's batched ``encode`` output (e.g. ``heatmaps`` and
      ``keypoint_weights``).
    * ``model(x)`` returns the head's raw outputs; ``model.predict(x)`` and
      ``model(x, mode="predict")`` return decoded predictions (see
      subclasses).

    ``compute_loss`` delegates to the head's ``loss_by_outputs``; the total
    loss is the sum of the entries whose key starts with ``loss``, and every
    named loss and accuracy shows up in the ``fit`` logs.

    Args:
        backbone: backbone config or layer.
        neck: optional neck config or layer.
        head: head config or layer.
        train_cfg: dict of training options (``compute_acc``).
        test_cfg: dict of test options (``flip_test``, ``flip_mode``,
            ``shift_heatmap``, ``output_heatmaps``).
        data_preprocessor: preprocessor config (``PoseDataPreprocessor``).
        metainfo: dataset metainfo; ``flip_indices`` is used by flip test.
        init_cfg: MMPose init config (a ``Pretrained`` entry warns).
        use_syncbn: accepted for MMPose compatibility.
        **kwargs: ``keras.Model`` arguments (``name``, ``dtype``).
    """

    def __init__(
        self,
        backbone,
        neck=None,
        head=None,
        train_cfg=None,
        test_cfg=None,
        data_preprocessor=None,
        metainfo=None,
        init_cfg=None,
        use_syncbn=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        warn_unloadable_init_cfg(init_cfg, type(self).__name__)
        dt = self.dtype_policy
        self.data_preprocessor = build(
            data_preprocessor or {"type": "PoseDataPreprocessor"},
            name="data_preprocessor",
            dtype=dt,
        )
        self.backbone = build(backbone, name="backbone", dtype=dt)
        # Backbones with pretrained weights that expect a particular input
        # normalisation (KerasModelBackbone) check the preprocessor.
        check = getattr(self.backbone, "check_data_preprocessor", None)
        if check is not None:
            check(self.data_preprocessor)
        self.neck = build(neck, name="neck", dtype=dt)
        if head is None:
            raise ValueError("A pose estimator needs a `head` config.")
        self.head = build(head, name="head", dtype=dt)
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or {})
        self.metainfo = jsonable(metainfo)
        self.use_syncbn = use_syncbn
        self._check_metainfo()
        self._log_names = list(self.head.log_names(self.train_cfg))
        self._log_trackers = [
            keras.metrics.Mean(name=name) for name in self._log_names
        ]

    # --- Keras plumbing ---------------------------------------------------

    def build(self, input_shape):
        shape = tuple(_images_entry(input_shape))
        self._check_image_shape(shape)
        x = self.data_preprocessor(keras.KerasTensor(shape, "float32"))
        feats = self.backbone(x)
        if self.neck is not None:
            feats = self.neck(feats)
        self.head(feats)

    def compile(
        self, optimizer="adam", loss=None, jit_compile="auto", **kwargs
    ):
        """``keras.Model.compile``; losses come from the head config.

        On the torch backend ``jit_compile`` is forced off (``torch.compile``
        cannot train Keras custom layers).
        """
        if loss is not None:
            raise ValueError(
                "Pose estimators take their losses from the head config "
                "(`head.loss`); do not pass `loss` to compile. "
                f"Received: {loss!r}"
            )
        if keras.backend.backend() == "torch":
            jit_compile = False
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """``keras.Model.fit``; string entries of a tf.data ``x`` (MMPose's
        ``img_path`` meta) are dropped, since JAX and PyTorch cannot take
        them and no model reads them."""
        from keraspose.datasets.builder import drop_string_inputs

        return super().fit(
            drop_string_inputs(x),
            y,
            *args,
            validation_data=drop_string_inputs(validation_data),
            **kwargs,
        )

    def compile_from_config(self, config):
        """Recompiles a loaded ``.keras`` model (optimizer state included).

        Keras skips this for models with a custom ``compile``; pose
        estimators restore theirs so a checkpoint resumes training.
        """
        config = keras.saving.deserialize_keras_object(config)
        config.pop("loss", None)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        if y is None:
            raise ValueError(
                "Training needs targets `y`: the codec's batched encode "
                "output (e.g. dict(heatmaps=..., keypoint_weights=...))."
            )
        losses = self.head.loss_by_outputs(y_pred, y, self.train_cfg)
        total = None
        for name, value in losses.items():
            if name not in self._log_names:
                raise ValueError(
                    f"The head returned {name!r}, which is not among its "
                    f"log_names() {self._log_names}."
                )
            tracker = self._log_trackers[self._log_names.index(name)]
            tracker.update_state(value)
            if name.startswith("loss"):
                total = value if total is None else total + value
        for extra in self.losses:
            total = total + ops.cast(extra, "float32")
        return total

    def predict_step(self, *args):
        # JAX passes (state, data); the other backends pass (data,).
        data = args[-1]
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if len(args) == 2:
            trainable, non_trainable = args[0][:2]
            outputs, non_trainable = self.stateless_call(
                trainable, non_trainable, x, training=False, mode="predict"
            )
            return outputs, non_trainable
        return self(x, training=False, mode="predict")

    # --- model API --------------------------------------------------------

    def call(self, inputs, training=None, mode="tensor"):
        """Runs the model.

        Args:
            inputs: dict with ``images`` (and optional ``input_center`` /
                ``input_scale``) or an image tensor.
            training: training mode flag.
            mode: "tensor" for the head's raw outputs, "predict" for decoded
                predictions.
        """
        images = self._images(inputs)
        if mode == "tensor":
            x = self.data_preprocessor(images)
            return self.head(self.extract_feat(x, training), training=training)
        if mode == "predict":
            return self.predict_from_inputs(inputs)
        raise ValueError(
            f"Expected mode 'tensor' or 'predict'. Received: mode={mode!r}"
        )

    def extract_feat(self, x, training=None):
        """Backbone (+ neck) features of preprocessed images."""
        feats = self.backbone(x, training=training)
        if self.neck is not None:
            feats = self.neck(feats, training=training)
        return feats

    def predict_from_inputs(self, inputs):
        raise NotImplementedError

    @property
    def flip_indices(self):
        """Flip indices from the metainfo (COCO's, with a warning, if none)."""
        if self.metainfo and self.metainfo.get("flip_indices") is not None:
            return list(self.metainfo["flip_indices"])
        k = _head_num_keypoints(self.head)
        if k == len(_COCO_FLIP_INDICES):
            warnings.warn(
                "The model has no metainfo with flip_indices; using COCO's "
                "(as MMPose does). Pass metainfo=... to the estimator.",
                stacklevel=2,
            )
            return list(_COCO_FLIP_INDICES)
        raise ValueError(
            "flip_test needs dataset metainfo with `flip_indices` (one per "
            f"keypoint, {k} here); pass metainfo=dict(flip_indices=[...]) to "
            "the estimator or set test_cfg['flip_test'] = False."
        )

    # --- helpers ----------------------------------------------------------

    def _images(self, inputs):
        images = _images_entry(inputs)
        self._check_image_shape(tuple(images.shape))
        return images

    def _check_image_shape(self, shape):
        channels = getattr(self.backbone, "in_channels", 3)
        if len(shape) != 4 or shape[-1] != channels:
            raise ValueError(
                f"Expected images of shape (N, H, W, {channels}). Received "
                f"shape {shape}"
            )

    def _check_metainfo(self):
        if not self.metainfo:
            return
        k = _head_num_keypoints(self.head)
        flip = self.metainfo.get("flip_indices")
        n = self.metainfo.get("num_keypoints", len(flip) if flip else None)
        if k is not None and n is not None and n != k:
            raise ValueError(
                f"The head predicts {k} keypoints (out_channels) but the "
                f"dataset metainfo has {n}."
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
            train_cfg=self.train_cfg,
            test_cfg=self.test_cfg,
            data_preprocessor=to_config(self.data_preprocessor),
            metainfo=self.metainfo,
            use_syncbn=self.use_syncbn,
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_preset(cls, name, weights=None, strict=True):
        """Builds a preset (an MMPose model-zoo config) with its weights.

        Args:
            name: the MMPose config name, e.g.
                ``"td-hm_hrnet-w32_8xb64-210e_coco-256x192"``; see
                ``keraspose.presets.list_presets()``.
            weights: None (random), True / ``"mmpose"`` (MMPose's released
                checkpoint, downloaded to the Keras cache), a URL, an MMPose
                ``.pth`` or a Keras ``.weights.h5`` / ``.keras`` file.
            strict: raise on missing / unexpected checkpoint keys.

        Returns:
            The estimator, built to the codec's input size.

        Raises:
            ValueError: unknown preset, or one that builds another kind of
                estimator than ``cls``.

        Example:

        >>> # model = TopdownPoseEstimator.from_preset(
        >>> #     "rtmpose-m_8xb256-420e_coco-256x192", weights=True)
        """
        from keraspose.presets.loading import from_preset

        return from_preset(name, weights=weights, strict=strict, cls=cls)


def _images_entry(inputs):
    """The ``images`` entry of an input dict (or the input itself)."""
    if not isinstance(inputs, dict):
        return inputs
    if "images" not in inputs:
        raise ValueError(
            "Expected an input dict with an 'images' entry. Received keys: "
            f"{sorted(inputs)}"
        )
    return inputs["images"]


def jsonable(value):
    """Metainfo with tuples / NumPy values as JSON-friendly lists (and
    string keys), as the estimator stores it."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _head_num_keypoints(head):
    """K of a head: ``num_keypoints`` where outputs group channels per
    keypoint (UDP combined maps), else ``out_channels``."""
    k = getattr(head, "num_keypoints", None)
    return k if k is not None else getattr(head, "out_channels", None)

"""Adapter backbone: any Keras vision model as a keraspose backbone."""

import difflib
import importlib
import math

import keras
import numpy as np

from keraspose.models.backbones.base_backbone import BaseBackbone
from keraspose.registry import register

# Where a ``model`` name may point: importing anything else from a config
# string is refused.
_ALLOWED_PREFIXES = ("keras.applications.", "keras_hub.models.", "keras_cv.")
_OPTIONAL_PACKAGES = {"keras_hub": "keras-hub", "keras_cv": "keras-cv"}

# PoseDataPreprocessor settings giving the inputs each keras.applications
# family was trained on, for keraspose's BGR uint8 images.
_PREPROCESSING = {
    # BGR, ImageNet mean subtracted, no scaling
    "caffe": dict(mean=[103.939, 116.779, 123.68], std=[1.0, 1.0, 1.0]),
    # RGB scaled to [-1, 1]
    "tf": dict(mean=[127.5] * 3, std=[127.5] * 3, bgr_to_rgb=True),
    # RGB, ImageNet mean / std (MMPose's default)
    "torch": dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    ),
    # RGB in [0, 255]: the model rescales inside
    "raw": dict(mean=None, std=None, bgr_to_rgb=True),
    # EfficientNetV2-S/M/L without their built-in rescaling
    "v2": dict(mean=[128.0] * 3, std=[128.0] * 3, bgr_to_rgb=True),
}
_FAMILIES = {
    "resnet": "caffe",
    "vgg16": "caffe",
    "vgg19": "caffe",
    "resnet_v2": "tf",
    "mobilenet": "tf",
    "mobilenet_v2": "tf",
    "inception_v3": "tf",
    "inception_resnet_v2": "tf",
    "xception": "tf",
    "nasnet": "tf",
    "densenet": "torch",
    "efficientnet": "raw",
    # these rescale inside unless include_preprocessing=False
    "mobilenet_v3": ("raw", "tf"),
    "convnext": ("raw", "torch"),
    "efficientnet_v2": ("raw", None),
}


def _preprocessing_of(fn, kwargs):
    """The PoseDataPreprocessor settings a keras.applications model expects.

    Returns None for models this table does not know.
    """
    family = getattr(fn, "__module__", "").rsplit(".", 1)[-1]
    mode = _FAMILIES.get(family)
    if isinstance(mode, tuple):
        inside, outside = mode
        mode = inside if kwargs.get("include_preprocessing", True) else outside
        if family == "efficientnet_v2" and mode is None:
            b_variant = fn.__name__.lower().startswith("efficientnetv2b")
            mode = "torch" if b_variant else "v2"
    if mode is None:
        return None
    return dict(type="PoseDataPreprocessor", **_PREPROCESSING[mode])


def _import_optional(module_name):
    top = module_name.split(".", 1)[0]
    try:
        return importlib.import_module(module_name)
    except ImportError as e:
        if top in _OPTIONAL_PACKAGES:
            raise ImportError(
                f"Building {module_name!r} needs the optional package "
                f"{_OPTIONAL_PACKAGES[top]} (pip install "
                f"{_OPTIONAL_PACKAGES[top]})."
            ) from e
        raise


def _resolve(name):
    """The constructor named by ``"keras.applications.MobileNetV2"`` etc."""
    if not name.startswith(_ALLOWED_PREFIXES):
        raise ValueError(
            "Expected `model` to name a Keras vision model under one of "
            f"{list(_ALLOWED_PREFIXES)} (e.g. 'keras.applications."
            f"MobileNetV2'). Received: model={name!r}"
        )
    module_name, attr = name.rsplit(".", 1)
    module = _import_optional(module_name)
    fn = getattr(module, attr, None)
    if not callable(fn):
        close = difflib.get_close_matches(attr, dir(module), n=5)
        hint = f" Close matches: {close}." if close else ""
        raise ValueError(
            f"{module_name} has no model {attr!r}.{hint} Received: "
            f"model={name!r}"
        )
    return fn


def _stride_of(size, probe):
    """The power-of-two stride mapping ``probe`` pixels to ``size``."""
    if not size or probe % size:
        return None
    stride = probe // size
    return stride if stride & (stride - 1) == 0 else None


def _single_input(model):
    inputs = keras.tree.flatten(model.inputs)
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise TypeError(
            "Expected a model with one image input (N, H, W, C). Received "
            f"inputs {[tuple(x.shape) for x in inputs]}"
        )
    return inputs[0]


def _producer(tensor):
    history = getattr(tensor, "_keras_history", None)
    return history[0].name if history else None


def _detect_levels(model):
    """Feature levels of a functional model.

    Returns a list of ``(level_name, stride, layer_name, tensor)`` sorted
    by stride.
    """
    pyramid = getattr(model, "pyramid_outputs", None)
    if isinstance(pyramid, dict) and pyramid:  # keras-hub
        items = [(k, v, _producer(v)) for k, v in pyramid.items()]
    else:
        names = getattr(model, "pyramid_level_inputs", None)  # keras-cv
        if isinstance(names, dict) and names:
            items = [
                (k, model.get_layer(v).output, v) for k, v in names.items()
            ]
        else:
            items = None
    if items is not None:
        levels = []
        for key, tensor, layer_name in items:
            stride = 2 ** int(str(key).lstrip("P"))
            levels.append((str(key), stride, layer_name, tensor))
        return sorted(levels, key=lambda level: level[1])

    image = _single_input(model)
    candidates = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError, RuntimeError):
            continue  # shared layers have no single output
        if isinstance(output, keras.KerasTensor) and len(output.shape) == 4:
            candidates.append((layer.name, output))
    if not candidates:
        return []
    # Probe with a large input (or the model's fixed size) so that every
    # downsampling divides it exactly.
    h, w = (d or 512 for d in image.shape[1:3])
    probe = keras.Model(image, [t for _, t in candidates])
    specs = probe.compute_output_spec(
        keras.KerasTensor((1, h, w, image.shape[-1]), image.dtype)
    )
    by_stride = {}
    for (name, tensor), spec in zip(candidates, keras.tree.flatten(specs)):
        sh, sw = _stride_of(spec.shape[1], h), _stride_of(spec.shape[2], w)
        if sh is not None and sh == sw and sh >= 2:
            by_stride[sh] = (name, tensor)  # the last layer wins
    return [
        (f"P{int(math.log2(s))}", s, name, tensor)
        for s, (name, tensor) in sorted(by_stride.items())
    ]


def _force_inference_norm(layer):
    """Runs a BatchNormalization layer in inference mode whatever the
    ``training`` flag (its scale and offset stay trainable)."""
    base_call = layer.call

    def call(inputs, training=None, mask=None):
        return base_call(inputs, training=False, mask=mask)

    layer.call = call


@register
class KerasModelBackbone(BaseBackbone):
    """Wraps a Keras vision model as a backbone returning feature levels.

    keraspose's own adapter (MMPose has none): use ``keras.applications``
    models (always available), keras-hub backbones (``pyramid_outputs``)
    or keras-cv backbones (``pyramid_level_inputs``) when those optional
    packages are installed, or any functional ``keras.Model``, in place of
    an MMPose backbone. ``call`` returns a tuple of (N, H, W, C) maps as
    every keraspose backbone does.

    **The wrapped model.** ``model`` is one of

    * a name, ``"keras.applications.MobileNetV2"``,
      ``"keras_hub.models.ResNetBackbone"``, built with ``model_kwargs``.
      keras.applications models are built with ``include_top=False``,
      ``input_shape=(None, None, 3)`` and ``weights=None`` unless
      ``model_kwargs`` says otherwise; ask for ImageNet weights with
      ``model_kwargs=dict(weights="imagenet")`` (downloaded by Keras once,
      then cached in ``~/.keras/models``);
    * ``None`` with ``preset="..."``: a keras-hub preset
      (``keras_hub.models.Backbone.from_preset``);
    * a built functional ``keras.Model``, or its
      ``keras.saving.serialize_keras_object`` dict.

    The config records the architecture only (a name with
    ``weights=None``, or the serialized model): reloading a ``.keras`` file
    never downloads anything, the weights come from the file.

    **Feature levels.** Level ``P<k>`` is the model's feature map at
    stride ``2**k``. keras-hub's ``pyramid_outputs`` (and keras-cv's
    ``pyramid_level_inputs``) are used when the model has them; otherwise
    the output of every layer is probed on a large input (512 pixels, or
    the model's fixed input size) and each level is the *last* layer (in
    graph order) whose output is exactly that stride, from stride 2 on.
    For ResNet this is the output of each stage (``conv2_block3_out``
    ...); for MobileNetV2 the expanded activation just before each
    downsampling (``block_1_expand_relu``, ``block_3_expand_relu``,
    ``block_6_expand_relu``, ``block_13_expand_relu``, ``out_relu``).
    Layers whose output size is not exactly ``input / stride`` (padding,
    valid convolutions) are skipped. ``feature_levels()`` lists what was
    found; pick with ``out_indices`` (positions in that list, negative
    counts from the deepest) or name layers with ``layer_names``.

    **Input scaling.** keras.applications weights expect their own input
    scaling. The estimator's ``PoseDataPreprocessor`` (images are BGR
    uint8, as MMPose's pipeline produces) must be set to:

    ==========================================  ===========================
    family                                      PoseDataPreprocessor
    ==========================================  ===========================
    ResNet50/101/152, VGG16/19 ("caffe")        mean=[103.939, 116.779,
                                                123.68], std=[1, 1, 1]
    ResNetV2, MobileNet(V2), Inception(ResNet)  mean=[127.5]*3,
    V3, Xception, NASNet ("tf": [-1, 1])        std=[127.5]*3,
                                                bgr_to_rgb=True
    DenseNet ("torch", MMPose's default)        mean=[123.675, 116.28,
                                                103.53], std=[58.395,
                                                57.12, 57.375],
                                                bgr_to_rgb=True
    EfficientNet(V2), ConvNeXt, MobileNetV3     mean=None, std=None,
    (they rescale inside)                       bgr_to_rgb=True
    ==========================================  ===========================

    ``KerasModelBackbone.preprocessor_config(name, model_kwargs)`` returns
    that dict, and ``check_data_preprocessor`` raises when a backbone built
    with pretrained weights is paired with another normalisation. keras-hub
    presets carry their own ``ImageConverter``: use
    ``mean = -offset / scale`` and ``std = 1 / scale`` of the preset's
    converter. Training from scratch (``weights=None``) works with any
    normalisation.

    **Freezing.** ``frozen_stages=i`` freezes every layer computing levels
    ``0..i`` (their BatchNorm layers then run in inference mode, Keras'
    rule for frozen BatchNorm); ``trainable=False`` freezes the whole
    backbone. ``norm_eval=True`` runs every BatchNormalization layer of the
    wrapped model in inference mode while its scale and offset still train
    (MMPose's ``norm_eval``).

    Args:
        model: model name, functional ``keras.Model``, or serialized model
            dict; None with ``preset``.
        model_kwargs: keyword arguments of the named model's constructor
            (or of ``from_preset``).
        preset: keras-hub preset name (needs keras-hub).
        out_indices: positions in ``feature_levels()`` to return (default:
            the deepest level); outputs come in increasing stride order.
        layer_names: names of the layers to return instead, in this order.
        frozen_stages: freeze the layers computing levels up to this
            position; -1 freezes nothing.
        norm_eval: run BatchNorm layers in inference mode during training.
        check_preprocessing: make ``check_data_preprocessor`` raise on a
            mismatch (set False to normalise differently on purpose).
        init_cfg: MMPose init config; a ``Pretrained`` entry warns.
        **kwargs: base layer arguments.

    Example:

    >>> import numpy as np, keraspose
    >>> net = keraspose.build(dict(
    ...     type="KerasModelBackbone", model="keras.applications.MobileNetV2",
    ...     model_kwargs=dict(alpha=0.35), out_indices=(2, 4)))
    >>> [(lv["level"], lv["stride"]) for lv in net.feature_levels()][:3]
    [('P1', 2), ('P2', 4), ('P3', 8)]
    >>> [tuple(f.shape) for f in net(np.zeros((1, 64, 64, 3), "float32"))]
    [(1, 8, 8, 96), (1, 2, 2, 1280)]
    """

    def __init__(
        self,
        model=None,
        model_kwargs=None,
        preset=None,
        out_indices=None,
        layer_names=None,
        frozen_stages=-1,
        norm_eval=False,
        check_preprocessing=True,
        init_cfg=None,
        **kwargs,
    ):
        super().__init__(norm_eval=norm_eval, init_cfg=init_cfg, **kwargs)
        if (model is None) == (preset is None):
            raise ValueError(
                "Expected exactly one of `model` (a model name, a "
                "keras.Model or its serialized dict) and `preset`. Received: "
                f"model={model!r}, preset={preset!r}"
            )
        if layer_names is not None and out_indices is not None:
            raise ValueError(
                "Expected either `out_indices` or `layer_names`, not both. "
                f"Received: out_indices={out_indices}, "
                f"layer_names={layer_names}"
            )
        self.model_kwargs = dict(model_kwargs or {})
        self.layer_names = None if layer_names is None else list(layer_names)
        self.frozen_stages = int(frozen_stages)
        self.check_preprocessing = bool(check_preprocessing)
        self.pretrained = False
        self.expected_preprocessor = None
        wrapped = self._make_model(model, preset)
        image = _single_input(wrapped)
        self.in_channels = image.shape[-1]
        self._levels = _detect_levels(wrapped)
        if self.layer_names is not None:
            self.out_indices = None
            outputs = [self._layer_output(wrapped, n) for n in layer_names]
        else:
            self.out_indices = self._level_indices(
                (-1,) if out_indices is None else out_indices, "out_indices"
            )
            outputs = [self._levels[i][3] for i in self.out_indices]
        if self.frozen_stages >= 0:
            (last,) = self._level_indices(
                (self.frozen_stages,), "frozen_stages"
            )
            for layer in keras.Model(image, self._levels[last][3]).layers:
                layer.trainable = False
        self.model = keras.Model(image, outputs, name=wrapped.name)
        if self.norm_eval:
            for layer in self.model._flatten_layers(include_self=False):
                if isinstance(layer, keras.layers.BatchNormalization):
                    _force_inference_norm(layer)
        self.build(tuple(image.shape))
        if not self.trainable:  # the base class set it before self.model
            self.model.trainable = False

    def _make_model(self, model, preset):
        """Builds the wrapped model; records the config entry for it."""
        with _dtype_policy_scope(self.dtype_policy):
            if preset is not None:
                hub = _import_optional("keras_hub.models")
                wrapped = hub.Backbone.from_preset(preset, **self.model_kwargs)
                self.pretrained = True
                self._model_config = keras.saving.serialize_keras_object(
                    wrapped
                )
                self.model_kwargs = {}
                return wrapped
            if isinstance(model, str):
                fn = _resolve(model)
                kwargs = dict(self.model_kwargs)
                if model.startswith("keras.applications."):
                    if kwargs.get("include_top"):
                        raise ValueError(
                            "A backbone has no classifier top; expected "
                            "include_top=False. Received: "
                            f"model_kwargs={self.model_kwargs}"
                        )
                    kwargs.update(include_top=False)
                    kwargs.setdefault("weights", None)
                    kwargs.setdefault("input_shape", (None, None, 3))
                    self.expected_preprocessor = _preprocessing_of(fn, kwargs)
                self.pretrained = kwargs.get("weights") is not None
                wrapped = fn(**kwargs)
                # the architecture only: weights come from .keras files
                if "weights" in self.model_kwargs:
                    self.model_kwargs["weights"] = None
                self._model_config = model
            elif isinstance(model, dict):
                top = str(model.get("module", "")).split(".", 1)[0]
                if top in _OPTIONAL_PACKAGES:
                    _import_optional(top)
                wrapped = keras.saving.deserialize_keras_object(model)
                self._model_config = model
            elif isinstance(model, keras.Model):
                wrapped = model
                self._model_config = keras.saving.serialize_keras_object(model)
            else:
                raise TypeError(
                    "Expected `model` to be a model name (str), a keras.Model "
                    f"or its serialized dict. Received: {model!r}"
                )
        if not isinstance(wrapped, keras.Model) or not hasattr(
            wrapped, "get_layer"
        ):
            raise TypeError(
                f"Expected {model!r} to build a keras.Model. Received: "
                f"{type(wrapped).__name__}"
            )
        try:
            wrapped.inputs  # noqa: B018
        except (AttributeError, ValueError) as e:
            raise TypeError(
                "Expected a functional keras.Model (its intermediate layers "
                f"are read); {type(wrapped).__name__} is subclassed."
            ) from e
        if self.model_kwargs.get("input_tensor") is not None:
            raise ValueError("`input_tensor` cannot be serialized; drop it.")
        return wrapped

    def _level_indices(self, indices, arg):
        indices = (indices,) if isinstance(indices, int) else tuple(indices)
        n = len(self._levels)
        out = []
        for index in indices:
            if not isinstance(index, int | np.integer) or not -n <= index < n:
                raise ValueError(
                    f"Expected every {arg} entry to be a feature level "
                    f"position in [-{n}, {n}). Received: {arg}="
                    f"{indices}; {index!r} has no level. Available levels: "
                    f"{self._describe_levels()}"
                )
            out.append(int(index) % n)
        if len(set(out)) != len(out):
            raise ValueError(
                f"Expected distinct {arg} entries. Received: {arg}={indices}"
            )
        return tuple(sorted(out))

    def _layer_output(self, model, name):
        names = [layer.name for layer in model.layers]
        if name not in names:
            close = difflib.get_close_matches(str(name), names, n=5)
            raise ValueError(
                f"Expected layer_names entries naming layers of "
                f"{model.name!r}. Received: {name!r}. Close matches: {close}; "
                f"feature levels: {self._describe_levels()} (all "
                f"{len(names)} layers: model.summary())."
            )
        try:
            output = model.get_layer(name).output
        except (AttributeError, ValueError, RuntimeError) as e:
            raise ValueError(
                f"Layer {name!r} has no single output (shared layer?)."
            ) from e
        if not isinstance(output, keras.KerasTensor) or len(output.shape) != 4:
            raise ValueError(
                f"Expected layer {name!r} to output a (N, H, W, C) map. "
                f"Received: {output!r}"
            )
        return output

    def _describe_levels(self):
        return [
            f"{i}: {lvl} (stride {s}, layer {layer!r}, {t.shape[-1]} ch)"
            for i, (lvl, s, layer, t) in enumerate(self._levels)
        ]

    def feature_levels(self):
        """The wrapped model's feature levels, in increasing stride.

        Returns:
            A list of dicts with ``index`` (for ``out_indices``),
            ``level`` ("P1", "P2", ...), ``stride``, ``layer`` (layer
            name) and ``channels``.
        """
        return [
            dict(
                index=i, level=lvl, stride=s, layer=layer, channels=t.shape[-1]
            )
            for i, (lvl, s, layer, t) in enumerate(self._levels)
        ]

    @staticmethod
    def preprocessor_config(model, model_kwargs=None):
        """The ``PoseDataPreprocessor`` config a keras.applications model's
        pretrained weights expect (None when unknown).

        Example:

        >>> KerasModelBackbone.preprocessor_config(
        ...     "keras.applications.MobileNetV2")["mean"]
        [127.5, 127.5, 127.5]
        """
        if not model.startswith("keras.applications."):
            return None
        return _preprocessing_of(_resolve(model), dict(model_kwargs or {}))

    def check_data_preprocessor(self, data_preprocessor):
        """Raises when pretrained weights meet a different normalisation.

        Args:
            data_preprocessor: the estimator's ``PoseDataPreprocessor``
                (layer or config dict).

        Raises:
            ValueError: the backbone was built with pretrained
                keras.applications weights, ``check_preprocessing`` is on,
                and ``data_preprocessor`` normalises differently from what
                the weights were trained with.
        """
        expected = self.expected_preprocessor
        if not (self.pretrained and self.check_preprocessing and expected):
            return
        if expected is None or self.in_channels != 3:
            return
        if _normalisation(data_preprocessor) != _normalisation(expected):
            raise ValueError(
                "The backbone's pretrained weights expect inputs "
                "normalised by data_preprocessor="
                f"{expected}; the model's data_preprocessor does "
                f"{_describe(data_preprocessor)}. Use the expected settings "
                "(images are BGR uint8) or pass check_preprocessing=False."
            )

    def call(self, x, training=None):
        outputs = self.model(x, training=training)
        if not isinstance(outputs, list | tuple):
            outputs = [outputs]
        return tuple(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(
            tuple(s.shape)
            for s in keras.tree.flatten(
                self.model.compute_output_spec(
                    keras.KerasTensor(tuple(input_shape))
                )
            )
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            model=self._model_config,
            model_kwargs=self.model_kwargs,
            preset=None,
            out_indices=self.out_indices,
            layer_names=self.layer_names,
            frozen_stages=self.frozen_stages,
            norm_eval=self.norm_eval,
            check_preprocessing=self.check_preprocessing,
        )
        return config


class _dtype_policy_scope:
    """Sets the global dtype policy while the wrapped model is built."""

    def __init__(self, policy):
        self.policy = policy

    def __enter__(self):
        self.saved = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.policy)

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.saved)


def _normalisation(cfg):
    """(channel flip, mean, std) of a preprocessor layer or config."""
    get = cfg.get if isinstance(cfg, dict) else (lambda k: getattr(cfg, k))
    flip = bool(get("bgr_to_rgb")) or bool(get("rgb_to_bgr"))
    mean, std = get("mean"), get("std")
    mean = tuple(round(float(m), 2) for m in (mean or (0.0,) * 3))
    std = tuple(round(float(s), 2) for s in (std or (1.0,) * 3))
    return flip, mean, std


def _describe(cfg):
    flip, mean, std = _normalisation(cfg)
    return f"mean={list(mean)}, std={list(std)}, channel flip={flip}"

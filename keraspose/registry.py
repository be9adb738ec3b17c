"""The keraspose registry: build any component from an MMPose-style dict.

Every public class is decorated with :func:`register`, which files it under
its class name for :func:`build` and registers it with Keras serialization
(``package="keraspose"``) so that ``.keras`` files reload it.

Example:

>>> import keraspose
>>> loss = keraspose.build(dict(type="KeypointMSELoss", use_target_weight=True))
>>> keraspose.to_config(loss)["type"]
'KeypointMSELoss'
"""

import difflib
import warnings

import keras

_REGISTRY = {}

# Keys of MMPose config dicts that describe the training framework rather
# than the model; they are accepted and dropped.
_IGNORED_KEYS = ("_scope_",)


def register(cls=None, *, name=None):
    """Registers a class for :func:`build` and Keras serialization.

    Args:
        cls: the class (when used as ``@register``).
        name: optional registry name; the class name by default.

    Returns:
        The class itself, unchanged.
    """

    def decorate(klass):
        key = name or klass.__name__
        existing = _REGISTRY.get(key)
        if existing is not None and existing is not klass:
            if existing.__qualname__ != klass.__qualname__ or (
                existing.__module__ != klass.__module__
            ):
                raise ValueError(
                    f"A class named {key!r} is already registered "
                    f"({existing.__module__}.{existing.__qualname__}); "
                    f"received {klass.__module__}.{klass.__qualname__}."
                )
        keras.saving.register_keras_serializable(package="keraspose", name=key)(
            klass
        )
        _REGISTRY[key] = klass
        return klass

    if cls is not None:
        return decorate(cls)
    return decorate


def registered_names():
    """Returns the sorted names of all registered classes."""
    return sorted(_REGISTRY)


def get_class(type_name):
    """Returns the registered class for a type name.

    MMPose scope prefixes (``mmdet.``, ``mmpretrain.``) are stripped.

    Raises:
        ValueError: for an unknown name; the message lists close matches.
    """
    if isinstance(type_name, type):
        return type_name
    if not isinstance(type_name, str):
        raise TypeError(
            "Expected `type` to be a class name (str) or a class. "
            f"Received: type={type_name!r}"
        )
    key = type_name.rsplit(".", 1)[-1]
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=5, cutoff=0.5)
        hint = f" Close matches: {', '.join(close)}." if close else ""
        raise ValueError(
            f"Unknown keraspose type {type_name!r}.{hint} "
            f"Registered types: {len(_REGISTRY)} (see "
            "keraspose.registry.registered_names())."
        )
    return _REGISTRY[key]


def build(cfg, **default_args):
    """Builds an object from an MMPose-style config dict.

    Args:
        cfg: a dict with a ``type`` key naming a registered class and the
            constructor arguments, an already-built object (returned as is),
            or None (returned as is).
        **default_args: arguments used when ``cfg`` does not set them.

    Returns:
        The built object.

    Example:

    >>> import keraspose
    >>> codec = keraspose.build(dict(type="MSRAHeatmap", input_size=(192, 256),
    ...                              heatmap_size=(48, 64), sigma=2))
    >>> codec.sigma
    2.0
    """
    if cfg is None or not isinstance(cfg, dict):
        return cfg
    if "type" not in cfg:
        raise ValueError(
            "Expected a config dict with a `type` key naming a keraspose "
            f"class. Received keys: {sorted(cfg)}"
        )
    cfg = dict(cfg)
    type_name = cfg.pop("type")
    for key in _IGNORED_KEYS:
        cfg.pop(key, None)
    cls = get_class(type_name)
    for key, value in default_args.items():
        cfg.setdefault(key, value)
    try:
        return cls(**cfg)
    except TypeError as e:
        raise TypeError(
            f"Could not build {cls.__name__} from config {cfg!r}: {e}"
        ) from e
    except ValueError as e:
        if "Unrecognized keyword arguments" not in str(e):
            raise
        raise TypeError(
            f"Could not build {cls.__name__} from config {cfg!r}: {e}"
        ) from e


def to_config(obj):
    """Returns a dict that :func:`build` turns back into an equal object."""
    if obj is None:
        return None
    name = type(obj).__name__
    if _REGISTRY.get(name) is not type(obj):
        raise TypeError(
            "Expected a registered keraspose object. "
            f"Received an instance of {type(obj).__module__}.{name}."
        )
    return {"type": name, **obj.get_config()}


def warn_unloadable_init_cfg(init_cfg, owner):
    """Warns that an MMPose ``init_cfg`` pretrained checkpoint is not loaded.

    Args:
        init_cfg: MMPose init config (dict or list of dicts) or None.
        owner: name of the component, for the message.
    """
    if init_cfg is None:
        return
    cfgs = init_cfg if isinstance(init_cfg, list | tuple) else [init_cfg]
    for cfg in cfgs:
        if isinstance(cfg, dict) and cfg.get("type") == "Pretrained":
            warnings.warn(
                f"{owner}: init_cfg asks for the pretrained checkpoint "
                f"{cfg.get('checkpoint')!r}, which cannot be loaded here "
                "(keraspose does not download weights at build time); the "
                "weights are randomly initialised.",
                stacklevel=3,
            )

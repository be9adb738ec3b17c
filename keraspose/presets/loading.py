"""Presets: MMPose model-zoo configs by name, with their released weights.

A preset is named exactly as MMPose's config, e.g.
``"td-hm_hrnet-w32_8xb64-210e_coco-256x192"`` (see :func:`list_presets`,
or ``keraspose presets`` on the command line). :func:`from_preset` builds
the model of the preset's shipped config, sets the dataset metainfo (COCO's
for the current presets) so flip test and drawing work, builds it to the
codec's input size and loads weights from an MMPose ``.pth`` (converted on
the fly, without torch), a Keras ``.weights.h5`` / ``.keras`` file, a URL,
or MMPose's released checkpoint of that config (``weights=True``).

Example:

>>> from keraspose import presets
>>> "rtmpose-m_8xb256-420e_coco-256x192" in presets.list_presets()
True
>>> presets.preset_info("rtmpose-m_8xb256-420e_coco-256x192")["coco_ap"]
0.746
"""

import difflib
import hashlib
import os
import re
import warnings
from urllib.parse import urlparse

from keraspose.presets.table import PRESETS

_CONFIG_ROOT = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "configs"
)
_URL_SCHEMES = ("http", "https", "ftp", "file")
_PTH_SUFFIXES = (".pth", ".pt", ".pth.tar", ".ckpt")
_KERAS_SUFFIXES = (".weights.h5", ".keras", ".h5")
# MMCV's publish_model appends the first 8 hex digits of the file's SHA-256
# (then MMPose's model zoo adds the date): `...-81c58e40_20220909.pth`.
_HASH_WITH_DATE = re.compile(r"[-_]([0-9a-f]{8})[_-]\d{8}\.pth$")
_HASH_ONLY = re.compile(r"-([0-9a-f]{8})\.pth$")
_PRETRAINED_WARNING = ".*init_cfg asks for the pretrained checkpoint"


def list_presets():
    """The preset names (MMPose config names), grouped by model family.

    Returns:
        list of str.

    Example:

    >>> "td-hm_res50_8xb64-210e_coco-256x192" in list_presets()
    True
    """
    return list(PRESETS)


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError(
            f"Expected a preset name (str). Received: {type(name).__name__} "
            f"{name!r}"
        )
    key = name[:-3] if name.endswith(".py") else name
    if key in PRESETS:
        return key
    close = difflib.get_close_matches(key, list(PRESETS), n=5, cutoff=0.4)
    hint = f" Close matches: {', '.join(close)}." if close else ""
    raise ValueError(
        f"Unknown preset {name!r}.{hint} There are {len(PRESETS)} presets; "
        "list them with keraspose.presets.list_presets() or `keraspose "
        "presets`."
    )


def is_preset(name):
    """Whether ``name`` is a preset name (with or without ``.py``)."""
    if not isinstance(name, str):
        return False
    return (name[:-3] if name.endswith(".py") else name) in PRESETS


def preset_info(name):
    """What a preset is: config, MMPose weights URL, COCO AP, description.

    Args:
        name: a preset name (see :func:`list_presets`).

    Returns:
        dict with ``name``, ``config`` (relative to ``keraspose/configs``),
        ``config_path`` (absolute), ``weights`` (MMPose's checkpoint URL),
        ``coco_ap`` (COCO val2017 AP that MMPose reports) and
        ``description``.

    Raises:
        ValueError: unknown name (the message lists close matches).

    Example:

    >>> info = preset_info("td-hm_hrnet-w32_8xb64-210e_coco-256x192")
    >>> info["coco_ap"], info["weights"].endswith("81c58e40_20220909.pth")
    (0.746, True)
    """
    key = _check_name(name)
    entry = PRESETS[key]
    return dict(
        name=key,
        config=entry["config"],
        config_path=os.path.join(_CONFIG_ROOT, entry["config"]),
        weights=entry["weights"],
        coco_ap=entry["coco_ap"],
        description=entry["description"],
    )


def preset_config(name):
    """The preset's keraspose :class:`~keraspose.utils.config.Config`.

    The dataset metainfo of the config's test set (its ``metainfo`` entry,
    else the dataset class's default: COCO for every current preset) is
    set as ``model.metainfo``, so the built model flips keypoints in flip
    test and draws skeletons without a dataset.

    Args:
        name: a preset name.

    Returns:
        Config: the whole config (model, data, schedule).

    Example:

    >>> cfg = preset_config("rtmpose-t_8xb256-420e_coco-256x192")
    >>> cfg.model.type, cfg.model.metainfo["num_keypoints"]
    ('TopdownPoseEstimator', 17)
    """
    from keraspose.utils.config import Config

    info = preset_info(name)
    cfg = Config.fromfile(info["config_path"])
    cfg.setdefault("filename", info["config_path"])
    model = cfg.get("model")
    if not model:
        raise ValueError(
            f"Preset {info['name']!r}: its config {info['config']!r} has no "
            "`model` entry."
        )
    if not model.get("metainfo"):
        from keraspose.converters.mmpose_checkpoint import config_metainfo
        from keraspose.models.pose_estimators.base import jsonable

        metainfo = config_metainfo(cfg)
        if metainfo is not None:
            model["metainfo"] = jsonable(metainfo)
    return cfg


# --------------------------------------------------------------------------
# Weights


def is_url(value):
    """Whether ``value`` is a URL that :func:`fetch_weights` downloads."""
    return isinstance(value, str) and urlparse(value).scheme in _URL_SCHEMES


def expected_sha256_prefix(filename):
    """The SHA-256 prefix in an MMPose checkpoint file name, or None.

    MMCV's ``publish_model`` names files ``<name>-<8 hex digits of the
    SHA-256>.pth`` and MMPose's model zoo appends the date
    (``...-81c58e40_20220909.pth``; some v1 files ``..._ac7c17bf-20221228
    .pth``). Without a date the 8 characters must
    include a letter, so that a bare date (``-20220909.pth``) is not taken
    for a hash.

    Example:

    >>> expected_sha256_prefix("hrnet-81c58e40_20220909.pth")
    '81c58e40'
    >>> expected_sha256_prefix("dekr_coco-512x512_ac7c17bf-20221228.pth")
    'ac7c17bf'
    >>> expected_sha256_prefix("my_model.pth") is None
    True
    """
    base = os.path.basename(urlparse(filename).path or filename)
    match = _HASH_WITH_DATE.search(base)
    if match:
        return match.group(1)
    match = _HASH_ONLY.search(base)
    if match and not match.group(1).isdigit():
        return match.group(1)
    return None


def sha256_file(path, chunk_size=1 << 20):
    """The hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checkpoint_hash(path, name=None):
    """Checks a checkpoint against the SHA-256 prefix in its file name.

    Args:
        path: the local file.
        name: the file name (or URL) carrying the prefix; ``path`` if None.

    Returns:
        The prefix checked, or None when the name carries none.

    Raises:
        ValueError: the file's SHA-256 does not start with the prefix.
    """
    prefix = expected_sha256_prefix(name or path)
    if prefix is None:
        return None
    actual = sha256_file(path)
    if not actual.startswith(prefix):
        raise ValueError(
            f"Checkpoint {path!r} is corrupt or not the expected file: its "
            f"name says the SHA-256 starts with {prefix!r}, but the file's "
            f"SHA-256 is {actual!r}. Delete it and download it again."
        )
    return prefix


def fetch_weights(url, cache_dir=None):
    """Downloads a weights file to the Keras cache (once) and verifies it.

    Uses ``keras.utils.get_file`` (cache ``$KERAS_HOME/models``, or
    ``cache_dir/models``); the SHA-256 prefix in MMPose's file names is
    checked (a mismatching cached file is deleted).

    Args:
        url: ``https://``, ``http://``, ``ftp://`` or ``file://`` URL.
        cache_dir: cache root (default: Keras' ``~/.keras``).

    Returns:
        The local path.
    """
    import keras

    fname = os.path.basename(urlparse(url).path)
    if not fname:
        raise ValueError(
            f"Expected a URL that ends in a file name. Received: {url!r}"
        )
    if cache_dir is not None:
        # Keras falls back to /tmp/.keras when the folder does not exist.
        os.makedirs(cache_dir, exist_ok=True)
    path = keras.utils.get_file(
        fname=fname, origin=url, cache_subdir="models", cache_dir=cache_dir
    )
    try:
        verify_checkpoint_hash(path, fname)
    except ValueError:
        os.remove(path)
        raise
    return path


def weights_kind(path):
    """``"mmpose"`` for a PyTorch checkpoint, ``"keras"`` for Keras
    weights (``.weights.h5``, ``.keras``, ``.h5``)."""
    lower = os.fspath(path).lower()
    if lower.endswith(_PTH_SUFFIXES):
        return "mmpose"
    if lower.endswith(_KERAS_SUFFIXES):
        return "keras"
    raise ValueError(
        "Expected weights ending in "
        f"{', '.join(_PTH_SUFFIXES + _KERAS_SUFFIXES)} (an MMPose checkpoint "
        f"or Keras weights). Received: {os.fspath(path)!r}"
    )


def resolve_weights(weights, name=None, cache_dir=None):
    """The local weights file that ``weights`` stands for.

    Args:
        weights: None / False (no weights), True or ``"mmpose"`` (the
            preset's MMPose checkpoint URL), a URL, or a local path.
        name: the preset (needed for True / ``"mmpose"``).
        cache_dir: download cache root (see :func:`fetch_weights`).

    Returns:
        A local path, or None.
    """
    if weights is None or weights is False:
        return None
    if weights is True or weights == "mmpose":
        if name is None:
            raise ValueError(
                "weights=True / 'mmpose' means a preset's MMPose checkpoint; "
                "it needs a preset name."
            )
        weights = preset_info(name)["weights"]
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if not isinstance(weights, str):
        raise TypeError(
            "Expected weights to be None, True, 'mmpose', a URL or a file "
            f"path. Received: {type(weights).__name__} {weights!r}"
        )
    if is_url(weights):
        return fetch_weights(weights, cache_dir=cache_dir)
    if not os.path.isfile(weights):
        raise FileNotFoundError(
            f"Weights file not found: {weights!r} (expected an MMPose .pth, "
            "a Keras .weights.h5 / .keras file, a URL, or True for the "
            "preset's MMPose checkpoint)."
        )
    return weights


def _model_class(cfg, name):
    from keraspose.registry import get_class

    model_type = cfg.model.get("type")
    if model_type is None:
        raise ValueError(f"Preset {name!r}: its model config has no `type`.")
    return get_class(model_type)


def from_preset(name, weights=None, strict=True, cls=None, cache_dir=None):
    """Builds a preset's model and loads its weights.

    Args:
        name: a preset name (see :func:`list_presets`).
        weights: None (random initialisation), True or ``"mmpose"``
            (MMPose's released checkpoint, downloaded once to the Keras
            cache and checked against the SHA-256 prefix in its name), a
            URL, or a local file: an MMPose ``.pth`` (converted without
            torch; see :func:`keraspose.convert_mmpose_checkpoint`) or Keras
            weights (``.weights.h5``, ``.keras``).
        strict: for ``.pth`` files, raise on missing or unexpected keys
            (shape mismatches always raise).
        cls: the estimator class the preset must build (a subclass of it);
            ``TopdownPoseEstimator.from_preset`` passes itself.
        cache_dir: download cache root (default: Keras' ``~/.keras``).

    Returns:
        The built estimator, ready for ``predict`` /
        :func:`keraspose.apis.inference.inference_topdown`. The
        converter logs what a ``.pth`` load did (``keraspose`` logger).

    Raises:
        ValueError: unknown preset, a preset of another estimator type, or
            weights that do not fit the model.

    Example:

    >>> # model = from_preset("rtmpose-m_8xb256-420e_coco-256x192",
    >>> #                     weights=True)
    """
    key = _check_name(name)
    cfg = preset_config(key)
    model_cls = _model_class(cfg, key)
    if cls is not None and not issubclass(model_cls, cls):
        raise ValueError(
            f"Preset {key!r} builds a {model_cls.__name__}, which is not a "
            f"{cls.__name__}. Use {model_cls.__name__}.from_preset or "
            "keraspose.from_preset."
        )
    from keraspose.converters import build_estimator
    from keraspose.converters import convert_mmpose_checkpoint

    path = resolve_weights(weights, key, cache_dir=cache_dir)
    if path is None:
        return build_estimator(cfg)
    kind = weights_kind(path)
    with warnings.catch_warnings():
        # The backbone's init_cfg (ImageNet / UDP pretraining) is moot when
        # the whole model's weights are loaded.
        warnings.filterwarnings("ignore", message=_PRETRAINED_WARNING)
        if kind == "mmpose":
            return convert_mmpose_checkpoint(cfg, path, strict=strict)
        # Keras weights files hold every weight: skip the random init.
        model = build_estimator(cfg, init=False)
    model.load_weights(path)
    return model

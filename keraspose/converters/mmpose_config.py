"""Reading MMPose 1.x's own Python config files.

keraspose's configs already are MMPose-format files, so
:meth:`keraspose.utils.config.Config.fromfile` reads MMPose's configs as they
are, with MMEngine's old-style syntax (``_base_`` lists, ``_delete_``,
``{{_base_.x}}``, ``_base_.x``, ``mmpose::`` bases; see
:mod:`keraspose.utils.config`). :func:`load_mmpose_config` adds what a
config downloaded on its own needs:

* ``_base_`` files missing next to it fall back to keraspose's bundled
  configs (same path below ``configs/``, or the same file name), and
  ``_base_/datasets/<name>.py`` (MMPose's ``dataset_info`` files) to the
  metainfo shipped in ``keraspose/datasets/metainfo/``;
* ``metainfo=dict(from_file='configs/_base_/datasets/x.py')`` is resolved
  against the config's own folder tree (MMPose resolves it against the
  working directory); paths that stay unresolved are left to
  :func:`keraspose.datasets.load_metainfo`, which falls back to the
  built-in dataset of the same file name, as MMPose does;
* ``custom_imports`` is dropped with a warning (keraspose imports no code
  named by configs).

Types keraspose does not implement do not stop the reader: the config is
data until it is built. :func:`find_unsupported` lists each of them with
its dotted config path and :func:`check_supported` raises one error naming
all of them, which is more useful than :func:`keraspose.build`, which stops
at the first unknown type and does not say where in the config it was.
"""

import json
import os
import warnings

from keraspose.utils.config import BUNDLED_CONFIG_DIR
from keraspose.utils.config import Config
from keraspose.utils.config import merge_cfg_options
from keraspose.utils.config import resolve_base_path

__all__ = [
    "check_supported",
    "find_unsupported",
    "load_mmpose_config",
    "load_mmpose_dataset_info",
]


def load_mmpose_config(path, cfg_options=None):
    """Reads an MMPose 1.x (old-style) config file into a :class:`Config`.

    Args:
        path: the ``.py`` (or ``.json``) config file, MMPose's or
            keraspose's.
        cfg_options: optional dotted overrides applied after reading
            (``{"model.head.out_channels": 14}``), as MMPose's
            ``--cfg-options``; overriding ``data_root`` also rewrites the
            paths derived from it (see
            :func:`keraspose.utils.config.merge_cfg_options`).

    Returns:
        Config: the merged config, with ``filename`` set to ``path``.

    Raises:
        FileNotFoundError: the file, or one of its ``_base_`` files that has
            no bundled equivalent, is missing; the message names the config,
            the base and every place looked at.
        ValueError: the file is an MMEngine new-style (``read_base``)
            config, or is otherwise invalid.

    Example:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> path = os.path.join(folder, "my_res50.py")
        >>> with open(path, "w") as f:
        ...     _ = f.write(
        ...         "_base_ = ['../../../_base_/default_runtime.py']\\n"
        ...         "model = dict(type='TopdownPoseEstimator')\\n")
        >>> cfg = load_mmpose_config(path)  # base from the bundled configs
        >>> cfg.default_scope, cfg.model.type
        ('mmpose', 'TopdownPoseEstimator')
    """
    path = os.path.abspath(os.fspath(path))
    cfg = Config.fromfile(path, resolve_base=_resolve_base)
    custom_imports = cfg.pop("custom_imports", None)
    if custom_imports is not None:
        warnings.warn(
            f"Config {path!r}: ignoring custom_imports={custom_imports!r}; "
            "keraspose imports no modules named by configs (what MMPose "
            "imports this way is built into keraspose or not supported).",
            stacklevel=2,
        )
    _resolve_metainfo_files(cfg, path)
    cfg.setdefault("filename", path)
    if cfg_options:
        cfg = merge_cfg_options(cfg, cfg_options)
    return cfg


def load_mmpose_dataset_info(path):
    """Reads an MMPose ``dataset_info`` file (``_base_/datasets/x.py``).

    The file is read like any config (``_base_`` allowed) and its
    ``dataset_info`` dict is returned in MMPose's schema, the form of
    keraspose's ``datasets/metainfo/*.json`` files: pass it to
    :func:`keraspose.datasets.parse_pose_metainfo` (or the file path to
    :func:`keraspose.datasets.load_metainfo`) for the parsed metainfo with
    ``flip_indices``, ``sigmas`` and the rest.

    Args:
        path: the ``.py`` file defining ``dataset_info = dict(...)``.

    Returns:
        dict: ``dataset_name``, ``keypoint_info``, ``skeleton_info``,
        ``joint_weights``, ``sigmas``, ... as plain dicts and lists.

    Raises:
        ValueError: the file defines no ``dataset_info`` dict.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "pair.py")
        >>> with open(path, "w") as f:
        ...     _ = f.write(
        ...         "dataset_info = dict(dataset_name='pair', keypoint_info={"
        ...         "0: dict(name='l', id=0, swap='r'), "
        ...         "1: dict(name='r', id=1, swap='l')})\\n")
        >>> from keraspose.datasets import parse_pose_metainfo
        >>> parse_pose_metainfo(load_mmpose_dataset_info(path))[
        ...     "flip_indices"]
        [1, 0]
    """
    path = os.path.abspath(os.fspath(path))
    cfg = Config.fromfile(path, resolve_base=_resolve_base)
    info = cfg.get("dataset_info")
    if not isinstance(info, dict):
        raise ValueError(
            f"Expected {path!r} to define `dataset_info = dict(...)` as "
            "MMPose's configs/_base_/datasets/*.py files do. Received "
            f"entries {sorted(cfg)}."
        )
    return Config(info).to_dict()


def find_unsupported(cfg, sections=("model",)):
    """Lists the ``type`` names keraspose does not implement.

    Every dict with a ``type`` key below the given top-level sections is
    looked up in keraspose's registry (scope prefixes like ``mmdet.`` are
    ignored, as :func:`keraspose.build` does).

    Option dicts under keys ending in ``_cfg`` (``norm_cfg``, ``act_cfg``,
    ``init_cfg``, ...) are not registry types: the component that owns them
    checks them when it is built, so they are skipped.

    Only ``model`` is checked by default: it is what keraspose builds
    as written (the head's ``decoder`` codec included). Other sections hold
    types keraspose deliberately handles without its registry (hooks,
    visualizers, samplers, optimizers and LR schedulers are read by
    ``keraspose.apis``), so pass them explicitly, e.g.
    ``sections=("model", "train_pipeline")``.

    Args:
        cfg: a config (dict) with the sections.
        sections: top-level keys to check; None checks every one.

    Returns:
        list of ``(dotted_path, type_name)``, e.g.
        ``[("model.backbone.type", "SwinTransformer")]``, in config order.

    Example:
        >>> find_unsupported(dict(model=dict(
        ...     type="TopdownPoseEstimator",
        ...     backbone=dict(type="SwinTransformer"),
        ...     head=dict(type="HeatmapHead"))))
        [('model.backbone.type', 'SwinTransformer')]
    """
    from keraspose.registry import get_class

    found = []

    def walk(value, prefix):
        if isinstance(value, dict):
            type_name = value.get("type")
            if isinstance(type_name, str):
                try:
                    get_class(type_name)
                except ValueError:
                    found.append((f"{prefix}.type", type_name))
            for key, item in value.items():
                if not str(key).endswith("_cfg"):
                    walk(item, f"{prefix}.{key}")
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(item, f"{prefix}.{i}")

    keys = list(cfg) if sections is None else sections
    for key in keys:
        if key in cfg:
            walk(cfg[key], key)
    return found


def check_supported(cfg, sections=("model",)):
    """Raises if keraspose does not implement a ``type`` of ``cfg``.

    Args:
        cfg: a config (dict), e.g. from :func:`load_mmpose_config`.
        sections: as :func:`find_unsupported`.

    Raises:
        ValueError: naming every unsupported type with its dotted config
            path, e.g. ``model.backbone.type='SwinTransformer'``.

    Example:
        >>> check_supported(dict(model=dict(type="TopdownPoseEstimator")))
    """
    found = find_unsupported(cfg, sections)
    if found:
        listed = ", ".join(f"{path}={name!r}" for path, name in found)
        source = cfg.get("filename", "<dict>")
        raise ValueError(
            f"Config {source!r} uses types keraspose does not implement: "
            f"{listed}. Implemented types: "
            "keraspose.registry.registered_names()."
        )


# --------------------------------------------------------------------------
# Missing _base_ files


def _bundled_candidates(base, primary):
    """Paths below the bundled configs that may hold a missing base."""
    rels = []
    scope, sep, rest = base.partition("::")
    if sep:
        rels.append(rest)
    parts = primary.replace("\\", "/").split("/")
    if "configs" in parts:
        last = len(parts) - 1 - parts[::-1].index("configs")
        rels.append("/".join(parts[last + 1 :]))
    stripped = [p for p in base.replace("\\", "/").split("/")]
    while stripped and stripped[0] in (".", ".."):
        stripped.pop(0)
    rels.append("/".join(stripped))
    paths = [
        os.path.normpath(os.path.join(BUNDLED_CONFIG_DIR, r)) for r in rels
    ]
    # The same file name anywhere in the bundled tree (a downloaded config
    # whose base is a sibling zoo config); the one sharing the most trailing
    # folders with the missing path wins.
    name = os.path.basename(primary)
    matches = []
    for folder, _, files in os.walk(BUNDLED_CONFIG_DIR):
        if name in files:
            matches.append(os.path.join(folder, name))
    parts_rev = parts[::-1]

    def shared(match):
        rev = match.replace("\\", "/").split("/")[::-1]
        n = 0
        while n < min(len(rev), len(parts_rev)) and rev[n] == parts_rev[n]:
            n += 1
        return n

    paths += sorted(matches, key=lambda m: (-shared(m), m))
    return list(dict.fromkeys(paths))


def _builtin_dataset_info(name):
    """The MMPose-schema ``dataset_info`` of a built-in dataset (int ids)."""
    from keraspose.datasets.metainfo import _builtin_path

    info = json.loads(_builtin_path(name).read_text(encoding="utf-8"))
    for key in ("keypoint_info", "skeleton_info"):
        if isinstance(info.get(key), dict):
            info[key] = {int(k): v for k, v in info[key].items()}
    return info


def _resolve_base(base, config_path):
    primary = resolve_base_path(base, config_path)
    if os.path.isfile(primary):
        return primary
    looked = [primary]
    for candidate in _bundled_candidates(base, primary):
        if candidate in looked:
            continue
        looked.append(candidate)
        if os.path.isfile(candidate):
            warnings.warn(
                f"Config {config_path!r}: _base_ {base!r} is not at "
                f"{primary!r}; using keraspose's bundled {candidate!r}.",
                stacklevel=2,
            )
            return candidate
    from keraspose.datasets.metainfo import BUILTIN_METAINFO

    folder = os.path.dirname(primary)
    stem, ext = os.path.splitext(os.path.basename(primary))
    is_dataset_file = (
        os.path.basename(folder) == "datasets"
        and os.path.basename(os.path.dirname(folder)) == "_base_"
        and ext == ".py"
    )
    if is_dataset_file:
        looked.append(f"keraspose/datasets/metainfo/{stem}.json")
        if stem in BUILTIN_METAINFO:
            warnings.warn(
                f"Config {config_path!r}: _base_ {base!r} is not at "
                f"{primary!r}; using keraspose's built-in {stem!r} "
                "dataset_info.",
                stacklevel=2,
            )
            return dict(dataset_info=_builtin_dataset_info(stem))
    raise FileNotFoundError(
        f"Config {config_path!r}: its _base_ {base!r} is missing, and "
        "keraspose has no bundled equivalent. Looked at: "
        + ", ".join(looked)
        + ". Download the base next to the config (MMPose's configs/ "
        "layout) or remove it from _base_."
    )


# --------------------------------------------------------------------------
# metainfo=dict(from_file=...)


def _find_in_tree(file, config_path):
    """``file`` (relative, MMPose-style) in the config's own folder tree."""
    norm = file.replace("\\", "/")
    if os.path.isabs(file) or os.path.isfile(file) or "_base_/" not in norm:
        # MMPose's own resolution (the working directory) works, or the
        # path is no reference into MMPose's configs/ tree (data files).
        return None
    folder = os.path.dirname(config_path)
    while True:
        candidates = [os.path.join(folder, file)]
        if "/datasets/" in norm:
            candidates.append(
                os.path.join(
                    folder, "_base_", "datasets", os.path.basename(file)
                )
            )
        for candidate in candidates:
            if os.path.isfile(candidate):
                return os.path.normpath(candidate)
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _resolve_metainfo_files(value, config_path):
    """Rewrites ``metainfo`` file paths found in the config's own tree."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "metainfo":
                if isinstance(item, dict) and isinstance(
                    item.get("from_file"), str
                ):
                    found = _find_in_tree(item["from_file"], config_path)
                    if found is not None:
                        item["from_file"] = found
                    continue
                if isinstance(item, str) and item.endswith((".py", ".json")):
                    found = _find_in_tree(item, config_path)
                    if found is not None:
                        value[key] = found
                    continue
            _resolve_metainfo_files(item, config_path)
    elif isinstance(value, list | tuple):
        for item in value:
            _resolve_metainfo_files(item, config_path)

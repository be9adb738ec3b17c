"""MMPose/MMEngine-style configuration files (Python or JSON).

A config is a plain dict of top-level names (``model``, ``codec``,
``train_dataloader``, ``optim_wrapper``, ``param_scheduler``,
``train_cfg``, ``val_evaluator``, ...) read from a ``.py`` file (executed,
its public top-level variables kept) or a ``.json`` file. ``_base_`` (a path
or a list of paths, relative to the file) is merged first, recursively;
the file's own entries then override it key by key, and a dict with
``_delete_=True`` replaces its base instead of merging (MMEngine's rules).

The old-style (``_base_ = [...]``) syntax of MMEngine's ``Config.fromfile``
is supported in ``.py`` files:

* ``_base_.xxx`` inside the file reads the merged bases (the ``_base_ = ...``
  assignment is taken out before the file runs, as MMEngine does), e.g.
  ``codec = _base_.codec``;
* ``{{_base_.xxx}}`` placeholders are replaced by the base's value (only as
  a whole value, not inside a longer string, as in MMEngine);
* ``{{ fileDirname }}``, ``{{ fileBasename }}``,
  ``{{ fileBasenameNoExtension }}`` and ``{{ fileExtname }}`` become the
  file's own path parts, and ``{{$NAME:default}}`` the environment
  variable ``NAME`` (or ``default``);
* ``mmpose::path`` bases (MMEngine's cross-package form) name keraspose's
  bundled configs (``keraspose/configs/path``);
* ``_deprecation_`` entries become a ``DeprecationWarning``.

MMEngine's new-style pure-Python configs (``with read_base(): from
.._base_.default_runtime import *``, classes as ``type=ResNet``) are not
supported: reading one raises ``ValueError`` naming the file.
"""

import ast
import copy
import json
import os
import pprint
import re
import types
import warnings

_RESERVED = ("_base_", "_delete_", "_scope_")

#: keraspose's bundled configs (MMPose's ``configs/`` layout).
BUNDLED_CONFIG_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs"
)
# ``mmpose::x`` names keraspose's bundled copy of MMPose's ``configs/x``.
_PACKAGE_SCOPES = ("mmpose", "keraspose")
# Python packages whose import marks an MMEngine new-style config.
_NEW_STYLE_PACKAGES = ("mmpose", "mmdet", "mmengine", "mmcv", "mmpretrain")
_PREDEFINED = re.compile(
    r"\{\{\s*(fileDirname|fileBasename|fileBasenameNoExtension|fileExtname)"
    r"\s*\}\}"
)
_ENV_VAR = re.compile(r"\{\{['\"]?\s*\$(\w+)\s*:\s*(\S*?)\s*['\"]?\}\}")
_BASE_VAR = re.compile(r"\{\{\s*_base_\.([\w.]+)\s*\}\}")


class Config(dict):
    """A dict with attribute access (``cfg.model.backbone``) for configs.

    Example:

    >>> cfg = Config(dict(model=dict(type="ResNet", depth=50)))
    >>> cfg.model.depth
    50
    >>> cfg.merge_from_dict({"model.depth": 18})
    >>> cfg.model.depth
    18
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, value in self.items():
            super().__setitem__(key, _wrap(value))

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"The config has no entry {name!r}. Entries: {sorted(self)}"
            ) from None

    def __setattr__(self, name, value):
        self[name] = value

    def __setitem__(self, key, value):
        super().__setitem__(key, _wrap(value))

    def __deepcopy__(self, memo):
        return Config(copy.deepcopy(dict(self), memo))

    def to_dict(self):
        """Plain nested dicts and lists (for ``keraspose.build``)."""
        return _unwrap(self)

    @classmethod
    def fromfile(cls, path, resolve_base=None):
        """Reads a ``.py`` or ``.json`` config, merging its ``_base_``.

        Args:
            path: the config file.
            resolve_base: optional ``f(base, config_path)`` that maps one
                ``_base_`` entry of the file ``config_path`` to the base's
                path, or directly to its top-level entries (a dict). The
                default, :func:`resolve_base_path`, resolves relative to
                the file (and ``mmpose::`` to the bundled configs).
                ``keraspose.converters.load_mmpose_config`` passes one that
                falls back to the bundled configs for missing bases.
        """
        return cls(
            _load(
                os.path.abspath(os.fspath(path)),
                (),
                resolve_base or resolve_base_path,
            )
        )

    def merge_from_dict(self, options):
        """Sets dotted keys (``{"train_cfg.max_epochs": 2}``), like
        MMEngine's ``--cfg-options``. Integer parts index lists."""
        for dotted, value in options.items():
            parts = dotted.split(".")
            node = self
            for i, part in enumerate(parts[:-1]):
                node = _child(node, part, ".".join(parts[: i + 1]), dotted)
            last = parts[-1]
            if isinstance(node, list):
                node[int(last)] = _wrap(value)
            else:
                node[last] = value

    def dump(self, path):
        """Writes the config as ``.json`` or ``.py`` (by extension)."""
        data = self.to_dict()
        with open(path, "w") as f:
            if str(path).endswith(".json"):
                json.dump(data, f, indent=2)
            else:
                for key, value in data.items():
                    f.write(f"{key} = {pprint.pformat(value, width=78)}\n")


def merge_cfg_options(cfg, options):
    """A copy of ``cfg`` with dotted overrides (MMPose's ``--cfg-options``).

    Overriding the top-level ``data_root`` (``data_root=/data/coco/``) also
    rewrites every string of the config that starts with the old
    ``data_root`` (dataset roots, evaluator ``ann_file``s, ``bbox_file``s):
    in MMPose the variable is expanded when the file is read, so overriding
    it alone changes nothing there.

    Args:
        cfg: a :class:`Config` (or dict).
        options: ``{"train_cfg.max_epochs": 2, ...}``; see
            :meth:`Config.merge_from_dict`.

    Returns:
        Config: the new config.

    Example:
        >>> cfg = Config(dict(data_root="data/", ann="data/a.json"))
        >>> merge_cfg_options(cfg, {"data_root": "/d/"}).ann
        '/d/a.json'
    """
    cfg = Config(_unwrap(cfg))
    if not options:
        return cfg
    old_root = cfg.get("data_root")
    cfg.merge_from_dict(options)
    new_root = cfg.get("data_root")
    if isinstance(old_root, str) and old_root and new_root != old_root:
        new_root = str(new_root)
        if old_root.endswith("/") and not new_root.endswith("/"):
            new_root += "/"
        cfg = Config(_replace_prefix(cfg.to_dict(), old_root, new_root))
    return cfg


def _replace_prefix(value, old, new):
    if isinstance(value, dict):
        return {k: _replace_prefix(v, old, new) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_replace_prefix(v, old, new) for v in value)
    if isinstance(value, str) and value.startswith(old):
        return new + value[len(old) :]
    return value


def _child(node, part, prefix, dotted):
    if isinstance(node, list):
        try:
            return node[int(part)]
        except (ValueError, IndexError):
            raise ValueError(
                f"Config option {dotted!r}: {prefix!r} is not a valid index "
                f"of a list of {len(node)}."
            ) from None
    if part not in node or not isinstance(node[part], dict | list):
        node[part] = Config()
    return node[part]


def _wrap(value):
    if isinstance(value, Config):
        return value
    if isinstance(value, dict):
        return Config(value)
    if isinstance(value, list | tuple):
        return type(value)(_wrap(v) for v in value)
    return value


def to_plain(value):
    """Plain dicts/lists of a config value (``Config`` objects unwrapped)."""
    return _unwrap(value)


def _unwrap(value):
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_unwrap(v) for v in value)
    return value


def resolve_base_path(base, config_path):
    """The path of one ``_base_`` entry of the config file ``config_path``.

    ``base`` is relative to the file's folder; MMEngine's cross-package form
    ``mmpose::_base_/default_runtime.py`` names keraspose's bundled configs
    (:data:`BUNDLED_CONFIG_DIR`), which follow MMPose's layout.

    Raises:
        TypeError: ``base`` is not a str.
        ValueError: ``base`` names a package other than ``mmpose``.
    """
    if not isinstance(base, str):
        raise TypeError(
            f"Config {config_path!r}: expected _base_ to be a path or a list "
            f"of paths (str). Received {type(base).__name__} {base!r}."
        )
    scope, sep, rest = base.partition("::")
    if sep:
        if scope not in _PACKAGE_SCOPES:
            raise ValueError(
                f"Config {config_path!r}: _base_ {base!r} names the package "
                f"{scope!r}; keraspose resolves only 'mmpose::' bases (to "
                f"its bundled configs in {BUNDLED_CONFIG_DIR})."
            )
        return os.path.normpath(os.path.join(BUNDLED_CONFIG_DIR, rest))
    return os.path.normpath(os.path.join(os.path.dirname(config_path), base))


def _read_json(path):
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"Config {path!r} is not valid JSON: {err}"
            ) from None
    if not isinstance(data, dict):
        raise ValueError(
            f"Config {path!r} must hold a JSON object at the top level; "
            f"received {type(data).__name__}."
        )
    return data


def _check_old_style(tree, path):
    """Raises for MMEngine's new-style (``read_base``) configs."""
    for node in ast.walk(tree):
        new_style = False
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "_base_"
        ):
            return  # MMEngine: a `_base_` assignment means old-style
        if isinstance(node, ast.With | ast.AsyncWith):
            new_style = any(
                isinstance(item.context_expr, ast.Call)
                and getattr(item.context_expr.func, "id", None) == "read_base"
                for item in node.items
            )
        elif isinstance(node, ast.ImportFrom):
            new_style = node.level > 0 or (
                (node.module or "").split(".")[0] in _NEW_STYLE_PACKAGES
            )
        elif isinstance(node, ast.Import):
            new_style = any(
                alias.name.split(".")[0] in _NEW_STYLE_PACKAGES
                for alias in node.names
            )
        if new_style:
            raise ValueError(
                f"Config {path!r} is an MMEngine new-style (pure Python) "
                f"config (line {node.lineno}: `{ast.unparse(node)[:60]}`); "
                "keraspose reads only old-style configs (`_base_ = [...]`, "
                "`type='ResNet'` as strings). Use the old-style config of "
                "the same name from MMPose's configs/ folder."
            )


def _substitute_text(source, path, chain):
    """MMEngine's text substitutions; returns the new source and the
    ``{{_base_.x}}`` placeholders."""
    parts = dict(
        fileDirname=os.path.dirname(path),
        fileBasename=os.path.basename(path),
        fileBasenameNoExtension=os.path.splitext(os.path.basename(path))[0],
        fileExtname=os.path.splitext(path)[1],
    )
    source = _PREDEFINED.sub(
        lambda m: parts[m.group(1)].replace("\\", "/"), source
    )

    def env(match):
        name, default = match.groups()
        value = os.environ.get(name, default)
        if not value:
            raise ValueError(
                f"Config {path!r} uses the environment variable {name!r} "
                f"({match.group(0)}), which is not set and has no default."
            )
        return value

    source = _ENV_VAR.sub(env, source)
    placeholders = {}

    def base_var(match):
        key = f"__keraspose_base_{len(chain)}_{len(placeholders)}__"
        placeholders[key] = match.group(1)
        return repr(key)

    return _BASE_VAR.sub(base_var, source), placeholders


def _split_base(tree, path):
    """Takes the top-level ``_base_ = ...`` out of the module: (bases, tree)."""
    bases = None
    body = []
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "_base_"
        ):
            try:
                bases = ast.literal_eval(node.value)
            except ValueError:
                raise ValueError(
                    f"Config {path!r}: expected _base_ to be a path or a "
                    "list of paths written as string literals. Received "
                    f"`{ast.unparse(node.value)}`."
                ) from None
        else:
            body.append(node)
    tree.body = body
    return bases, tree


def _lookup_base(base_cfg, dotted, path):
    node = base_cfg
    for i, key in enumerate(dotted.split(".")):
        if not isinstance(node, dict) or key not in node:
            where = ".".join(["_base_", *dotted.split(".")[:i]])
            keys = sorted(node) if isinstance(node, dict) else type(node)
            raise ValueError(
                f"Config {path!r}: {{{{_base_.{dotted}}}}} names {key!r}, "
                f"which {where} does not have. Entries: {keys}"
            )
        node = node[key]
    return node


def _substitute_base_vars(value, placeholders, base_cfg, path):
    if isinstance(value, str) and value in placeholders:
        return copy.deepcopy(_lookup_base(base_cfg, placeholders[value], path))
    if isinstance(value, dict):
        return {
            k: _substitute_base_vars(v, placeholders, base_cfg, path)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(
            _substitute_base_vars(v, placeholders, base_cfg, path)
            for v in value
        )
    return value


def _exec_python(path, chain, resolve):
    with open(path, encoding="utf-8") as f:
        source = f.read()
    source, placeholders = _substitute_text(source, path, chain)
    try:
        tree = ast.parse(source, path)
    except SyntaxError as err:
        raise ValueError(
            f"Config {path!r} is not valid Python: {err}"
        ) from None
    _check_old_style(tree, path)
    bases, tree = _split_base(tree, path)
    base_cfg = Config(_load_bases(bases, path, chain, resolve))
    namespace = {
        "_base_": base_cfg,
        "__file__": path,
        "__name__": "__keraspose_config__",
    }
    exec(compile(tree, path, "exec"), namespace)  # noqa: S102
    data = {
        key: value
        for key, value in namespace.items()
        if not key.startswith("__")
        and key != "_base_"
        and not isinstance(value, types.ModuleType | types.FunctionType)
        and not isinstance(value, type)
    }
    if placeholders:
        data = _substitute_base_vars(data, placeholders, base_cfg, path)
    return base_cfg, data


def _load_bases(bases, path, chain, resolve):
    if bases is None:
        return {}
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list | tuple):
        raise TypeError(
            f"Config {path!r}: expected _base_ to be a path or a list of "
            f"paths. Received {type(bases).__name__} {bases!r}."
        )
    merged = {}
    for base in bases:
        found = resolve(base, path)
        if isinstance(found, dict):
            base_data = dict(found)
        else:
            base_path = os.path.abspath(os.fspath(found))
            if not os.path.isfile(base_path):
                raise FileNotFoundError(
                    f"Config {path!r}: its _base_ {base!r} was not found "
                    f"at {base_path!r}."
                )
            base_data = _load(base_path, (*chain, path), resolve)
        duplicated = set(merged) & set(base_data)
        if duplicated:
            raise ValueError(
                f"Config {path!r}: its _base_ files both define "
                f"{sorted(duplicated)}; MMEngine does not allow that."
            )
        merged.update(base_data)
    return merged


def _load(path, chain, resolve):
    if path in chain:
        raise ValueError(
            "Config _base_ files form a cycle: " + " -> ".join([*chain, path])
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Config file not found: {path!r}")
    if path.endswith(".json"):
        data = _read_json(path)
        base = _load_bases(data.pop("_base_", None), path, chain, resolve)
    elif path.endswith(".py"):
        base, data = _exec_python(path, chain, resolve)
    else:
        raise ValueError(
            f"Expected a config file ending in .py or .json. Received: {path!r}"
        )
    deprecation = data.pop("_deprecation_", None)
    if deprecation is not None:
        message = f"The config file {path} will be deprecated."
        if isinstance(deprecation, dict) and "expected" in deprecation:
            message += f" Use {deprecation['expected']} instead."
        if isinstance(deprecation, dict) and "reference" in deprecation:
            message += f" More information: {deprecation['reference']}"
        warnings.warn(message, DeprecationWarning, stacklevel=2)
    if not base:
        return data
    return _merge(base, data)


def _merge(base, override):
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and value.get("_delete_", False):
            out[key] = {k: v for k, v in value.items() if k != "_delete_"}
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out

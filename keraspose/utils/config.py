"""MMPose/MMEngine-style configuration files (Python or JSON).

A config is a plain dict of top-level names (``model``, ``codec``,
``train_dataloader``, ``optim_wrapper``, ``param_scheduler``,
``train_cfg``, ``val_evaluator``, ...) read from a ``.py`` file (executed,
its public top-level variables kept) or a ``.json`` file. ``_base_`` (a path
or a list of paths, relative to the file) is merged first, recursively;
the file's own entries then override it key by key, and a dict with
``_delete_=True`` replaces its base instead of merging (MMEngine's rules).
"""

import copy
import json
import os
import pprint
import types

_RESERVED = ("_base_", "_delete_", "_scope_")


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
    def fromfile(cls, path):
        """Reads a ``.py`` or ``.json`` config, merging its ``_base_``."""
        return cls(_load(os.path.abspath(os.fspath(path)), ()))

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


def _read_file(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Config file not found: {path!r}")
    if path.endswith(".json"):
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
    if not path.endswith(".py"):
        raise ValueError(
            f"Expected a config file ending in .py or .json. Received: {path!r}"
        )
    namespace = {"__file__": path, "__name__": "__keraspose_config__"}
    with open(path) as f:
        source = f.read()
    exec(compile(source, path, "exec"), namespace)  # noqa: S102
    return {
        key: value
        for key, value in namespace.items()
        if (not key.startswith("__") or key == "_base_")
        and not isinstance(value, types.ModuleType | types.FunctionType)
        and not isinstance(value, type)
    }


def _load(path, chain):
    if path in chain:
        raise ValueError(
            "Config _base_ files form a cycle: " + " -> ".join([*chain, path])
        )
    data = _read_file(path)
    bases = data.pop("_base_", None)
    if bases is None:
        return data
    if isinstance(bases, str):
        bases = [bases]
    merged = {}
    for base in bases:
        base_path = os.path.normpath(os.path.join(os.path.dirname(path), base))
        base_data = _load(base_path, (*chain, path))
        duplicated = set(merged) & set(base_data)
        if duplicated:
            raise ValueError(
                f"Config {path!r}: its _base_ files both define "
                f"{sorted(duplicated)}; MMEngine does not allow that."
            )
        merged.update(base_data)
    return _merge(merged, data)


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

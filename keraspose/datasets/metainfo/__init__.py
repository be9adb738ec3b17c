"""Dataset metainfo: keypoint names, flip pairs, skeleton, weights, sigmas.

The built-in datasets ship as JSON files next to this module. They hold
MMPose 1.3.2's ``dataset_info`` dicts (``configs/_base_/datasets/*.py``)
value for value and are produced by ``tools/make_metainfo.py``.

:func:`load_metainfo` accepts everything MMPose accepts as ``metainfo`` (a
built-in name, a JSON or MMPose-style ``.py`` file, a raw dict, or
``dict(from_file=...)``) and returns the parsed form of
:func:`parse_pose_metainfo`, which uses MMPose's key names.

Example:
    >>> meta = load_metainfo("coco")
    >>> meta["num_keypoints"]
    17
    >>> meta["flip_indices"][:5]
    [0, 2, 1, 4, 3]
"""

import json
import math
import numbers
import os
import runpy
from collections.abc import Mapping
from collections.abc import Sequence
from importlib import resources

import numpy as np

__all__ = ["BUILTIN_METAINFO", "load_metainfo", "parse_pose_metainfo"]

BUILTIN_METAINFO = (
    "coco",
    "coco_wholebody",
    "mpii",
    "crowdpose",
    "ap10k",
    "onehand10k",
    "wflw",
    "h36m",
)

# MMPose's defaults for entries without a color.
_DEFAULT_KEYPOINT_COLOR = (255, 128, 0)
_DEFAULT_LINK_COLOR = (96, 96, 255)
_KEYPOINT_TYPES = ("upper", "lower", "")


def load_metainfo(metainfo):
    """Loads and parses dataset metainfo.

    Args:
        metainfo: one of

            * a built-in name from :data:`BUILTIN_METAINFO`, e.g. ``"coco"``;
            * a path to a ``.json`` file holding an MMPose-schema dict (as
              written by ``tools/make_metainfo.py``);
            * a path to an MMPose-style ``.py`` file that defines a
              module-level ``dataset_info = dict(...)`` (or ``metainfo``);
              the file is executed with :func:`runpy.run_path`, so only load
              files you trust;
            * a path that does not exist but whose file name is a built-in,
              such as MMPose's ``"configs/_base_/datasets/coco.py"``: the
              shipped copy of that dataset is used (as MMPose does when its
              configs are not on disk);
            * ``dict(from_file=path)``, as in MMPose configs
              (``metainfo=dict(from_file='configs/_base_/datasets/coco.py')``);
              the path is resolved as above;
            * a raw MMPose-schema dict (``keypoint_info``, ``skeleton_info``,
              ``joint_weights``, ``sigmas``, ...);
            * an already parsed dict (it has ``num_keypoints`` and
              ``flip_indices``), which is returned unchanged.

    Returns:
        dict: the parsed metainfo; see :func:`parse_pose_metainfo`.

    Raises:
        TypeError: ``metainfo`` (or the object a file defines) has the
            wrong type.
        FileNotFoundError: a path that does not exist and is no built-in.
        ValueError: the metainfo is invalid; the message names the source,
            the field and the offending value.

    Example:
        >>> load_metainfo("coco")["num_keypoints"]
        17
        >>> load_metainfo("configs/_base_/datasets/mpii.py")["flip_indices"]
        [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10]
    """
    if isinstance(metainfo, Mapping):
        if "from_file" in metainfo:
            path = metainfo["from_file"]
            if not isinstance(path, (str, os.PathLike)):
                raise TypeError(
                    "Invalid metainfo: `from_file` must be a path (str or "
                    f"os.PathLike), got {type(path).__name__} {path!r}."
                )
            return _load_path(os.fspath(path))
        if "num_keypoints" in metainfo and "flip_indices" in metainfo:
            return metainfo
        return parse_pose_metainfo(metainfo)
    if isinstance(metainfo, (str, os.PathLike)):
        return _load_path(os.fspath(metainfo))
    raise TypeError(
        "metainfo must be a built-in name "
        f"({', '.join(BUILTIN_METAINFO)}), a path to a .json / .py file, "
        f"or a dict; got {type(metainfo).__name__} {metainfo!r}."
    )


def parse_pose_metainfo(dataset_info, source="<dict>"):
    """Validates MMPose-schema metainfo and converts it to the parsed form.

    The result matches MMPose's ``parse_pose_metainfo`` (same keys, same
    values), except that ids come as Python ints, ``flip_pairs`` and
    ``skeleton_links`` are lists of ``[i, j]`` lists (MMPose: tuples), and
    ``keypoint_names`` is added.

    Unlike MMPose, the input is checked thoroughly and any problem raises
    ``ValueError`` naming ``source``, the field and the offending value.
    Only ``keypoint_info`` is required: a missing ``skeleton_info`` means no
    links, missing ``joint_weights`` means all ones, and missing or empty
    ``sigmas`` (as in MMPose's WFLW, OneHand10K and Human3.6M) gives an
    empty array. COCO-style AP (OKS) needs one sigma per keypoint.

    Args:
        dataset_info: MMPose-schema dict with ``keypoint_info``
            (``{id: {name, id, color, type, swap}}``) and optionally
            ``dataset_name``, ``skeleton_info`` (``{id: {link: (a, b),
            id, color}}``), ``joint_weights``, ``sigmas`` and
            ``stats_info``. Keys may be ints or decimal strings (JSON).
            A dict with ``from_file`` is loaded with :func:`load_metainfo`.
        source: where the dict came from, used in error messages.

    Returns:
        dict: with keys

        * ``dataset_name`` (str)
        * ``num_keypoints`` (int): K
        * ``keypoint_names`` (list of str): names in id order
        * ``keypoint_id2name`` / ``keypoint_name2id`` (dict)
        * ``upper_body_ids`` / ``lower_body_ids`` (list of int)
        * ``flip_indices`` (list of int): the id each keypoint becomes after
          a horizontal flip; keypoints without ``swap`` map to themselves
        * ``flip_pairs`` (list of ``[swap_id, id]``): one entry per
          keypoint that has a partner, so, as in MMPose, every pair appears
          in both orders; use ``flip_indices`` to flip
        * ``keypoint_colors`` (np.uint8, (K, 3))
        * ``num_skeleton_links`` (int): L
        * ``skeleton_links`` (list of ``[i, j]`` ids)
        * ``skeleton_link_colors`` (np.uint8, (L, 3))
        * ``dataset_keypoint_weights`` (np.float32, (K,))
        * ``sigmas`` (np.float32, (K,) or (0,) when the input has none)
        * ``stats_info`` (dict of np.float32 arrays), only if present

    Raises:
        TypeError: ``dataset_info`` is not a dict.
        ValueError: the metainfo is invalid.

    Example:
        >>> info = dict(
        ...     keypoint_info={
        ...         0: dict(name="nose", id=0, swap=""),
        ...         1: dict(name="left_eye", id=1, swap="right_eye"),
        ...         2: dict(name="right_eye", id=2, swap="left_eye"),
        ...     },
        ...     skeleton_info={0: dict(link=("left_eye", "right_eye"))},
        ... )
        >>> meta = parse_pose_metainfo(info)
        >>> meta["flip_indices"], meta["skeleton_links"]
        ([0, 2, 1], [[1, 2]])
    """
    if not isinstance(dataset_info, Mapping):
        raise TypeError(
            f"Invalid metainfo in {source}: expected a dict in MMPose's "
            "dataset_info schema (keypoint_info, skeleton_info, "
            f"joint_weights, sigmas), got {type(dataset_info).__name__}."
        )
    if "from_file" in dataset_info:
        return load_metainfo(dataset_info)

    def fail(message):
        raise ValueError(f"Invalid metainfo in {source}: {message}")

    name = dataset_info.get("dataset_name", "unknown")
    if not isinstance(name, str):
        fail(f"dataset_name must be a str, got {name!r}.")

    keypoints = _parse_keypoints(dataset_info, fail)
    k = len(keypoints)
    names = [kpt["name"] for kpt in keypoints]
    name2id = {kpt_name: i for i, kpt_name in enumerate(names)}

    flip_indices, flip_pairs = [], []
    for i, kpt in enumerate(keypoints):
        swap = kpt["swap"]
        if swap in ("", kpt["name"]):
            flip_indices.append(i)
            continue
        field = f"keypoint_info[{i}] ({kpt['name']!r})"
        if swap not in name2id:
            fail(
                f"{field} swaps with {swap!r}, which is not a keypoint name. "
                "Expected '' or one of the names in keypoint_info."
            )
        back = keypoints[name2id[swap]]["swap"]
        if back != kpt["name"]:
            fail(
                f"{field} swaps with {swap!r}, but {swap!r} swaps with "
                f"{back!r}. Expected a symmetric swap."
            )
        flip_indices.append(name2id[swap])
        if [name2id[swap], i] not in flip_pairs:
            flip_pairs.append([name2id[swap], i])

    links, link_colors = _parse_skeleton(dataset_info, name2id, fail)

    weights = dataset_info.get("joint_weights")
    if weights is None:
        weights = np.ones((k,), np.float32)
    else:
        weights = _float_vector(weights, "joint_weights", k, fail)
    sigmas = dataset_info.get("sigmas")
    if sigmas is None or (_is_sequence(sigmas) and len(sigmas) == 0):
        sigmas = np.zeros((0,), np.float32)
    else:
        sigmas = _float_vector(sigmas, "sigmas", k, fail, positive=True)

    parsed = dict(
        dataset_name=name,
        num_keypoints=k,
        keypoint_names=names,
        keypoint_id2name=dict(enumerate(names)),
        keypoint_name2id=name2id,
        upper_body_ids=[
            i for i, kpt in enumerate(keypoints) if kpt["type"] == "upper"
        ],
        lower_body_ids=[
            i for i, kpt in enumerate(keypoints) if kpt["type"] == "lower"
        ],
        flip_indices=flip_indices,
        flip_pairs=flip_pairs,
        keypoint_colors=np.array(
            [kpt["color"] for kpt in keypoints], np.uint8
        ).reshape(k, 3),
        num_skeleton_links=len(links),
        skeleton_links=links,
        skeleton_link_colors=np.array(link_colors, np.uint8).reshape(-1, 3),
        dataset_keypoint_weights=weights,
        sigmas=sigmas,
    )
    if "stats_info" in dataset_info:
        parsed["stats_info"] = _parse_stats(dataset_info["stats_info"], fail)
    return parsed


# --------------------------------------------------------------------------
# Loading


def _builtin_path(name):
    return resources.files(__name__).joinpath(f"{name}.json")


def _load_path(path):
    if path in BUILTIN_METAINFO:
        ref = _builtin_path(path)
        return _parse_json_text(ref.read_text(encoding="utf-8"), str(ref))
    if os.path.isfile(path):
        ext = os.path.splitext(path)[1].lower()
        if ext == ".json":
            with open(path, encoding="utf-8") as f:
                return _parse_json_text(f.read(), path)
        if ext == ".py":
            return _load_py(path)
        raise ValueError(
            f"Cannot load metainfo from {path}: expected a .json or .py "
            f"file, got a {ext or 'extension-less'} file."
        )
    stem, ext = os.path.splitext(os.path.basename(path))
    if ext.lower() in (".py", ".json") and stem in BUILTIN_METAINFO:
        # MMPose-style config path, e.g. configs/_base_/datasets/coco.py.
        return _load_path(stem)
    raise FileNotFoundError(
        f"Metainfo {path!r} is neither an existing file nor a built-in "
        f"dataset. Built-ins: {', '.join(BUILTIN_METAINFO)} (also matched "
        "by file name, e.g. 'configs/_base_/datasets/coco.py')."
    )


def _parse_json_text(text, source):
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"Invalid metainfo in {source}: not JSON ({e})."
        ) from e
    if not isinstance(obj, dict):
        raise TypeError(
            f"Invalid metainfo in {source}: expected a JSON object in "
            f"MMPose's dataset_info schema, got {type(obj).__name__}."
        )
    return parse_pose_metainfo(obj, source)


def _load_py(path):
    namespace = runpy.run_path(path)
    for var in ("dataset_info", "metainfo"):
        if var in namespace:
            obj = namespace[var]
            if not isinstance(obj, Mapping):
                raise TypeError(
                    f"Invalid metainfo in {path}: `{var}` must be a dict, "
                    f"got {type(obj).__name__}."
                )
            if "from_file" in obj:
                return load_metainfo(obj)
            return parse_pose_metainfo(obj, path)
    raise ValueError(
        f"Invalid metainfo in {path}: expected a module-level "
        "`dataset_info = dict(...)` (or `metainfo`), found neither."
    )


# --------------------------------------------------------------------------
# Field parsing


def _is_sequence(value):
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(
        value, (str, bytes)
    )


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _as_index(key):
    """Int id from an int key or a decimal-string key (JSON), else None."""
    if _is_int(key):
        return int(key)
    if isinstance(key, str) and key.isdecimal():
        return int(key)
    return None


def _check_color(color, field, fail):
    ok = (
        _is_sequence(color)
        and len(color) == 3
        and all(_is_int(c) and 0 <= c <= 255 for c in color)
    )
    if not ok:
        fail(f"{field}.color must be 3 ints in 0..255, got {color!r}.")
    return [int(c) for c in color]


def _parse_keypoints(dataset_info, fail):
    if "keypoint_info" not in dataset_info:
        fail(
            "missing required field 'keypoint_info' ({id: {name, id, color, "
            f"type, swap}}); got fields {sorted(map(str, dataset_info))}."
        )
    info = dataset_info["keypoint_info"]
    if not isinstance(info, Mapping) or not info:
        fail(
            "keypoint_info must be a non-empty dict {id: {name, ...}}, got "
            f"{info!r}."
        )
    by_id = {}
    for key, kpt in info.items():
        idx = _as_index(key)
        if idx is None:
            fail(f"keypoint_info key {key!r} is not an integer id.")
        if idx in by_id:
            fail(f"keypoint_info has the id {idx} twice.")
        by_id[idx] = (key, kpt)
    if sorted(by_id) != list(range(len(by_id))):
        fail(
            f"keypoint_info ids must be exactly 0..{len(by_id) - 1}, got "
            f"{sorted(by_id)}."
        )

    keypoints, seen = [], {}
    for idx in range(len(by_id)):
        key, kpt = by_id[idx]
        field = f"keypoint_info[{key!r}]"
        if not isinstance(kpt, Mapping):
            fail(f"{field} must be a dict with a 'name', got {kpt!r}.")
        name = kpt.get("name")
        if not isinstance(name, str) or not name:
            fail(f"{field}.name must be a non-empty str, got {name!r}.")
        field = f"keypoint_info[{idx}] ({name!r})"
        if "id" in kpt and (not _is_int(kpt["id"]) or kpt["id"] != idx):
            fail(f"{field} has id {kpt['id']!r}; expected its key, {idx}.")
        if name in seen:
            fail(
                f"{field}: name {name!r} is already used by keypoint "
                f"{seen[name]}. Expected unique names."
            )
        seen[name] = idx
        kpt_type = kpt.get("type", "")
        if kpt_type not in _KEYPOINT_TYPES:
            fail(
                f"{field}.type must be 'upper', 'lower' or '', got "
                f"{kpt_type!r}."
            )
        swap = kpt.get("swap", "")
        if not isinstance(swap, str):
            fail(f"{field}.swap must be a keypoint name or '', got {swap!r}.")
        color = _check_color(
            kpt.get("color", _DEFAULT_KEYPOINT_COLOR), field, fail
        )
        keypoints.append(dict(name=name, type=kpt_type, swap=swap, color=color))
    return keypoints


def _parse_skeleton(dataset_info, name2id, fail):
    info = dataset_info.get("skeleton_info")
    if info is None:
        return [], []
    if not isinstance(info, Mapping):
        fail(
            f"skeleton_info must be a dict {{id: {{link, ...}}}}, got {info!r}."
        )
    links, colors = [], []
    # MMPose ignores the links' "id" (its AP-10K file repeats id 6), so do we.
    for key, sk in info.items():
        field = f"skeleton_info[{key!r}]"
        link = sk.get("link") if isinstance(sk, Mapping) else None
        if not _is_sequence(link) or len(link) != 2:
            fail(
                f"{field}.link must be a pair of keypoint names, got {link!r}."
            )
        for end in link:
            if not isinstance(end, str) or end not in name2id:
                fail(
                    f"{field}.link {tuple(link)!r} names {end!r}, which is "
                    "not a keypoint name. Expected names from keypoint_info."
                )
        links.append([name2id[link[0]], name2id[link[1]]])
        colors.append(
            _check_color(sk.get("color", _DEFAULT_LINK_COLOR), field, fail)
        )
    return links, colors


def _float_vector(values, field, k, fail, positive=False):
    if not _is_sequence(values):
        fail(f"{field} must be a list of {k} numbers, got {values!r}.")
    if len(values) != k:
        fail(
            f"{field} has {len(values)} values; expected one per keypoint "
            f"({k})."
        )
    for i, v in enumerate(values):
        ok = (
            isinstance(v, numbers.Real)
            and not isinstance(v, bool)
            and math.isfinite(v)
            and (v > 0 if positive else v >= 0)
        )
        if not ok:
            kind = "positive" if positive else "non-negative"
            fail(f"{field}[{i}] must be a finite {kind} number, got {v!r}.")
    return np.array(values, np.float32)


def _parse_stats(stats, fail):
    if not isinstance(stats, Mapping):
        fail(f"stats_info must be a dict of numbers, got {stats!r}.")
    out = {}
    for key, val in stats.items():
        try:
            out[key] = np.array(val, np.float32)
        except (TypeError, ValueError):
            fail(f"stats_info[{key!r}] must be numeric, got {val!r}.")
    return out

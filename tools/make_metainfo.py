"""Writes keraspose/datasets/metainfo/*.json from MMPose's dataset configs.

Run with the MMPose reference environment (the one with mmpose installed):

    /work/mmpose-ref/bin/python tools/make_metainfo.py [OUTPUT_DIR]

The ``dataset_info`` dict of each ``configs/_base_/datasets/<name>.py``
shipped inside the installed mmpose package is written unchanged (same keys,
same values; tuples become JSON lists and the integer keys of
``keypoint_info`` / ``skeleton_info`` become strings) to
``<OUTPUT_DIR>/<name>.json``. OUTPUT_DIR defaults to
``keraspose/datasets/metainfo`` next to this script.

The files use one keypoint / link per line so that they stay small yet
diff-friendly.
"""

import importlib.util
import json
import sys
from pathlib import Path

from mmengine import Config

NAMES = (
    "coco",
    "coco_wholebody",
    "mpii",
    "crowdpose",
    "ap10k",
    "onehand10k",
    "wflw",
    "h36m",
)
# The order of the top-level fields in the written files.
FIELD_ORDER = (
    "dataset_name",
    "paper_info",
    "keypoint_info",
    "skeleton_info",
    "joint_weights",
    "sigmas",
)


def mmpose_dataset_config_dir():
    """Returns the folder holding MMPose's ``_base_/datasets`` configs."""
    spec = importlib.util.find_spec("mmpose")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("mmpose is not installed in this Python environment.")
    root = Path(next(iter(spec.submodule_search_locations)))
    folder = root / ".mim" / "configs" / "_base_" / "datasets"
    if not folder.is_dir():
        sys.exit(f"MMPose's dataset configs were not found at {folder}.")
    return folder


def plain(obj):
    """Converts mmengine ConfigDicts / tuples into plain JSON-able values."""
    if isinstance(obj, dict):
        return {str(key): plain(val) for key, val in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(val) for val in obj]
    return obj


def dumps(info):
    """Serialises one dataset_info dict, one keypoint / link per line."""

    def one(val):
        return json.dumps(val, ensure_ascii=False)

    keys = [k for k in FIELD_ORDER if k in info]
    keys += [k for k in info if k not in FIELD_ORDER]
    lines = []
    for key in keys:
        val = info[key]
        if key in ("keypoint_info", "skeleton_info"):
            body = ",\n".join(
                f"    {one(idx)}: {one(entry)}" for idx, entry in val.items()
            )
            text = "{\n" + body + "\n  }" if val else "{}"
        else:
            text = one(val)
        lines.append(f"  {one(key)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv):
    out_dir = (
        Path(argv[1])
        if len(argv) > 1
        else Path(__file__).resolve().parents[1]
        / "keraspose"
        / "datasets"
        / "metainfo"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg_dir = mmpose_dataset_config_dir()
    for name in NAMES:
        cfg_file = cfg_dir / f"{name}.py"
        info = plain(Config.fromfile(str(cfg_file)).dataset_info.to_dict())
        text = dumps(info)
        if json.loads(text) != info:  # the writer must be lossless
            sys.exit(f"Round trip of {cfg_file} through JSON changed it.")
        (out_dir / f"{name}.json").write_text(text, encoding="utf-8")
        print(f"{cfg_file} -> {out_dir / f'{name}.json'}")


if __name__ == "__main__":
    main(sys.argv)

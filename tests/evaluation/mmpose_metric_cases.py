"""Runs keraspose metrics on the cases of tests/fixtures/mmpose_metrics.npz.

The fixture is made by ``tools/make_mmpose_metric_fixtures.py`` with the
real MMPose 1.3.2 (see its docstring for the keys).
"""

import functools
import json
from pathlib import Path

import numpy as np

import keraspose
from keraspose.datasets.metainfo import load_metainfo

PATH = Path(__file__).resolve().parents[1] / "fixtures" / "mmpose_metrics.npz"
#: ``m_<case>_*`` arrays that are ``process`` inputs.
INPUT_KEYS = (
    "keypoints",
    "keypoints_visible",
    "bbox",
    "head_size",
    "box_size",
    "lifting_target",
    "lifting_target_visible",
    "target_img_path",
)


@functools.cache
def load():
    with np.load(PATH) as data:
        return {key: data[key] for key in data.files}


def cases():
    return sorted(
        key[2 : -len("_config")]
        for key in load()
        if key.startswith("m_") and key.endswith("_config")
    )


def config(case, **overrides):
    cfg = json.loads(str(load()[f"m_{case}_config"]))
    cfg.update(overrides)
    if cfg["type"] == "MPJPE":  # MMPose always reports per action
        cfg.setdefault("has_action", True)
    return cfg


def arrays(case):
    """``(pred, inputs, batch sizes)`` of a case."""
    fx = load()
    prefix = f"m_{fx[f'm_{case}_data']}_"
    inputs = {k: fx[prefix + k] for k in INPUT_KEYS if prefix + k in fx}
    return fx[prefix + "pred"], inputs, list(fx[f"m_{case}_batches"])


def expected(case):
    fx = load()
    keys = [str(k) for k in fx[f"m_{case}_keys"]]
    return dict(zip(keys, fx[f"m_{case}_values"].tolist()))


def set_meta(metric, case):
    meta = str(load()[f"m_{case}_meta"])
    if meta:
        metric.dataset_meta = load_metainfo(meta)
    return metric


def feed(metric, case, batches=None):
    """Processes a case's data in its batches; returns ``evaluate()``."""
    pred, inputs, sizes = arrays(case)
    start = 0
    for size in batches or sizes:
        sl = slice(start, start + size)
        metric.process(
            {"keypoints": pred[sl]}, {k: v[sl] for k, v in inputs.items()}
        )
        start += size
    return metric.evaluate()


def run(case, **overrides):
    """Builds the case's metric from its MMPose config and evaluates it."""
    metric = set_meta(keraspose.build(config(case, **overrides)), case)
    return feed(metric, case)

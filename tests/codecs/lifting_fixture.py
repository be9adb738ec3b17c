"""Reads the pose-lifting cases of ``tests/fixtures/mmpose_lifting.npz``.

Shared by the codec tests and the graph-encoder test (generator:
``tools/make_mmpose_lifting_fixtures.py``).
"""

import json

import numpy as np

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import to_numpy

_CACHE = {}

#: MMPose's keypoint_labels layout needs the keypoint channel count.
INPUT_KEYS = ("keypoints_visible", "lifting_target", "lifting_target_visible")


def load():
    if "fx" not in _CACHE:
        _CACHE["fx"] = dict(np.load(FIXTURES / "mmpose_lifting.npz"))
    return _CACHE["fx"]


def cases(prefix):
    """Names of the fixture cases starting with ``prefix``."""
    return sorted(
        {k.split(":")[0] for k in load() if k.startswith(prefix + "_")}
    )


def _is_output(key):
    return key.startswith(("enc_", "camera_param_"))


def case(name):
    """``(cfg, inputs, expected)`` of one case (expected without ``enc_``)."""
    fx = load()
    items = {
        k.split(":", 1)[1]: v
        for k, v in fx.items()
        if k.split(":", 1)[0] == name
    }
    cfg = json.loads(str(items.pop("cfg")))
    expected = {
        k.removeprefix("enc_"): v for k, v in items.items() if _is_output(k)
    }
    inputs = {k: v for k, v in items.items() if not _is_output(k)}
    return cfg, inputs, expected


def camera():
    fx = load()
    return {
        key: fx[f"camera:{key}"].item()
        if fx[f"camera:{key}"].ndim == 0
        else fx[f"camera:{key}"]
        for key in ("w", "h", "f", "c")
    }


def encode_args(inputs, video):
    args = dict(
        keypoints=inputs["keypoints"],
        keypoints_visible=inputs.get("keypoints_visible"),
        lifting_target=inputs["lifting_target"],
        lifting_target_visible=inputs.get("lifting_target_visible"),
    )
    if video:
        args["camera_param"] = camera()
    return args


def to_mmpose_layout(labels, cfg):
    """Our (T, K, C) keypoint labels in MMPose's layout for ``cfg``."""
    labels = np.asarray(labels)
    if cfg.get("reshape_keypoints", True):
        return labels.transpose(1, 2, 0).reshape(-1, labels.shape[0])
    return labels


def assert_encoded_equal(ours, expected, cfg, atol=1e-6):
    """Compares an ``encode`` result (NumPy or tensors) with MMPose's."""
    ours = dict(ours)
    camera = ours.pop("camera_param", None)
    expected = dict(expected)
    f = expected.pop("camera_param_f", None)
    c = expected.pop("camera_param_c", None)
    assert (camera is None) == (f is None)
    if camera is not None:
        np.testing.assert_allclose(np.asarray(camera["f"]), f, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(camera["c"]), c, rtol=1e-12)
        assert np.asarray(camera["f"]).dtype == f.dtype
    assert set(ours) == set(expected), (sorted(ours), sorted(expected))
    for key, value in expected.items():
        got = np.asarray(ours[key])
        if key == "keypoint_labels":
            got = to_mmpose_layout(got, cfg)
        assert got.shape == value.shape, (key, got.shape, value.shape)
        if value.dtype.kind == "f":
            assert got.dtype == np.float32, (key, got.dtype)
            np.testing.assert_allclose(
                got, value, rtol=1e-6, atol=atol, err_msg=key
            )
        else:
            np.testing.assert_array_equal(got, value, err_msg=key)


def check_encode_case(name, video):
    """Builds the case's codec and compares its ``encode`` with MMPose's."""
    cfg, inputs, expected = case(name)
    codec = keraspose.build(cfg)
    enc = codec.encode(**encode_args(inputs, video=video))
    assert_encoded_equal(enc, expected, cfg)


def check_decode_case(name):
    """Builds the case's codec and compares its ``decode`` with MMPose's."""
    cfg, inputs, _ = case(name)
    codec = keraspose.build(cfg)
    kpts, scores = codec.decode(
        inputs["encoded"], target_root=inputs.get("target_root")
    )
    np.testing.assert_allclose(
        to_numpy(kpts), inputs["keypoints"], rtol=1e-6, atol=1e-6
    )
    np.testing.assert_array_equal(to_numpy(scores), inputs["scores"])

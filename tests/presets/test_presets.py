import glob
import hashlib
import os

import keras
import numpy as np
import pytest

import keraspose
from keraspose import presets
from keraspose.models.pose_estimators import BasePoseEstimator
from keraspose.models.pose_estimators import TopdownPoseEstimator
from keraspose.presets.loading import weights_kind
from tests.presets import SMALL_PRESET
from tests.presets import patch_zero_kernel_builds
from tests.presets import write_preset_pth

CONFIGS = os.path.join(os.path.dirname(keraspose.__file__), "configs")


def _shipped_model_zoo_configs():
    """Every shipped body config but keraspose's own / demo ones."""
    paths = glob.glob(
        os.path.join(CONFIGS, "body_2d_keypoint", "**", "*.py"),
        recursive=True,
    )
    names = {os.path.basename(p)[:-3] for p in paths}
    return {n for n in names if "_keras-" not in n and "coco-tiny" not in n}


def test_every_model_zoo_config_is_a_preset():
    assert set(presets.list_presets()) == _shipped_model_zoo_configs()


@pytest.mark.parametrize("name", presets.list_presets())
def test_preset_config(name):
    info = presets.preset_info(name)
    assert info["name"] == name
    assert os.path.isfile(info["config_path"])
    assert os.path.basename(info["config"]) == name + ".py"
    assert info["weights"].startswith("https://download.openmmlab.com/")
    assert presets.expected_sha256_prefix(info["weights"]) is not None
    assert 0.5 < info["coco_ap"] < 0.8
    assert info["description"]
    cfg = presets.preset_config(name)
    assert cfg.model.type in ("TopdownPoseEstimator", "BottomupPoseEstimator")
    meta = cfg.model.metainfo
    if "crowdpose" in name:
        assert meta["dataset_name"] == "crowdpose"
    else:
        assert meta["dataset_name"] == "coco"
        assert meta["flip_indices"] == [
            0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15
        ]  # fmt: skip
    # The metainfo is JSON-friendly (it goes into the model's config).
    assert isinstance(meta["sigmas"], list)


def test_preset_names_and_errors():
    name = "td-hm_hrnet-w32_8xb64-210e_coco-256x192"
    assert presets.is_preset(name) and presets.is_preset(name + ".py")
    assert presets.preset_info(name + ".py")["name"] == name
    assert not presets.is_preset("hrnet") and not presets.is_preset(3)
    with pytest.raises(ValueError, match="rtmpose-m_8xb256") as err:
        presets.preset_info("rtmpose-m_8xb256-420e_coco-256x191")
    assert "list_presets()" in str(err.value)
    with pytest.raises(TypeError, match="preset name"):
        presets.preset_info(None)
    with pytest.raises(ValueError, match="Unknown preset"):
        keraspose.from_preset("no-such-model")


def test_from_preset_checks_the_estimator_class():
    class OtherEstimator(BasePoseEstimator):
        pass

    with pytest.raises(ValueError, match="TopdownPoseEstimator.from_preset"):
        OtherEstimator.from_preset(SMALL_PRESET)


def test_sha256_prefix_in_file_names():
    prefix = presets.expected_sha256_prefix
    assert prefix("a/b/hrnet-81c58e40_20220909.pth") == "81c58e40"
    assert prefix("https://x.org/m/res50-04af38ce_20220923.pth") == "04af38ce"
    assert prefix("model-9e2f1a7b.pth") == "9e2f1a7b"
    assert prefix("model-20220909.pth") is None  # a date, not a hash
    assert prefix("model.pth") is None
    assert prefix("model.weights.h5") is None


def _hashed_file(folder, payload=b"weights"):
    sha = hashlib.sha256(payload).hexdigest()
    path = os.path.join(folder, f"m-{sha[:8]}_20240101.pth")
    with open(path, "wb") as f:
        f.write(payload)
    return path


def test_download_verifies_the_hash(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    good = _hashed_file(str(src))
    path = presets.resolve_weights(
        "file://" + good, cache_dir=str(tmp_path / "cache")
    )
    assert path.startswith(str(tmp_path / "cache" / "models"))
    assert open(path, "rb").read() == b"weights"
    # A file whose name claims another hash is rejected and not kept.
    bad = os.path.join(str(src), "m-00000abc_20240101.pth")
    with open(bad, "wb") as f:
        f.write(b"weights")
    with pytest.raises(ValueError, match="00000abc"):
        presets.resolve_weights(
            "file://" + bad, cache_dir=str(tmp_path / "cache")
        )
    assert not os.path.exists(
        tmp_path / "cache" / "models" / os.path.basename(bad)
    )


def test_resolve_weights(tmp_path, monkeypatch):
    calls = []

    def fake_get_file(fname, origin, cache_subdir, cache_dir):
        calls.append(origin)
        return _hashed_file(str(tmp_path))

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    assert presets.resolve_weights(None) is None
    assert presets.resolve_weights(False) is None
    url = presets.preset_info(SMALL_PRESET)["weights"]
    # The fake download is not MMPose's file: its SHA-256 does not match
    # the prefix in the URL's file name, so it is rejected.
    for weights in (True, "mmpose"):
        with pytest.raises(ValueError, match="e613ba3f"):
            presets.resolve_weights(weights, SMALL_PRESET)
    assert calls == [url, url]
    with pytest.raises(ValueError, match="preset name"):
        presets.resolve_weights(True)
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        presets.resolve_weights(str(tmp_path / "missing.pth"))
    with pytest.raises(TypeError, match="weights"):
        presets.resolve_weights(3)
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        weights_kind("model.npz")
    assert weights_kind("a.PTH") == "mmpose"
    assert weights_kind("a.weights.h5") == weights_kind("a.keras") == "keras"


@pytest.mark.heavy
def test_from_preset_loads_mmpose_and_keras_weights(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    patch_zero_kernel_builds(monkeypatch)
    source = TopdownPoseEstimator.from_preset(SMALL_PRESET)
    assert source.built and source.metainfo["num_keypoints"] == 17
    pth, state = write_preset_pth(source, str(tmp_path))

    # An MMPose .pth (read without torch) from a URL, its hash checked.
    model = keraspose.from_preset(
        SMALL_PRESET, weights="file://" + pth, cache_dir=str(tmp_path)
    )
    assert isinstance(model, TopdownPoseEstimator)
    loaded = keraspose.converters.export_state_dict(model)
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)
    assert model.metainfo["flip_indices"][1] == 2

    # Keras weights.
    h5 = str(tmp_path / "m.weights.h5")
    model.save_weights(h5)
    again = TopdownPoseEstimator.from_preset(SMALL_PRESET, weights=h5)
    for a, b in zip(again.weights, model.weights):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )

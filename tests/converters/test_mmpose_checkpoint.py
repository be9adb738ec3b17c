"""MMPose checkpoints -> keraspose models: raw outputs equal MMPose's.

The fixtures (``tools/make_mmpose_checkpoint_fixtures.py``) are genuine
``.pth`` files written by ``torch.save`` from tiny MMPose models (stored
xz-compressed), with the model dicts and MMPose's raw head outputs.
"""

import hashlib
import json
import lzma
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import keraspose
from keraspose.converters import checkpoint_state_dict
from keraspose.converters import load_state_dict
from keraspose.converters import read_pth

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA = np.load(FIXTURES / "mmpose_ckpt.npz")
NAMES = json.loads(str(DATA["names"]))
LEGACY = ("simplebaseline_res50",)
# The smallest checkpoint (31 tensors), for the error cases.
SMALL = "vitpose_s_simple"
# Flattened outputs compared within this absolute tolerance.
ATOL = 1e-4
# Slow to build on JAX (XLA compiles an initializer per new weight shape:
# 5-20 s of CPU each on a cold process); TensorFlow and torch take ~1 s.
HEAVY = (
    "simplebaseline_res50",
    "resnetv1d18",
    "rtmpose_m",
    "vitpose_s",
    "mobilenetv2",
    "litehrnet_18",
)


def write_pth(name, directory):
    """Writes fixture ``name``'s ``.pth`` into ``directory``; its path."""
    data = lzma.decompress(
        (FIXTURES / "mmpose_ckpt" / f"{name}.pth.xz").read_bytes()
    )
    assert hashlib.md5(data).hexdigest() == str(DATA[f"{name}_pth_md5"])
    path = Path(directory) / f"{name}.pth"
    path.write_bytes(data)
    return path


def model_dict(name):
    return json.loads(str(DATA[f"{name}_model"]))


def images():
    return DATA["images"].astype("float32")


def max_diffs(name, outputs):
    outputs = keras.tree.flatten(outputs)
    expected = [
        DATA[f"{name}_out{i}"]
        for i in range(
            len([k for k in DATA.files if k.startswith(f"{name}_out")])
        )
    ]
    assert len(outputs) == len(expected), (len(outputs), len(expected))
    diffs = []
    for got, want in zip(outputs, expected, strict=True):
        got = keras.ops.convert_to_numpy(got)
        assert got.shape == want.shape, (got.shape, want.shape)
        diffs.append(float(np.abs(got.astype(np.float64) - want).max()))
    return diffs


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.heavy) if n in HEAVY else n
        for n in NAMES
    ],
)
def test_converted_model_matches_mmpose(name, tmp_path):
    path = write_pth(name, tmp_path)
    model, report = keraspose.convert_mmpose_checkpoint(
        model_dict(name), path, verbose=False, return_report=True
    )
    assert not report.missing and not report.unexpected
    diffs = max_diffs(name, model(images()))
    print(name, keras.backend.backend(), [f"{d:.1e}" for d in diffs])
    assert max(diffs) <= ATOL, diffs


def test_fixture_formats(tmp_path):
    # One legacy (pre-1.6 torch.save) file, the others zip archives.
    for name in NAMES:
        head = write_pth(name, tmp_path).read_bytes()[:2]
        assert (head == b"PK") == (name not in LEGACY), name


def test_checkpoint_meta_and_skipped_buffers(tmp_path):
    checkpoint = read_pth(write_pth("rle_res18", tmp_path))
    meta = checkpoint["meta"]
    assert meta["dataset_meta"]["flip_indices"] == [0, 2, 1]
    np.testing.assert_array_equal(
        meta["dataset_meta"]["sigmas"], np.array([0.026, 0.025, 0.025], "f4")
    )
    model = keraspose.build(model_dict("rle_res18"))
    model.build((None, 64, 32, 3))
    report = load_state_dict(model, checkpoint_state_dict(checkpoint))
    skipped = set(report.skipped)
    # RealNVP's constants and BatchNorm's counters are not weights.
    for key in ("mask", "loc", "cov"):
        assert f"head.loss_module.flow_model.{key}" in skipped
    assert "backbone.bn1.num_batches_tracked" in skipped
    assert "head.loss_module.flow_model.s.0.0.weight" in report.loaded


def _small_model_and_state(tmp_path):
    state = checkpoint_state_dict(read_pth(write_pth(SMALL, tmp_path)))
    model = keraspose.build(model_dict(SMALL))
    model.build((None, 64, 32, 3))
    return model, dict(state)


def test_missing_key_is_named(tmp_path):
    model, state = _small_model_and_state(tmp_path)
    del state["head.final_layer.bias"]
    with pytest.raises(
        ValueError, match=r"missing keys \(1\): head\.final_layer\.bias"
    ):
        load_state_dict(model, state)


def test_shape_mismatch_names_key_and_shapes(tmp_path):
    model, state = _small_model_and_state(tmp_path)
    state["head.final_layer.weight"] = np.zeros((4, 8, 3, 3), "float32")
    with pytest.raises(ValueError) as info:
        load_state_dict(model, state, strict=False)
    message = str(info.value)
    assert "'head.final_layer.weight'" in message
    assert "(4, 8, 3, 3)" in message and "(3, 8, 3, 3)" in message


def test_unexpected_key_is_named_and_strict_false_loads_the_rest(tmp_path):
    model, state = _small_model_and_state(tmp_path)
    state["head.extra_layer.weight"] = np.zeros((3,), "float32")
    with pytest.raises(
        ValueError, match=r"unexpected keys \(1\): head\.extra_layer\.weight"
    ):
        load_state_dict(model, state)
    final_bias = state.pop("head.final_layer.bias")
    report = load_state_dict(model, state, strict=False)
    assert report.unexpected == ["head.extra_layer.weight"]
    assert report.missing == ["head.final_layer.bias"]
    assert "head.final_layer.weight" in report.loaded
    # Everything but the bias is MMPose's: the outputs differ by it alone.
    model.head.final_layer.bias.assign(final_bias)
    assert max(max_diffs(SMALL, model(images()))) <= ATOL


def test_convert_with_a_wrong_config_names_the_shape(tmp_path):
    path = write_pth(SMALL, tmp_path)
    cfg = model_dict(SMALL)
    cfg["head"]["out_channels"] = 5
    # The checkpoint's dataset_meta (3 keypoints) contradicts the config.
    with pytest.raises(ValueError, match=r"5 keypoints.*metainfo has 3"):
        keraspose.convert_mmpose_checkpoint(cfg, path, verbose=False)
    # With metainfo for 5 keypoints, the weights' shapes disagree.
    five = dict(num_keypoints=5, flip_indices=[0, 1, 2, 3, 4])
    with pytest.raises(
        ValueError, match=r"head\.final_layer\.weight.*\(3, 8, 3, 3\)"
    ):
        keraspose.convert_mmpose_checkpoint(
            cfg, path, metainfo=five, verbose=False
        )


_NO_TORCH = """
import importlib.abc, json, lzma, sys

class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"torch is blocked ({{name}})")
        return None

sys.meta_path.insert(0, _NoTorch())
import numpy as np
import keras
import keraspose

data = np.load({npz!r})
model = keraspose.convert_mmpose_checkpoint(
    json.loads(str(data[{name!r} + "_model"])), {pth!r}, verbose=False
)
out = keras.ops.convert_to_numpy(model(data["images"].astype("float32")))
diff = float(np.abs(out - data[{name!r} + "_out0"]).max())
assert "torch" not in sys.modules, "torch was imported"
print("NO_TORCH_OK", keras.backend.backend(), diff)
"""


@pytest.mark.heavy
def test_conversion_works_without_torch(tmp_path):
    path = write_pth(SMALL, tmp_path)
    script = _NO_TORCH.format(
        npz=str(FIXTURES / "mmpose_ckpt.npz"), name=SMALL, pth=str(path)
    )
    # full float32 on GPUs too (JAX defaults to TF32 there), as conftest
    env = dict(
        os.environ, KERAS_BACKEND="jax", JAX_DEFAULT_MATMUL_PRECISION="highest"
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = [
        x for x in result.stdout.splitlines() if x.startswith("NO_TORCH_OK")
    ]
    assert line, result.stdout[-2000:]
    assert float(line[0].split()[-1]) <= ATOL

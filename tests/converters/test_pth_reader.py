"""Tests of the torch-free ``.pth`` reader."""

import collections
import io
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from keraspose.converters import PickledObject
from keraspose.converters import checkpoint_state_dict
from keraspose.converters import pth_reader
from keraspose.converters import read_pth

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ZIP_FIXTURE = FIXTURES / "mmengine_checkpoint.pth"
LEGACY_FIXTURE = FIXTURES / "legacy_checkpoint.pth"
EXPECTED = FIXTURES / "mmengine_checkpoint.npz"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Overrides conftest's Keras reset: the reader does not use Keras."""
    yield


def _assert_same(array, expected, name=""):
    assert isinstance(array, np.ndarray), name
    assert array.dtype == expected.dtype, (name, array.dtype, expected.dtype)
    assert array.shape == expected.shape, (name, array.shape, expected.shape)
    np.testing.assert_array_equal(array, expected, err_msg=name)


def _check_fixture(checkpoint, expected, entries):
    for key in expected.files:
        entry, name = key.split("/", 1)
        if entry not in entries:
            continue
        if entry == "state_dict" or entry == "extras":
            value = checkpoint[entry][name]
        elif entry == "optimizer":
            index, field = name.split("/")
            value = checkpoint["optimizer"]["state"][int(index)][field]
        else:  # message_hub: a HistoryBuffer stand-in
            buffer = checkpoint["message_hub"]["log_scalars"][name]
            assert buffer.pickled_name == (
                "mmengine.logging.history_buffer.HistoryBuffer"
            )
            value = buffer.state["_log_history"]
        _assert_same(value, expected[key], key)


# --------------------------------------------------------------------------
# Fixtures written by the real MMEngine / torch (read here without torch).
# --------------------------------------------------------------------------


def test_mmengine_zip_checkpoint():
    checkpoint = read_pth(ZIP_FIXTURE)
    expected = np.load(EXPECTED)
    _check_fixture(
        checkpoint,
        expected,
        ("state_dict", "optimizer", "extras", "message_hub"),
    )
    assert isinstance(checkpoint["state_dict"], collections.OrderedDict)
    meta = checkpoint["meta"]
    assert meta["epoch"] == 1 and meta["experiment_name"] == "fixture"
    _assert_same(
        meta["dataset_meta"]["sigmas"], np.array([0.026, 0.025], np.float32)
    )
    cfg = meta["cfg"]
    assert isinstance(cfg, PickledObject)
    assert cfg.pickled_name == "mmengine.config.config.ConfigDict"
    assert cfg.args[0]["lr"] == 0.01
    assert meta["device"].pickled_name == "torch.device"
    assert meta["device"].args == ("cpu",)
    # A bare global reference comes out as the stand-in class.
    assert issubclass(meta["dtype"], PickledObject)
    assert meta["dtype"].pickled_name == "torch.float32"
    assert checkpoint["message_hub"]["runtime_info"]["iter"] == 3
    group = checkpoint["optimizer"]["param_groups"][0]
    assert group["lr"] == 0.01 and group["params"] == [0, 1, 2, 3, 4, 5]


def test_legacy_checkpoint():
    checkpoint = read_pth(LEGACY_FIXTURE)
    expected = np.load(EXPECTED)
    _check_fixture(checkpoint, expected, ("state_dict", "optimizer", "extras"))
    assert checkpoint["meta"]["mmcv_version"] == "1.3.8"


def test_checkpoint_state_dict_of_fixtures():
    expected = np.load(EXPECTED)
    names = [k.split("/", 1)[1] for k in expected.files if "state_dict/" in k]
    for path in (ZIP_FIXTURE, LEGACY_FIXTURE):
        state = checkpoint_state_dict(path)
        assert list(state) == names
        for name in names:
            _assert_same(state[name], expected[f"state_dict/{name}"], name)


def test_reads_file_objects():
    with open(ZIP_FIXTURE, "rb") as file:
        state = checkpoint_state_dict(read_pth(file))
    assert state["1.num_batches_tracked"].dtype == np.int64
    buffer = io.BytesIO(LEGACY_FIXTURE.read_bytes())
    assert "2.bias" in checkpoint_state_dict(read_pth(buffer))


def test_reads_without_torch(tmp_path):
    """The reader neither needs nor imports torch or keras."""
    code = f"""
import importlib.abc, importlib.util, sys
import numpy as np

class BlockTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked")
        return None

sys.meta_path.insert(0, BlockTorch())
spec = importlib.util.spec_from_file_location(
    "pth_reader", {pth_reader.__file__!r}
)
reader = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reader)
expected = np.load({str(EXPECTED)!r})
for path in ({str(ZIP_FIXTURE)!r}, {str(LEGACY_FIXTURE)!r}):
    checkpoint = reader.read_pth(path)
    state = reader.checkpoint_state_dict(checkpoint)
    for key in expected.files:
        entry, name = key.split("/", 1)
        if entry == "state_dict":
            value = state[name]
        elif entry == "extras":
            value = checkpoint["extras"][name]
        else:
            continue
        assert value.dtype == expected[key].dtype, key
        np.testing.assert_array_equal(value, expected[key])
assert "torch" not in sys.modules, "torch was imported"
assert "keras" not in sys.modules, "keras was imported"
print("ok")
"""
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# --------------------------------------------------------------------------
# Round trips through the installed torch (dev environment).
# --------------------------------------------------------------------------


def _torch_objects(torch):
    base = torch.arange(42, dtype=torch.float32).reshape(6, 7) / 4
    shared = torch.arange(20, dtype=torch.int32)
    tensors = collections.OrderedDict(
        float32=torch.randn(2, 3),
        float64=torch.randn(3, dtype=torch.float64),
        float16=torch.randn(4).half(),
        bfloat16=torch.tensor([1.0, -2.5, 3e-3, 1e38]).bfloat16(),
        int64=torch.tensor([[-(2**50), 3]]),
        int32=torch.tensor([7, -(2**31)], dtype=torch.int32),
        int16=torch.tensor([-(2**15), 5], dtype=torch.int16),
        int8=torch.tensor([-128, 127], dtype=torch.int8),
        uint8=torch.tensor([0, 200], dtype=torch.uint8),
        bool=torch.tensor([True, False, True]),
        complex64=torch.tensor([1 + 2j, -3j], dtype=torch.complex64),
        complex128=torch.tensor([0.5 - 1j], dtype=torch.complex128),
        uint16=torch.tensor([1, 65535], dtype=torch.uint16),
        scalar=torch.tensor(1.25),
        empty=torch.zeros(3, 0),
        transposed=base.t(),
        sliced=base[2:5, 1:6:2],
        permuted=torch.randn(2, 3, 4).permute(2, 0, 1),
        expanded=torch.randn(1, 3).expand(4, 3),
        shared_a=shared[3:9].view(2, 3),
        shared_b=shared[8:].view(3, 4),
        negative_view=torch.tensor([1.0, -2.0])._neg_view(),
        parameter=torch.nn.Parameter(torch.randn(2, 2)),
        frozen=torch.nn.Parameter(torch.randn(3), requires_grad=False),
    )
    return tensors


def _expected(torch, tensor):
    tensor = tensor.detach().resolve_neg().resolve_conj()
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.numpy()


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_round_trip_every_dtype_and_view(legacy):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tensors = _torch_objects(torch)
    nested = {
        "tensors": tensors,
        "list": [tensors["float32"], (tensors["int8"], {"x": tensors["bool"]})],
        "state": torch.nn.Sequential(
            torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2)
        ).state_dict(),
        "plain": {"epoch": 3, "name": "x", "blob": b"\x00\xff", "set": {1}},
        "numpy": np.arange(4.0),
    }
    buffer = io.BytesIO()
    torch.save(nested, buffer, _use_new_zipfile_serialization=not legacy)
    buffer.seek(0)
    result = read_pth(buffer)
    for name, tensor in tensors.items():
        _assert_same(result["tensors"][name], _expected(torch, tensor), name)
        assert result["tensors"][name].flags.c_contiguous
        assert result["tensors"][name].flags.writeable
    assert isinstance(result["tensors"], collections.OrderedDict)
    _assert_same(result["list"][0], tensors["float32"].numpy())
    _assert_same(result["list"][1][0], tensors["int8"].numpy())
    _assert_same(result["list"][1][1]["x"], tensors["bool"].numpy())
    assert isinstance(result["list"][1], tuple)
    for name, tensor in nested["state"].items():
        _assert_same(result["state"][name], tensor.numpy(), name)
    assert list(result["state"]) == list(nested["state"])
    assert result["plain"] == nested["plain"]
    _assert_same(result["numpy"], np.arange(4.0))
    # Arrays own their memory: writing one leaves its storage-mates alone.
    result["tensors"]["shared_a"][...] = -1
    _assert_same(result["tensors"]["shared_b"], tensors["shared_b"].numpy())


def test_zip_archive_folder_name_varies(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "my_model-epoch_3.pth"
    torch.save({"w": torch.arange(3.0)}, path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist()[0].startswith("my_model-epoch_3/")
    _assert_same(read_pth(path)["w"], np.arange(3.0, dtype=np.float32))
    _assert_same(read_pth(str(path))["w"], np.arange(3.0, dtype=np.float32))


def _rewrite_zip(source, replace):
    """A copy of a zip archive with ``replace(name, data)`` applied."""
    out = io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = replace(info.filename, src.read(info))
            if data is not None:
                dst.writestr(info.filename, data)
    out.seek(0)
    return out


def test_big_endian_zip():
    torch = pytest.importorskip("torch")
    values = torch.tensor([[1.5, -2.0], [3.25, 1e-3]])
    buffer = io.BytesIO()
    torch.save({"w": values, "i": torch.tensor([1, -2])}, buffer)
    buffer.seek(0)
    order = {}

    def to_big(name, data):
        if name.endswith("/byteorder"):
            return b"big"
        if "/data/" in name:
            dtype = "<f4" if len(data) == 16 and not order else "<i8"
            order[name] = dtype
            return np.frombuffer(data, dtype).byteswap().tobytes()
        return data

    result = read_pth(_rewrite_zip(buffer, to_big))
    _assert_same(result["w"], values.numpy())
    _assert_same(result["i"], np.array([1, -2]))
    assert result["w"].dtype.isnative


def test_restricted_globals_are_not_executed(tmp_path):
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "archive/data.pkl",
            pickle.dumps({"x": Exploit(), "c": collections.Counter(a=2)}, 2),
        )
    result = read_pth(buffer)
    assert not marker.exists()
    assert isinstance(result["x"], PickledObject)
    assert result["x"].pickled_name in ("posix.system", "nt.system")
    assert result["x"].args == (f"touch {marker}",)
    assert result["c"] == collections.Counter(a=2)


# --------------------------------------------------------------------------
# checkpoint_state_dict.
# --------------------------------------------------------------------------


def test_checkpoint_state_dict_entries():
    w = np.zeros(2, np.float32)
    assert list(checkpoint_state_dict({"state_dict": {"a.w": w}})) == ["a.w"]
    assert list(checkpoint_state_dict({"model": {"b": w}, "x": 1})) == ["b"]
    assert list(checkpoint_state_dict({"module": {"c": w}})) == ["c"]
    assert list(checkpoint_state_dict({"c": w, "d": w})) == ["c", "d"]
    stripped = checkpoint_state_dict(
        {"state_dict": {"module.a": w, "module.b.c": w}}
    )
    assert list(stripped) == ["a", "b.c"]
    # per key, like MMEngine's load_checkpoint
    mixed = checkpoint_state_dict({"state_dict": {"module.a": w, "b": w}})
    assert list(mixed) == ["a", "b"]
    # PyTorch's module versions survive (they select MMPose's upgrades)
    state = collections.OrderedDict([("module.a", w)])
    state._metadata = {"module": {"version": 2}, "module.a": {"version": 1}}
    kept = checkpoint_state_dict({"state_dict": state})
    assert kept._metadata == {"": {"version": 2}, "a": {"version": 1}}


def test_checkpoint_state_dict_errors():
    with pytest.raises(TypeError, match="Expected a checkpoint dict"):
        checkpoint_state_dict([1, 2])
    with pytest.raises(TypeError, match="non-array values.*'meta'"):
        checkpoint_state_dict({"meta": {}, "w": np.zeros(1)})
    with pytest.raises(TypeError, match="map names to arrays"):
        checkpoint_state_dict({"state_dict": {}})


# --------------------------------------------------------------------------
# Bad files.
# --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        read_pth(path)
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        checkpoint_state_dict(str(path))


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is not a checkpoint", pickle.dumps({"a": 1}, 2)],
    ids=["empty", "text", "plain-pickle"],
)
def test_not_a_checkpoint(tmp_path, content):
    path = tmp_path / "garbage.pth"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="garbage.pth.*Expected a zip"):
        read_pth(path)


@pytest.mark.parametrize("source", [ZIP_FIXTURE, LEGACY_FIXTURE])
@pytest.mark.parametrize("fraction", [0.3, 0.9, 0.999])
def test_truncated_file(tmp_path, source, fraction):
    data = source.read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match="truncated.pth"):
        read_pth(path)


def test_missing_zip_storage_record(tmp_path):
    with zipfile.ZipFile(ZIP_FIXTURE) as archive:
        name = [n for n in archive.namelist() if "/data/" in n][0]
    path = tmp_path / "missing.pth"
    path.write_bytes(
        _rewrite_zip(
            ZIP_FIXTURE, lambda n, d: None if n == name else d
        ).getvalue()
    )
    with pytest.raises(ValueError, match=f"missing.pth.*{name}"):
        read_pth(path)


def test_zip_without_data_pkl(tmp_path):
    path = tmp_path / "nodata.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/other.pkl", b"x")
    with pytest.raises(ValueError, match="nodata.pth.*data.pkl"):
        read_pth(path)


def test_corrupt_zip_record(tmp_path):
    data = bytearray(ZIP_FIXTURE.read_bytes())
    with zipfile.ZipFile(ZIP_FIXTURE) as archive:
        info = [i for i in archive.infolist() if "/data/" in i.filename][0]
    lengths = data[info.header_offset + 26 : info.header_offset + 30]
    offset = info.header_offset + 30 + sum(struct.unpack("<HH", lengths))
    data[offset] ^= 0xFF
    path = tmp_path / "corrupt.pth"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt.pth.*CRC"):
        read_pth(path)


def test_unknown_storage_type(tmp_path):
    zip_path = tmp_path / "quantized_zip.pth"
    zip_path.write_bytes(
        _rewrite_zip(
            ZIP_FIXTURE,
            lambda n, d: (
                d.replace(b"torch\nFloatStorage\n", b"torch\nQInt8Storage\n")
                if n.endswith("data.pkl")
                else d
            ),
        ).getvalue()
    )
    with pytest.raises(ValueError, match="quantized_zip.pth.*QInt8Storage"):
        read_pth(zip_path)
    legacy_path = tmp_path / "quantized_legacy.pth"
    legacy_path.write_bytes(
        LEGACY_FIXTURE.read_bytes().replace(
            b"torch\nFloatStorage\n", b"torch\nQInt8Storage\n"
        )
    )
    with pytest.raises(ValueError, match="quantized_legacy.pth.*QInt8"):
        read_pth(legacy_path)


def test_legacy_missing_storage_data(tmp_path):
    data = LEGACY_FIXTURE.read_bytes()
    path = tmp_path / "short.pth"
    path.write_bytes(data[:-200])
    with pytest.raises(ValueError, match="short.pth.*truncated"):
        read_pth(path)


def test_out_of_bounds_strides_are_rejected(tmp_path):
    # A tensor whose strides reach past its storage must not read memory.
    data = pth_reader._Storage("0", "f4", "<", np.zeros(8, np.uint8))
    with pytest.raises(ValueError, match="past the end of storage"):
        pth_reader._rebuild_tensor_v2(data, 0, (2, 2), (2, 1))
    with pytest.raises(ValueError, match="non-negative"):
        pth_reader._rebuild_tensor_v2(data, 0, (2,), (-1,))
    _assert_same(
        pth_reader._rebuild_tensor_v2(data, 1, (1,), (1,)),
        np.zeros(1, np.float32),
    )


def test_malformed_rebuild_call(tmp_path):
    path = tmp_path / "malformed.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "archive/data.pkl", b"ctorch._utils\n_rebuild_tensor_v2\n(I1\ntR."
        )
    with pytest.raises(ValueError, match="malformed.pth.*corrupt"):
        read_pth(path)

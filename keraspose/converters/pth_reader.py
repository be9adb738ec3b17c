"""Reads PyTorch ``.pth`` checkpoints with the standard library and NumPy.

MMPose publishes its weights as files written by ``torch.save``. Reading
them here needs neither PyTorch nor MMEngine: the file is a pickle whose
tensors point at raw byte buffers ("storages") kept outside the pickle.

Two layouts exist:

* **zip** (``torch.save`` since PyTorch 1.6). An uncompressed zip archive
  whose entries all sit in one top-level folder (its name varies: the
  saved file's stem, ``archive``, ...). ``<folder>/data.pkl`` is the
  pickled object; each storage is the raw bytes of entry
  ``<folder>/data/<key>``; ``<folder>/byteorder`` says ``little`` or
  ``big`` (little when absent).
* **legacy** (``_use_new_zipfile_serialization=False``, and most
  checkpoints written before PyTorch 1.6). Five pieces back to back: three
  small pickles (a magic number, the format version 1001 and a dict
  describing the writer), the pickled object, a pickled list of storage
  keys, then, for each key in that order, the element count as a
  little-endian int64 followed by the little-endian storage bytes.

In both, a tensor is pickled as a call of a rebuild function of
``torch._utils`` with a storage reference (a pickle "persistent id" naming
the storage type, key and element count), an element offset, a shape and
element strides. This module replays those calls in NumPy.

Unpickling is restricted: only globals that describe plain data are
resolved (PyTorch's tensor rebuild functions, NumPy arrays, scalars and
dtypes, a few builtins, ``collections`` and ``datetime`` types). Any other
global (for example MMEngine's ``ConfigDict`` or ``HistoryBuffer`` in a
checkpoint's ``meta`` and ``message_hub``, ``torch.device`` or a
``torch.float32`` dtype) becomes a :class:`PickledObject` stand-in that
records its module, name, arguments and state; nothing is imported or
executed.
"""

import _compat_pickle
import codecs
import collections
import datetime
import io
import os
import pickle
import struct
import zipfile
import zlib

import numpy as np

__all__ = ["PickledObject", "checkpoint_state_dict", "read_pth"]

_LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL_VERSION = 1001

# ``torch.<Name>Storage`` -> NumPy type code (byte order added per file).
# "bfloat16" has no NumPy type: its raw 16-bit words are upcast to float32.
_STORAGE_DTYPES = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "b1",
    "ComplexFloatStorage": "c8",
    "ComplexDoubleStorage": "c16",
    # Raw bytes (tensors of newer dtypes are rebuilt with an explicit dtype).
    "UntypedStorage": "u1",
    "_UntypedStorage": "u1",
}

# ``torch.<dtype>`` names accepted by ``_rebuild_tensor_v3`` (PyTorch uses
# it for dtypes without a legacy storage class).
_TORCH_DTYPES = {
    "float64": "f8",
    "double": "f8",
    "float32": "f4",
    "float": "f4",
    "float16": "f2",
    "half": "f2",
    "bfloat16": "bfloat16",
    "int64": "i8",
    "long": "i8",
    "int32": "i4",
    "int": "i4",
    "int16": "i2",
    "short": "i2",
    "int8": "i1",
    "uint8": "u1",
    "uint16": "u2",
    "uint32": "u4",
    "uint64": "u8",
    "bool": "b1",
    "complex64": "c8",
    "cfloat": "c8",
    "complex128": "c16",
    "cdouble": "c16",
}


class _FormatError(ValueError):
    """A malformed checkpoint; :func:`read_pth` adds the file name."""


# --------------------------------------------------------------------------
# Stand-ins for globals that are not resolved.
# --------------------------------------------------------------------------


class _PickledObjectMeta(type):
    def __repr__(cls):
        if cls.pickled_name:
            return f"<PickledObject class {cls.pickled_name}>"
        return super().__repr__()


class PickledObject(metaclass=_PickledObjectMeta):
    """Inert stand-in for a pickled global the reader does not import.

    Every unresolved global ``module.name`` becomes a subclass of this
    class with class attributes ``pickled_module`` and ``pickled_name``
    (``pickled_name`` is ``"module.name"``). A bare reference to the global
    (e.g. ``torch.float32``) comes out as that subclass; an object of it
    comes out as an instance recording what the pickle gave it:

    * ``args`` / ``kwargs``: constructor arguments,
    * ``state``: the ``__setstate__`` state (often the object's
      ``__dict__``),
    * ``dict_items`` / ``list_items``: items the pickle stored into it
      (dict and list subclasses such as MMEngine's ``ConfigDict``).

    Example:

    >>> import fractions, io, pickle, zipfile
    >>> from keraspose.converters import read_pth
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     data = pickle.dumps({"ratio": fractions.Fraction(1, 3)})
    ...     archive.writestr("ckpt/data.pkl", data)
    >>> obj = read_pth(buffer)["ratio"]
    >>> obj.pickled_name, obj.args
    ('fractions.Fraction', (1, 3))
    """

    pickled_module = ""
    pickled_name = ""

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args = args
        self.kwargs = kwargs
        self.state = None
        self.dict_items = {}
        self.list_items = []
        return self

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state

    def __setitem__(self, key, value):
        self.dict_items[key] = value

    def append(self, value):
        self.list_items.append(value)

    def extend(self, values):
        self.list_items.extend(values)

    def __repr__(self):
        return f"<PickledObject {self.pickled_name}>"


_PLACEHOLDER_CLASSES = {}


def _placeholder(module, name):
    key = (module, name)
    if key not in _PLACEHOLDER_CLASSES:
        _PLACEHOLDER_CLASSES[key] = _PickledObjectMeta(
            name.replace(".", "_"),
            (PickledObject,),
            {
                "pickled_module": module,
                "pickled_name": f"{module}.{name}",
                "__module__": __name__,
                "__qualname__": f"PickledObject[{module}.{name}]",
            },
        )
    return _PLACEHOLDER_CLASSES[key]


# --------------------------------------------------------------------------
# Storages and tensor rebuilding.
# --------------------------------------------------------------------------


class _StorageType:
    """What ``torch.<Name>Storage`` resolves to while unpickling."""

    def __init__(self, name):
        self.name = name
        self.code = _STORAGE_DTYPES.get(name)

    def __repr__(self):
        return f"<torch.{self.name}>"


class _Storage:
    """Raw bytes of one storage with the element type a reference gave."""

    def __init__(self, key, code, byteorder, data):
        self.key = key
        self.code = code
        self.byteorder = byteorder
        # 1-D uint8 array, or None while scanning a legacy file.
        self.data = data


def _element_size(code):
    return 2 if code == "bfloat16" else np.dtype(code).itemsize


def _typed_view(storage, code):
    """The storage bytes as a 1-D array of ``code`` (file byte order)."""
    raw_code = "u2" if code == "bfloat16" else code
    dtype = np.dtype(raw_code).newbyteorder(storage.byteorder)
    usable = storage.data.size - storage.data.size % dtype.itemsize
    return storage.data[:usable].view(dtype)


def _is_int(value):
    return isinstance(value, int | np.integer) and not isinstance(
        value, bool | np.bool_
    )


def _as_array(storage, offset, size, stride, code, metadata=None):
    if not isinstance(storage, _Storage):
        raise _FormatError(
            "Expected a tensor to be rebuilt from a storage reference. "
            f"Received {type(storage).__name__}"
        )
    if storage.data is None:  # first pass over a legacy file
        return None
    size = tuple(size)
    stride = tuple(stride)
    if (
        not _is_int(offset)
        or len(size) != len(stride)
        or not all(_is_int(v) and v >= 0 for v in size + stride)
        or offset < 0
    ):
        raise _FormatError(
            "Expected a tensor with a non-negative integer offset, shape "
            "and strides of equal length. Received offset "
            f"{offset!r}, shape {size!r}, strides {stride!r}"
        )
    typed = _typed_view(storage, code)
    out_code = "f4" if code == "bfloat16" else code
    if 0 in size:
        return np.zeros(size, np.dtype(out_code))
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= typed.size:
        raise _FormatError(
            f"Tensor of shape {size} with strides {stride} at offset "
            f"{offset} reads element {last}, past the end of storage "
            f"{storage.key!r} ({typed.size} elements)"
        )
    view = np.lib.stride_tricks.as_strided(
        typed[offset:],
        shape=size,
        strides=tuple(s * typed.itemsize for s in stride),
        writeable=False,
    )
    if code == "bfloat16":
        wide = view.astype(np.uint32, order="C") << 16
        array = wide.view(np.float32)
    else:
        array = np.array(view, dtype=view.dtype.newbyteorder("="), order="C")
    if metadata:
        if metadata.get("neg"):
            array = np.negative(array)
        if metadata.get("conj"):
            array = np.conjugate(array)
    return array


def _rebuild_tensor(storage, storage_offset, size, stride):
    code = storage.code if isinstance(storage, _Storage) else None
    return _as_array(storage, storage_offset, size, stride, code)


def _rebuild_tensor_v2(
    storage,
    storage_offset,
    size,
    stride,
    requires_grad=False,
    backward_hooks=None,
    metadata=None,
):
    code = storage.code if isinstance(storage, _Storage) else None
    return _as_array(storage, storage_offset, size, stride, code, metadata)


def _rebuild_tensor_v3(
    storage,
    storage_offset,
    size,
    stride,
    requires_grad,
    backward_hooks,
    dtype,
    metadata=None,
):
    name = getattr(dtype, "pickled_name", "")
    code = _TORCH_DTYPES.get(name[len("torch.") :]) if name else None
    if code is None:
        raise _FormatError(
            "Expected a tensor dtype among torch."
            + ", torch.".join(sorted(_TORCH_DTYPES))
            + f". Received {name or dtype!r}"
        )
    return _as_array(storage, storage_offset, size, stride, code, metadata)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return data


def _rebuild_from_type(func, new_type, args, state):
    return func(*args)


def _rebuild_from_numpy(data, dtype=None, device=None, requires_grad=False):
    return data


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    # Protocol-2 pickles spell ``bytes`` as ``_codecs.encode(text, "latin1")``.
    if not isinstance(obj, str) or codecs.lookup(encoding).name not in (
        "iso8859-1",
        "utf-8",
        "ascii",
    ):
        raise _FormatError(
            "Expected _codecs.encode of a str with a text encoding. "
            f"Received {type(obj).__name__} with encoding {encoding!r}"
        )
    return codecs.encode(obj, encoding, errors)


def _reconstructor(cls, base, state):
    # ``copyreg._reconstructor`` (protocols 0 and 1); only stand-ins built.
    if isinstance(cls, type) and issubclass(cls, PickledObject):
        obj = cls()
        obj.state = state
        return obj
    raise _FormatError(
        "Expected copyreg._reconstructor of an unresolved class. "
        f"Received {cls!r}"
    )


def _np_reconstruct(cls, *args):
    if cls is np.ndarray:
        return _np_multiarray()._reconstruct(cls, *args)
    if isinstance(cls, type) and issubclass(cls, PickledObject):
        return cls(*args)
    raise _FormatError(
        f"Expected numpy.ndarray to reconstruct. Received {cls!r}"
    )


def _np_multiarray():
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy < 2
        from numpy.core import multiarray
    return multiarray


def _np_scalar(*args):
    return _np_multiarray().scalar(*args)


def _np_frombuffer(buffer, dtype, shape, order):
    return np.frombuffer(buffer, dtype).reshape(shape, order=order).copy()


_NUMPY_GLOBALS = {
    "_reconstruct": _np_reconstruct,
    "scalar": _np_scalar,
    "_frombuffer": _np_frombuffer,
}

_SAFE_GLOBALS = {
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("builtins", "range"): range,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "bytes"): bytes,
    ("builtins", "str"): str,
    ("builtins", "int"): int,
    ("builtins", "float"): float,
    ("builtins", "bool"): bool,
    ("builtins", "list"): list,
    ("builtins", "tuple"): tuple,
    ("builtins", "dict"): dict,
    ("builtins", "Ellipsis"): Ellipsis,
    ("builtins", "NotImplemented"): NotImplemented,
    ("_codecs", "encode"): _codecs_encode,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "defaultdict"): collections.defaultdict,
    ("collections", "deque"): collections.deque,
    ("collections", "Counter"): collections.Counter,
    ("datetime", "date"): datetime.date,
    ("datetime", "datetime"): datetime.datetime,
    ("datetime", "time"): datetime.time,
    ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
    ("torch", "Size"): tuple,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): (
        _rebuild_parameter_with_state
    ),
    ("torch._utils", "_rebuild_device_tensor_from_numpy"): (
        _rebuild_from_numpy
    ),
    ("torch._tensor", "_rebuild_from_type"): _rebuild_from_type,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    ("torch.tensor", "_rebuild_from_type"): _rebuild_from_type,
    ("torch.tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
}
for _module in (
    "numpy.core.multiarray",
    "numpy._core.multiarray",
    "numpy.core.numeric",
    "numpy._core.numeric",
):
    for _name, _function in _NUMPY_GLOBALS.items():
        _SAFE_GLOBALS[(_module, _name)] = _function
del _module, _name, _function


def _decode_ascii(value):
    return value.decode("ascii") if isinstance(value, bytes) else value


class _Unpickler(pickle.Unpickler):
    """Unpickler resolving only data globals; storages via ``load``."""

    def __init__(self, file, load_storage=None):
        super().__init__(file, encoding="utf-8")
        self._load_storage = load_storage

    def find_class(self, module, name):
        # Python 2 names (protocol-2 pickles write ``__builtin__.set``).
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        if (
            module in ("torch", "torch.cuda", "torch.storage")
            and isinstance(name, str)
            and name.endswith("Storage")
        ):
            return _StorageType(name)
        return _placeholder(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise _FormatError(
                f"Expected a tuple storage reference. Received {pid!r}"
            )
        kind = _decode_ascii(pid[0])
        if kind == "module" and len(pid) >= 2:
            return pid[1]  # a pickled nn.Module class (legacy); inert here
        if kind != "storage" or self._load_storage is None:
            raise _FormatError(
                f"Expected a ('storage', ...) reference. Received {pid!r}"
            )
        storage_type = pid[1]
        if not isinstance(storage_type, _StorageType):
            raise _FormatError(
                "Expected a torch.<Type>Storage class in a storage "
                f"reference. Received {storage_type!r}"
            )
        if storage_type.code is None:
            raise _FormatError(
                "Expected a storage type among torch."
                + ", torch.".join(_STORAGE_DTYPES)
                + f". Received unsupported torch.{storage_type.name}"
            )
        return self._load_storage(storage_type.code, *pid[2:])


# --------------------------------------------------------------------------
# The two file layouts.
# --------------------------------------------------------------------------


def _read_zip(file):
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _FormatError(
            "Expected a zip archive written by torch.save; the file starts "
            f"like one but is truncated or corrupt ({error})"
        ) from error
    with archive:
        names = archive.namelist()
        pickles = [
            n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")
        ]
        if not pickles:
            raise _FormatError(
                "Expected a '<folder>/data.pkl' record in the zip archive. "
                f"Received records {names[:8]}"
            )
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = "<"
        if prefix + "byteorder" in names:
            mark = archive.read(prefix + "byteorder")
            if mark not in (b"little", b"big"):
                raise _FormatError(
                    "Expected the byteorder record to be 'little' or 'big'. "
                    f"Received {mark!r}"
                )
            byteorder = "<" if mark == b"little" else ">"
        with archive.open(pickles[0]) as handle:
            pickled = handle.read()
        records = {}

        def load_storage(code, key, location, numel, *rest):
            key = _decode_ascii(key)
            name = f"{prefix}data/{key}"
            if name not in records:
                try:
                    info = archive.getinfo(name)
                except KeyError:
                    raise _FormatError(
                        f"Missing storage record {name!r} in the zip archive"
                    ) from None
                records[name] = np.frombuffer(
                    _read_record(file, archive, info), np.uint8
                )
            data = records[name]
            if not _is_int(numel) or numel < 0:
                raise _FormatError(
                    f"Expected an element count for storage {key!r}. "
                    f"Received {numel!r}"
                )
            nbytes = numel * _element_size(code)
            if data.size < nbytes:
                raise _FormatError(
                    f"Storage record {name!r} holds {data.size} bytes; "
                    f"expected {nbytes} ({numel} elements); truncated file?"
                )
            return _Storage(key, code, byteorder, data[:nbytes])

        return _Unpickler(io.BytesIO(pickled), load_storage).load()


def _read_record(file, archive, info):
    """One record's bytes; reads stored records directly.

    PyTorch can write records with a zero CRC (checksums switched off),
    which :meth:`zipfile.ZipFile.read` rejects, so uncompressed records are
    read from their local header and their CRC checked only when set.
    """
    if info.compress_type != zipfile.ZIP_STORED:
        return archive.read(info)
    file.seek(info.header_offset)
    header = file.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _FormatError(f"Corrupt zip header of record {info.filename!r}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    file.seek(info.header_offset + 30 + name_length + extra_length)
    data = file.read(info.file_size)
    if len(data) != info.file_size:
        raise _FormatError(
            f"Record {info.filename!r} is truncated: {len(data)} of "
            f"{info.file_size} bytes"
        )
    if info.CRC and zlib.crc32(data) != info.CRC:
        raise _FormatError(f"Bad CRC-32 of record {info.filename!r}")
    return data


def _read_legacy(file):
    try:
        magic = _Unpickler(file).load()
    except Exception as error:
        raise _FormatError(
            "Expected a zip archive or a legacy torch.save file (a pickled "
            f"magic number); the file is neither ({error})"
        ) from error
    if magic != _LEGACY_MAGIC_NUMBER:
        raise _FormatError(
            "Expected a zip archive or a legacy torch.save file starting "
            f"with magic number {_LEGACY_MAGIC_NUMBER:#x}. Received a "
            f"pickle of {magic!r:.60}"
        )
    version = _Unpickler(file).load()
    if version != _LEGACY_PROTOCOL_VERSION:
        raise _FormatError(
            f"Expected legacy format version {_LEGACY_PROTOCOL_VERSION}. "
            f"Received {version!r}"
        )
    _Unpickler(file).load()  # writer information (byte order is fixed)
    start = file.tell()

    # First pass: find the storages and where the object pickle ends.
    seen = {}

    def scan_storage(code, key, location, numel, view=None):
        key = _decode_ascii(key)
        if not _is_int(numel) or numel < 0:
            raise _FormatError(
                f"Expected an element count for storage {key!r}. "
                f"Received {numel!r}"
            )
        seen.setdefault(key, (numel, _element_size(code)))
        return _Storage(key, code, "<", None)

    _Unpickler(file, scan_storage).load()
    keys = [_decode_ascii(k) for k in _Unpickler(file).load()]
    blobs = {}
    for key in keys:
        if key not in seen:
            raise _FormatError(
                f"Storage {key!r} is listed but no tensor refers to it"
            )
        header = file.read(8)
        if len(header) != 8:
            raise _FormatError(
                f"Missing data of storage {key!r}: the file ends early "
                "(truncated file?)"
            )
        (count,) = struct.unpack("<q", header)
        numel, element_size = seen[key]
        if count != numel:
            raise _FormatError(
                f"Storage {key!r} records {count} elements; expected {numel}"
            )
        nbytes = numel * element_size
        data = file.read(nbytes)
        if len(data) != nbytes:
            raise _FormatError(
                f"Storage {key!r} is truncated: {len(data)} of {nbytes} bytes"
            )
        blobs[key] = np.frombuffer(data, np.uint8)
    missing = sorted(set(seen) - set(blobs))
    if missing:
        raise _FormatError(f"Missing storage records for keys {missing}")

    # Second pass: rebuild the object with the storage bytes at hand.
    def load_storage(code, key, location, numel, view=None):
        key = _decode_ascii(key)
        data = blobs[key]
        if view is not None:
            # Pre-1.0 storage views: (view key, element offset, size).
            _, offset, view_size = view
            size = _element_size(code)
            data = data[offset * size : (offset + view_size) * size]
        return _Storage(key, code, "<", data)

    file.seek(start)
    return _Unpickler(file, load_storage).load()


# --------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------


def read_pth(path):
    """Reads a PyTorch checkpoint without importing PyTorch.

    Both of ``torch.save``'s layouts are read: the zip archive (PyTorch >=
    1.6) and the legacy stream of pickles (``_use_new_zipfile_serialization
    =False``, most 2020-era MMPose model-zoo files); see the module
    docstring for how they are laid out. Unpickling resolves data types
    only; other classes come out as inert :class:`PickledObject` stand-ins,
    so a checkpoint's ``state_dict`` comes out intact even when its
    ``meta`` or ``message_hub`` holds MMEngine objects.

    Every tensor (or ``nn.Parameter``) becomes a fresh C-contiguous
    ``numpy.ndarray`` of its shape and dtype, read through its storage
    offset and strides, so views (transposed, sliced) and tensors sharing
    one storage each come out as their own values. ``bfloat16`` has no
    NumPy dtype: such tensors are upcast (exactly) to ``float32``.
    ``requires_grad`` and backward hooks are dropped.

    Args:
        path: the ``.pth`` file (``str`` or ``os.PathLike``), or a seekable
            binary file object (read from its start).

    Returns:
        The unpickled object (for MMPose checkpoints a dict with
        ``"meta"``, ``"state_dict"`` and possibly ``"optimizer"`` /
        ``"message_hub"``), tensors replaced by NumPy arrays.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is neither layout, is truncated, misses a
            storage record or holds a storage type that is not supported
            (quantized and float8 types); the message names the file.

    Example:

    >>> import io, pickle, zipfile
    >>> from keraspose.converters import read_pth
    >>> buffer = io.BytesIO()  # a tensor-free checkpoint, built by hand
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     archive.writestr("ckpt/data.pkl", pickle.dumps({"epoch": 3}))
    >>> read_pth(buffer)
    {'epoch': 3}
    """
    if isinstance(path, str | os.PathLike):
        name = os.fspath(path)
        if not os.path.isfile(name):
            raise FileNotFoundError(f"No PyTorch checkpoint file at {name!r}")
        with open(name, "rb") as file:
            return _read_file(file, name)
    return _read_file(path, getattr(path, "name", repr(path)))


def _read_file(file, name):
    try:
        file.seek(0)
        head = file.read(4)
        file.seek(0)
        if head == b"PK\x03\x04":
            return _read_zip(file)
        if len(head) < 4:
            raise _FormatError(
                "Expected a zip archive or a legacy torch.save file. "
                f"Received {len(head)} bytes"
            )
        return _read_legacy(file)
    except _FormatError as error:
        raise ValueError(
            f"Cannot read PyTorch checkpoint {name!r}: {error}"
        ) from error
    except (OSError, MemoryError):
        raise
    except Exception as error:
        # Unpickling errors, or rebuild calls with malformed arguments.
        raise ValueError(
            f"Cannot read PyTorch checkpoint {name!r}: expected a complete "
            "torch.save pickle, the file is truncated or corrupt "
            f"({error!r})"
        ) from error


def checkpoint_state_dict(checkpoint):
    """The ``{name: array}`` weights of a checkpoint.

    Looks, in order, for the ``"state_dict"`` entry (MMEngine / MMPose
    checkpoints), then ``"model"`` and ``"module"``; otherwise the
    checkpoint must itself be a flat dict of arrays (a bare
    ``model.state_dict()``). A leading ``module.`` (saved from
    ``DataParallel``) is removed from each key, as MMEngine's
    ``load_checkpoint`` does; PyTorch's ``_metadata`` (module versions) is
    kept on the returned ``OrderedDict``.

    Args:
        checkpoint: an object returned by :func:`read_pth`, or a checkpoint
            path, which is read first.

    Returns:
        ``OrderedDict`` mapping parameter and buffer names to
        ``numpy.ndarray``s, in the checkpoint's order.

    Raises:
        TypeError: the checkpoint holds no dict of weights or a weight is
            not an array.

    Example:

    >>> import numpy as np
    >>> from keraspose.converters import checkpoint_state_dict
    >>> ckpt = {"meta": {}, "state_dict": {"module.fc.bias": np.zeros(2)}}
    >>> list(checkpoint_state_dict(ckpt))
    ['fc.bias']
    """
    if isinstance(checkpoint, str | os.PathLike):
        checkpoint = read_pth(checkpoint)
    if not isinstance(checkpoint, dict):
        raise TypeError(
            "Expected a checkpoint dict (or its path). Received "
            f"{type(checkpoint).__name__}"
        )
    state = checkpoint
    for entry in ("state_dict", "model", "module"):
        if isinstance(checkpoint.get(entry), dict):
            state = checkpoint[entry]
            break
    bad = {
        key: type(value).__name__
        for key, value in state.items()
        if not isinstance(key, str) or not isinstance(value, np.ndarray)
    }
    if bad or not state:
        raise TypeError(
            "Expected the checkpoint's 'state_dict' (or 'model' / 'module') "
            "entry, or the checkpoint itself, to map names to arrays. "
            f"Received keys {list(checkpoint)[:8]}"
            + (
                f" with non-array values {dict(list(bad.items())[:8])}"
                if bad
                else ""
            )
        )
    out = collections.OrderedDict(
        (_strip_module(key), value) for key, value in state.items()
    )
    # PyTorch's per-module versions (``state_dict()._metadata``) decide
    # which of MMPose's load-time upgrades apply.
    metadata = getattr(state, "_metadata", None)
    if isinstance(metadata, dict):
        out._metadata = {
            _strip_module(key): value for key, value in metadata.items()
        }
    return out


def _strip_module(key):
    # MMEngine's load_checkpoint drops a leading "module." (DataParallel).
    if key == "module":
        return ""
    return key[len("module.") :] if key.startswith("module.") else key

"""Motion-capture (3D keypoint) datasets feeding a tf.data pipeline."""

import os
import pickle

import numpy as np

from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.datasets.metainfo import load_metainfo
from keraspose.datasets.transforms.compose import Compose
from keraspose.utils.lazy_import import tf

#: Metainfo entries every sample carries (MMPose's ``get_data_info``).
_METAINFO_KEYS = (
    "upper_body_ids",
    "lower_body_ids",
    "flip_pairs",
    "dataset_keypoint_weights",
    "flip_indices",
    "skeleton_links",
)

# Globals a camera-parameter pickle may name: NumPy arrays and plain data.
_PICKLE_GLOBALS = {
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
    ("collections", "OrderedDict"): dict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "tuple"): tuple,
    ("builtins", "list"): list,
    ("builtins", "dict"): dict,
}


def check_int_arg(value, name, minimum, owner):
    """Raises unless ``value`` is an int (not a bool) >= ``minimum``:
    a TypeError for other types, a ValueError for a smaller int."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{owner} expects an integer {name} >= {minimum}. Received: "
            f"{name}={value!r}"
        )
    if value < minimum:
        raise ValueError(
            f"{owner} expects {name} >= {minimum}. Received: {name}={value}"
        )
    return value


def _numpy_reconstruct(cls, *args):
    if cls is not np.ndarray:
        raise pickle.UnpicklingError(
            f"expected numpy.ndarray to reconstruct; received {cls!r}"
        )
    return np.ndarray.__new__(cls, *args)


def _numpy_scalar(dtype, data=None):
    if isinstance(data, str):  # Python 2 pickles read with latin1
        data = data.encode("latin1")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _PICKLE_GLOBALS[(_module, "_reconstruct")] = _numpy_reconstruct
    _PICKLE_GLOBALS[(_module, "scalar")] = _numpy_scalar
del _module


class _DataUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, numbers, strings and NumPy arrays only."""

    def find_class(self, module, name):
        if (module, name) in _PICKLE_GLOBALS:
            return _PICKLE_GLOBALS[(module, name)]
        raise pickle.UnpicklingError(
            f"refusing to load the global {module}.{name}: only plain "
            "data (dicts, lists, numbers, strings, NumPy arrays) is read"
        )


def load_data_pickle(path, what="pickle file"):
    """Reads a pickle of plain data (no code runs, unlike ``pickle.load``).

    Args:
        path: the ``.pkl`` file.
        what: how errors name the file.

    Returns:
        The unpickled object (dicts, lists, numbers, strings, arrays).

    Example:

    >>> import os, pickle, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "c.pkl")
    >>> with open(path, "wb") as f:
    ...     pickle.dump({"w": 1000, "f": np.ones((2, 1))}, f)
    >>> sorted(load_data_pickle(path))
    ['f', 'w']
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The {what} {path!r} does not exist.")
    try:
        with open(path, "rb") as f:
            return _DataUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as e:
        raise ValueError(f"The {what} {path!r} cannot be read: {e}") from None


def load_npy(path, what):
    """``np.load`` of a ``.npy``/``.npz`` without pickles; errors name it."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The {what} {path!r} does not exist.")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"The {what} {path!r} cannot be read: {e}") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            return {key: data[key] for key in data.files}
    return data


def _join(root, path):
    if path and root and not os.path.isabs(path):
        return os.path.join(root, path)
    return path


class BaseMocapDataset:
    """A 3D pose (motion-capture) dataset with MMPose's arguments.

    Reads MMPose's ``.npz`` annotation layout once on the host: ``imgname``
    (F,) frame names, ``S`` (F, K, 4) 3D keypoints with visibility, ``part``
    (F, K, 3) 2D keypoints with visibility, ``center`` (F, 2) and ``scale``
    (F,) (missing fields are zeros, as in MMPose). Samples are sequences of
    frames; the base class makes one sample per frame (``seq_len=1``),
    :class:`Human36mDataset` cuts videos into sequences.

    Each sample (see :meth:`get_data_info`) holds MMPose's fields:
    ``keypoints`` (T, K, 2), ``keypoints_visible`` (T, K), ``keypoints_3d``
    (T, K, 3), ``keypoints_3d_visible`` (T, K), ``lifting_target`` (t, K, 3)
    and ``lifting_target_visible`` (t, K) (the last frame with ``causal``,
    else the middle one; every frame with ``multiple_target``),
    ``img_paths``/``img_ids`` of the frames, ``target_img_path`` (t,),
    ``center`` (1, 2), ``scale``, ``id``, ``camera_param`` (with
    ``camera_param_file``, the camera of the first frame) plus the
    metainfo entries. In tf.data the frames are gathered from per-frame
    tables inside the graph (a sample stores only where its window
    starts), so long sequences cost no host memory per sample;
    ``camera_param`` there is a dict of float32 tensors (its string
    entries ``name``/``id`` are left out).

    MMPose quirks kept: ``center``, ``scale`` and ``id`` come from the
    sample's position in the sequence list, not from its frames; samples
    whose 2D keypoints are all <= 0 are dropped; ``subset_frac`` keeps a
    contiguous run of samples starting at ``np.random.randint`` (seed NumPy
    for a fixed subset).

    Args:
        ann_file: the ``.npz`` annotation file (relative to ``data_root``).
        seq_len: frames per sample.
        multiple_target: if > 0, merge that many single-frame samples into
            one sample whose targets are all its frames (needs
            ``seq_len=1``).
        causal: the target is the last frame (True) or the middle one.
        subset_frac: fraction of the samples to keep, in (0, 1].
        camera_param_file: pickle of camera parameters.
        data_mode: ``"topdown"`` (``"bottomup"`` is not supported).
        metainfo: dataset metainfo (name, file or dict).
        data_root: root of ``ann_file`` and the other files.
        data_prefix: ``dict(img=...)`` (frames are not read; kept for
            MMPose configs).
        filter_cfg: accepted for MMPose configs (MMPose ignores it here).
        indices: keep only the first ``indices`` samples (int) or these
            sample indices (list).
        serialize_data: accepted for MMPose configs (no effect).
        pipeline: list of transforms or their config dicts.
        test_mode: test mode (no shuffling by default).
        lazy_init: accepted for MMPose configs (no effect).
        max_refetch: accepted for MMPose configs (no effect).
    """

    METAINFO = None

    def __init__(
        self,
        ann_file="",
        seq_len=1,
        multiple_target=0,
        causal=True,
        subset_frac=1.0,
        camera_param_file=None,
        data_mode="topdown",
        metainfo=None,
        data_root=None,
        data_prefix=None,
        filter_cfg=None,
        indices=None,
        serialize_data=True,
        pipeline=(),
        test_mode=False,
        lazy_init=False,
        max_refetch=1000,
    ):
        name = type(self).__name__
        self._config = dict(
            ann_file=ann_file,
            seq_len=seq_len,
            multiple_target=multiple_target,
            causal=causal,
            subset_frac=subset_frac,
            camera_param_file=camera_param_file,
            data_mode=data_mode,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            filter_cfg=filter_cfg,
            indices=indices,
            test_mode=test_mode,
        )
        if data_mode != "topdown":
            raise ValueError(
                f"{name} supports data_mode='topdown' (one sequence per "
                f"sample). Received: data_mode={data_mode!r}"
            )
        check_int_arg(seq_len, "seq_len", 1, name)
        check_int_arg(multiple_target, "multiple_target", 0, name)
        if multiple_target and seq_len != 1:
            raise ValueError(
                f"{name}: multiple_target > 0 merges single-frame samples "
                f"and needs seq_len=1. Received: seq_len={seq_len}, "
                f"multiple_target={multiple_target}"
            )
        if not isinstance(subset_frac, int | float) or not (
            0 < subset_frac <= 1
        ):
            raise ValueError(
                f"{name} expects subset_frac in (0, 1]. Received: "
                f"subset_frac={subset_frac!r}"
            )
        self.data_mode = data_mode
        self.data_root = data_root
        self.data_prefix = dict(data_prefix or {"img": ""})
        self.ann_file = _join(data_root, ann_file)
        self.seq_len = seq_len
        self.causal = bool(causal)
        self.multiple_target = multiple_target
        self.subset_frac = float(subset_frac)
        self.test_mode = bool(test_mode)
        self.metainfo = load_metainfo(
            metainfo if metainfo is not None else self.METAINFO
        )
        self._load_ann_file(self.ann_file)
        self.camera_param_file = _join(data_root, camera_param_file)
        self.camera_param = None
        if self.camera_param_file:
            self.camera_param = load_data_pickle(
                self.camera_param_file, "camera parameter file"
            )
        self._windows = self._get_sequence_windows()
        self._load_annotations()
        self._rows = self._valid_rows()
        if isinstance(indices, int):
            self._rows = self._rows[:indices]
        elif indices is not None:
            self._rows = self._rows[np.asarray(indices, np.int64)]
        if len(self._rows) == 0:
            raise ValueError(
                f"{name}: no samples in {self.ann_file!r} (seq_len="
                f"{seq_len}, multiple_target={multiple_target}, "
                f"{len(self._windows['start'])} sequences before dropping "
                "those whose 2D keypoints are all <= 0)."
            )
        self.pipeline = Compose(list(pipeline))
        self._tables = None

    # ------------------------------------------------------------------
    # Parsing (host side, once)
    # ------------------------------------------------------------------
    @property
    def num_keypoints(self):
        return int(self.metainfo["num_keypoints"])

    @property
    def num_frames(self):
        """Frames per sample: ``multiple_target`` or ``seq_len``."""
        return self.multiple_target or self.seq_len

    @property
    def target_index(self):
        """Frames of a sample that are targets (MMPose's ``target_idx``)."""
        if self.multiple_target:
            return list(range(self.multiple_target))
        return [-1] if self.causal else [self.seq_len // 2]

    def _load_ann_file(self, ann_file):
        data = load_npy(ann_file, "annotation file")
        if not isinstance(data, dict):
            raise ValueError(
                f"The annotation file {ann_file!r} must be an .npz archive "
                "with 'imgname', 'S', 'part', 'center' and 'scale' arrays; "
                f"received a single array of shape {np.shape(data)}."
            )
        if "imgname" not in data:
            raise ValueError(
                f"The annotation file {ann_file!r} has no 'imgname' array. "
                f"Received arrays: {sorted(data)}"
            )
        self.ann_data = data

    def _ann_array(self, key, last_dim):
        """``ann_data[key]`` as (F, K, last_dim) float32, zeros if absent."""
        num = len(self.ann_data["imgname"])
        k = self.num_keypoints
        if key not in self.ann_data:
            return np.zeros((num, k, last_dim), np.float32)
        value = np.asarray(self.ann_data[key])
        if value.shape != (num, k, last_dim):
            raise ValueError(
                f"{self.ann_file}: field {key!r} must have shape (frames, "
                f"keypoints, {last_dim}) = ({num}, {k}, {last_dim}) for "
                f"dataset {self.metainfo['dataset_name']!r}; received "
                f"{value.shape}."
            )
        return value.astype(np.float32)

    def _windows_of_videos(self, videos, starts, step):
        """Packs per-video window starts into the compact window table.

        Args:
            videos: list of frame-index arrays, one per video.
            starts: list of start-position arrays (may be negative: frames
                before the first / after the last are clamped to it).
            step: frame step inside a window.
        """
        flat, offset, start, length = [], [], [], []
        base = 0
        for frames, s in zip(videos, starts):
            frames = np.asarray(frames, np.int64)
            flat.append(frames)
            s = np.asarray(s, np.int64)
            offset.append(np.full(len(s), base, np.int64))
            start.append(s)
            length.append(np.full(len(s), len(frames), np.int64))
            base += len(frames)

        def cat(parts):
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)

        return {
            "frames": cat(flat),
            "offset": cat(offset),
            "start": cat(start),
            "length": cat(length),
            "step": int(step),
        }

    def _get_sequence_windows(self):
        """One window per frame (``seq_len=1``), merged by
        ``multiple_target``; subclasses cut videos into sequences."""
        if self.seq_len != 1:
            raise ValueError(
                f"{type(self).__name__} makes single-frame samples; "
                "sequences (seq_len > 1) need a dataset that knows its "
                f"videos (Human36mDataset). Received: seq_len={self.seq_len}"
            )
        num = len(self.ann_data["imgname"])
        frames = np.arange(num)
        if self.multiple_target:
            starts = np.arange(num // self.multiple_target)
            starts = starts * self.multiple_target
        else:
            starts = frames
        return self._subset(self._windows_of_videos([frames], [starts], 1))

    def _subset(self, windows):
        """MMPose's ``subset_frac``: a contiguous run from a random start."""
        num = len(windows["start"])
        size = int(num * self.subset_frac)
        first = np.random.randint(0, num - size + 1)
        for key in ("offset", "start", "length"):
            windows[key] = windows[key][first : first + size]
        return windows

    def frame_ids(self, rows):
        """Frame indices (len(rows), T) of the sequences ``rows``."""
        w = self._windows
        rows = np.asarray(rows, np.int64)
        pos = w["start"][rows, None] + w["step"] * np.arange(self.num_frames)
        pos = np.clip(pos, 0, w["length"][rows, None] - 1)
        return w["frames"][w["offset"][rows, None] + pos]

    def get_sequence_indices(self):
        """Frame indices of every sequence, (num_sequences, T) (MMPose's
        ``sequence_indices``, before dropping invalid samples)."""
        return self.frame_ids(np.arange(len(self._windows["start"])))

    def _load_annotations(self):
        """Reads the per-frame tables (MMPose's ``_load_annotations``)."""
        data = self.ann_data
        num = len(data["imgname"])
        self.img_names = np.asarray(data["imgname"]).astype(str)
        self.keypoints_2d = self._ann_array("part", 3)
        self.keypoints_3d = self._ann_array("S", 4)
        if "center" in data:
            self.centers = np.asarray(data["center"], np.float32)
            if self.centers.shape != (num, 2):
                raise ValueError(
                    f"{self.ann_file}: field 'center' must have shape "
                    f"({num}, 2); received {self.centers.shape}."
                )
        else:
            self.centers = np.zeros((num, 2), np.float32)
        if "scale" in data:
            self.scales = np.asarray(data["scale"], np.float32).reshape(-1)
            if self.scales.shape != (num,):
                raise ValueError(
                    f"{self.ann_file}: field 'scale' must have shape "
                    f"({num},); received {np.shape(data['scale'])}."
                )
        else:
            self.scales = np.zeros((num,), np.float32)
        self.factors = None
        self._load_cameras()

    def get_camera_param(self, imgname):
        """Camera parameters of a frame by its image name (subclasses)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not know how frame names map to "
            "cameras; override get_camera_param(imgname)."
        )

    def _load_cameras(self):
        """Camera table (C, ...) and the camera of each sequence."""
        self.camera_table = None
        self._camera_index = None
        if self.camera_param is None:
            return
        first = self.frame_ids(np.arange(len(self._windows["start"])))[:, 0]
        unique, inverse = np.unique(first, return_inverse=True)
        params, slot_of = [], {}
        slots = np.empty(len(unique), np.int64)
        for i, frame in enumerate(unique):
            param = self.get_camera_param(self.img_names[frame])
            if id(param) not in slot_of:
                slot_of[id(param)] = len(params)
                params.append(param)
            slots[i] = slot_of[id(param)]
        self._camera_params = params
        self._camera_index = slots[inverse.reshape(-1)]
        self.camera_table = self._stack_cameras(params)

    def _stack_cameras(self, params):
        if not params:
            return {}
        keys = [
            k
            for k, v in params[0].items()
            if not isinstance(v, str | bytes)
            and np.asarray(v).dtype.kind in "biuf"
        ]
        table = {}
        for key in keys:
            values = []
            for p in params:
                if key not in p:
                    raise ValueError(
                        f"{self.camera_param_file}: a camera has no {key!r} "
                        f"entry (others do). Its entries: {sorted(p)}"
                    )
                values.append(np.asarray(p[key], np.float32))
            shapes = {v.shape for v in values}
            if len(shapes) != 1:
                raise ValueError(
                    f"{self.camera_param_file}: camera entry {key!r} has "
                    f"different shapes across cameras: {sorted(shapes)}."
                )
            table[key] = np.stack(values)
        return table

    def _valid_rows(self):
        """Sequences kept by MMPose's ``_is_valid_instance`` (2D keypoints
        not all <= 0), in chunks to bound memory."""
        frame_max = self.keypoints_2d[..., :2].reshape(
            len(self.keypoints_2d), -1
        )
        frame_max = (
            frame_max.max(axis=1)
            if frame_max.shape[1]
            else np.zeros(len(frame_max))
        )
        num = len(self._windows["start"])
        keep = np.zeros(num, bool)
        chunk = 65536
        for lo in range(0, num, chunk):
            rows = np.arange(lo, min(num, lo + chunk))
            keep[rows] = frame_max[self.frame_ids(rows)].max(axis=1) > 0
        return np.flatnonzero(keep)

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    def __len__(self):
        return len(self._rows)

    def __repr__(self):
        return (
            f"{type(self).__name__}(ann_file={self.ann_file!r}, "
            f"samples={len(self)}, seq_len={self.seq_len}, "
            f"test_mode={self.test_mode})"
        )

    get_config = BaseCocoStyleDataset.get_config
    from_config = classmethod(BaseCocoStyleDataset.from_config.__func__)

    def get_data_info(self, idx):
        """Sample ``idx`` as MMPose's data info dict (NumPy, host side)."""
        row = int(self._rows[idx])
        frames = self.frame_ids([row])[0]
        target = self.target_index
        kpts = self.keypoints_2d[frames]
        kpts_3d = self.keypoints_3d[frames]
        names = self.img_names[frames]
        info = {
            "num_keypoints": self.num_keypoints,
            "keypoints": kpts[..., :2],
            "keypoints_visible": kpts[..., 2],
            "keypoints_3d": kpts_3d[..., :3],
            "keypoints_3d_visible": kpts_3d[..., 3],
            "scale": self.scales[row],
            "center": self.centers[row].reshape(1, -1),
            "id": row,
            "category_id": 1,
            "iscrowd": 0,
            "img_paths": list(names),
            "img_ids": list(frames),
            "lifting_target": kpts_3d[target, :, :3],
            "lifting_target_visible": kpts_3d[target, :, 3],
            "target_img_path": names[target],
        }
        if self._camera_index is not None:
            cam = self._camera_params[self._camera_index[row]]
            info["camera_param"] = {
                k: np.array(v) if isinstance(v, np.ndarray) else v
                for k, v in cam.items()
            }
        if self.factors is not None:
            info["factor"] = self.factors[frames]
        for key in _METAINFO_KEYS:
            info[key] = self.metainfo[key]
        return info

    __getitem__ = get_data_info

    def columns(self):
        """Per-sample columns streamed by tf.data (compact: the window)."""
        w = self._windows
        rows = self._rows
        cols = {
            "id": rows.astype(np.int64),
            "scale": self.scales[rows],
            "center": self.centers[rows][:, None, :],
            "_offset": w["offset"][rows],
            "_start": w["start"][rows],
            "_length": w["length"][rows],
        }
        if self._camera_index is not None:
            cols["_camera"] = self._camera_index[rows]
        return cols

    def frame_tables(self):
        """Per-frame tensors the graph gathers sequences from (cached)."""
        if self._tables is None:
            tables = {
                "frames": tf.constant(self._windows["frames"], tf.int64),
                "part": tf.constant(self.keypoints_2d),
                "S": tf.constant(self.keypoints_3d),
                "imgname": tf.constant(self.img_names),
            }
            if self.factors is not None:
                tables["factor"] = tf.constant(self.factors)
            if self.camera_table is not None:
                tables["camera"] = {
                    k: tf.constant(v) for k, v in self.camera_table.items()
                }
            self._tables = tables
        return self._tables

    def expand_record(self, record, tables=None):
        """Graph ops: a compact record -> MMPose's sample fields."""
        tables = tables or self.frame_tables()
        record = dict(record)
        offset = record.pop("_offset")
        start = record.pop("_start")
        length = record.pop("_length")
        camera = record.pop("_camera", None)
        steps = tf.range(self.num_frames, dtype=tf.int64)
        pos = tf.clip_by_value(
            start + self._windows["step"] * steps, 0, length - 1
        )
        frames = tf.gather(tables["frames"], offset + pos)
        target = tf.constant(
            [t % self.num_frames for t in self.target_index], tf.int64
        )
        kpts = tf.gather(tables["part"], frames)
        kpts_3d = tf.gather(tables["S"], frames)
        names = tf.gather(tables["imgname"], frames)
        k = self.num_keypoints
        record.update(
            {
                "num_keypoints": tf.constant(k, tf.int32),
                "keypoints": kpts[..., :2],
                "keypoints_visible": kpts[..., 2],
                "keypoints_3d": kpts_3d[..., :3],
                "keypoints_3d_visible": kpts_3d[..., 3],
                "category_id": tf.constant(1, tf.int64),
                "iscrowd": tf.constant(0, tf.int32),
                "img_paths": names,
                "img_ids": frames,
                "lifting_target": tf.gather(kpts_3d[..., :3], target),
                "lifting_target_visible": tf.gather(kpts_3d[..., 3], target),
                "target_img_path": tf.gather(names, target),
            }
        )
        if "factor" in tables:
            record["factor"] = tf.gather(tables["factor"], frames)
        if camera is not None:
            record["camera_param"] = {
                key: tf.gather(value, camera)
                for key, value in tables["camera"].items()
            }
        return record

    def metainfo_tensors(self):
        """Metainfo entries every sample carries (as MMPose's results do)."""
        return BaseCocoStyleDataset.metainfo_tensors(self)

    def process(self, record, seed=None):
        """Expands one record and runs the pipeline (graph mode)."""
        results = self.expand_record(record)
        results.update(self.metainfo_tensors())
        return self.pipeline(results, seed)

    def source_records(self, shuffle=False, seed=None):
        """Compact per-sample records as a ``tf.data.Dataset``."""
        self.frame_tables()  # eager tensors, captured by the map function
        return tf.data.Dataset.from_tensor_slices(self.columns())

    shuffle_buffer_size = BaseCocoStyleDataset.shuffle_buffer_size
    to_tf_dataset = BaseCocoStyleDataset.to_tf_dataset

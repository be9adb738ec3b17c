"""TFDS COCO-style keypoint data through the keraspose top-down pipeline.

Importing this module does not import ``tensorflow_datasets``; it is
imported when a dataset is resolved by name or builder.
"""

import importlib
import os

import numpy as np

from keraspose.datasets.datasets.base_coco_style_dataset import (
    BaseCocoStyleDataset,
)
from keraspose.datasets.metainfo import load_metainfo
from keraspose.datasets.transforms.compose import Compose
from keraspose.registry import register
from keraspose.utils.lazy_import import LazyModule
from keraspose.utils.lazy_import import tf

tfds = LazyModule("tensorflow_datasets")

_BUILDER_MODULE = "keraspose.datasets.tfds.coco_style_keypoints"
_FEATURES = ("image", "image/filename", "image/id", "width", "height")
_OBJECT_FEATURES = (
    "id",
    "bbox",
    "keypoints",
    "area",
    "iscrowd",
    "num_keypoints",
    "category_id",
)


def _clip(value, size):
    # np.clip(value, 0, size - 1) == minimum(maximum(value, 0), size - 1).
    return tf.minimum(tf.maximum(value, 0.0), size - 1.0)


@register
class TfdsPoseDataset(BaseCocoStyleDataset):
    """A ``coco_style_keypoints`` TFDS dataset as a keraspose dataset.

    Streams the per-image TFDS examples of
    :class:`keraspose.datasets.tfds.CocoStyleKeypoints` as the per-instance
    records of :class:`BaseCocoStyleDataset` (same keys, dtypes and shapes as
    its ``columns()``, plus ``img_bytes``, the encoded image that
    ``LoadImage`` decodes), parsed as MMPose parses COCO annotations, in
    graph mode: boxes clipped to ``[0, W - 1] x [0, H - 1]`` as xyxy,
    ``keypoints_visible = min(1, v)``, a missing ``area`` becomes
    ``0.53 * w * h`` (at least 1), a missing ``num_keypoints`` counts the
    labelled keypoints, and MMPose's top-down validity filter (crowd,
    ``num_keypoints == 0``, zero-area clipped box, all coordinates <= 0)
    drops instances (also in test mode, as MMPose does). ``img_path`` is
    the image's ``file_name`` as in the annotation file. The metainfo,
    :meth:`process` and :meth:`metainfo_tensors` are the base class's, and
    :meth:`to_tf_dataset` runs the same shuffle / seed / map / batch steps,
    so for the same annotations and images it yields what
    ``CocoDataset.to_tf_dataset`` yields (in the same order without
    shuffling when the TFDS dataset was built with ``keep_order=True``).

    Differences from the JSON-backed datasets: instances are not counted
    up front, so ``len()`` raises ``TypeError`` (use
    :attr:`num_images` or ``steps_per_epoch``); there is no random access
    (``dataset[i]``) and no ``skipped`` report (skips happen in the graph;
    annotations without bbox/keypoints were counted when the TFDS data was
    built); shuffling uses a buffer of ``shuffle_buffer`` instances (plus
    TFDS file shuffling) instead of a full permutation; ``bbox_file`` /
    detection results, ``indices`` and ``sample_interval`` are not
    supported. A stored ``area`` of -1 or ``num_keypoints`` of -1 means
    "absent" (the builder's sentinel).

    Args:
        name_or_dataset: a TFDS name (``"coco_style_keypoints/<config>"``,
            optionally with ``":<version>"``), a ``tfds`` builder, or a
            ``tf.data.Dataset`` of the builder's examples loaded with
            ``decoders={"image": tfds.decode.SkipDecoding()}``.
        split: the TFDS split (slices such as ``"train[:10%]"`` work) when
            ``name_or_dataset`` is a name or a builder.
        data_dir: the TFDS data directory for a name.
        metainfo: dataset metainfo (name, file or dict); its
            ``num_keypoints`` must match the TFDS data.
        pipeline: list of transforms or their config dicts.
        test_mode: test mode (no shuffling by default).
        shuffle_buffer: instances in the shuffle buffer (each holds its
            encoded image).
        with_crowd_index: emit ``crowd_index`` (CrowdPose). None: when the
            builder's metadata says every image of the split has one (for a
            ``tf.data.Dataset``: when the first example has one).
        data_mode: only ``"topdown"``.

    Example:

    >>> # from keraspose.datasets.tfds import build_tfds_dataset
    >>> # builder = build_tfds_dataset("data/coco", {"train": (
    >>> #     "annotations/person_keypoints_train2017.json", "train2017")},
    >>> #     num_keypoints=17, name="coco", data_dir="~/tensorflow_datasets")
    >>> # ds = TfdsPoseDataset("coco_style_keypoints/coco", split="train",
    >>> #     data_dir="~/tensorflow_datasets", metainfo="coco",
    >>> #     pipeline=[dict(type="LoadImage"), ...])
    >>> # loader = ds.to_tf_dataset(batch_size=64, seed=0)
    """

    METAINFO = "coco"

    def __init__(
        self,
        name_or_dataset,
        split="train",
        data_dir=None,
        metainfo="coco",
        pipeline=(),
        test_mode=False,
        shuffle_buffer=1024,
        with_crowd_index=None,
        data_mode="topdown",
    ):
        # The base __init__ parses a JSON file; this one reads TFDS data.
        name = type(self).__name__
        if data_mode != "topdown":
            raise ValueError(
                f"{name} supports data_mode='topdown'. Received: "
                f"data_mode={data_mode!r}"
            )
        if int(shuffle_buffer) < 1:
            raise ValueError(
                f"{name}: shuffle_buffer must be >= 1. Received: "
                f"shuffle_buffer={shuffle_buffer!r}"
            )
        self.data_mode = data_mode
        self.split = split
        self.test_mode = bool(test_mode)
        self.shuffle_buffer = int(shuffle_buffer)
        self.metainfo = load_metainfo(
            metainfo if metainfo is not None else self.METAINFO
        )
        self.skipped = {}
        self._config_metainfo = metainfo
        self._with_crowd_index_arg = with_crowd_index
        self._builder = None
        self._dataset = None
        self._name = None
        self._data_dir = None if data_dir is None else os.fspath(data_dir)
        if isinstance(name_or_dataset, str):
            importlib.import_module(_BUILDER_MODULE)  # registers the builder
            self._builder = tfds.builder(name_or_dataset, data_dir=data_dir)
            self._name = name_or_dataset
        elif hasattr(name_or_dataset, "as_dataset") and hasattr(
            name_or_dataset, "info"
        ):
            self._builder = name_or_dataset
            self._name, self._data_dir = _builder_name(name_or_dataset)
        elif isinstance(name_or_dataset, tf.data.Dataset):
            self._dataset = name_or_dataset
        else:
            raise TypeError(
                f"{name} expects a TFDS name, a tfds builder or a "
                "tf.data.Dataset of its examples. Received: "
                f"{type(name_or_dataset).__name__}"
            )
        self._check_source()
        if with_crowd_index is None:
            with_crowd_index = self._detect_crowd_index()
        self.with_crowd_index = bool(with_crowd_index)
        self.pipeline = Compose(list(pipeline))
        self._columns = None

    # ------------------------------------------------------------------
    # Source
    # ------------------------------------------------------------------
    def _check_source(self):
        name = type(self).__name__
        if self._builder is not None:
            features = self._builder.info.features
            missing = [f for f in _FEATURES if f not in features]
            if missing or "objects" not in features:
                raise ValueError(
                    f"{name}: the TFDS dataset {self._name!r} is not a "
                    "coco_style_keypoints dataset (missing features "
                    f"{missing or ['objects']})."
                )
            k = features["objects"]["keypoints"].shape[0]
            splits = self._builder.info.splits
            if _base_split(self.split) not in splits:
                raise ValueError(
                    f"{name}: the TFDS dataset {self._name!r} has no split "
                    f"{self.split!r}; it has {sorted(splits)}. Was it "
                    "prepared (download_and_prepare) in this data_dir?"
                )
        else:
            spec = self._dataset.element_spec
            if not isinstance(spec, dict) or any(
                f not in spec for f in (*_FEATURES, "objects")
            ):
                raise ValueError(
                    f"{name}: expected a tf.data.Dataset of "
                    f"coco_style_keypoints examples (features {_FEATURES} "
                    "and 'objects'). Received element_spec keys: "
                    f"{sorted(spec) if isinstance(spec, dict) else spec}"
                )
            missing = [f for f in _OBJECT_FEATURES if f not in spec["objects"]]
            if missing:
                raise ValueError(
                    f"{name}: the examples' 'objects' lack {missing}."
                )
            image = spec["image"]
            if image.dtype != tf.string or image.shape.rank != 0:
                raise ValueError(
                    f"{name}: the 'image' feature is decoded ({image}); "
                    "load the dataset with decoders={'image': "
                    "tfds.decode.SkipDecoding()} so that LoadImage decodes "
                    "the original file bytes (as for the JSON datasets)."
                )
            k = spec["objects"]["keypoints"].shape[-2]
        if k != self.num_keypoints:
            raise ValueError(
                f"{name}: the TFDS data has {k} keypoints per instance but "
                f"the metainfo {self.metainfo['dataset_name']!r} has "
                f"{self.num_keypoints}; pass the matching metainfo."
            )

    def _detect_crowd_index(self):
        if self._builder is not None:
            meta = self._builder.info.metadata or {}
            per_split = meta.get("crowd_index") or {}
            return bool(per_split.get(_base_split(self.split), False))
        for example in self._dataset.take(1):
            return bool(example["crowd_index"] >= 0)
        return False

    @property
    def num_images(self):
        """Images in the split (None for a ``tf.data.Dataset`` source)."""
        if self._builder is None:
            return None
        return self._builder.info.splits[self.split].num_examples

    def examples(self, shuffle_files=False, seed=None):
        """The per-image TFDS examples (image bytes undecoded).

        Args:
            shuffle_files: shuffle the TFDS files (name/builder sources).
            seed: seed of the file shuffling.

        Returns:
            A ``tf.data.Dataset`` of the builder's examples.
        """
        if self._dataset is not None:
            return self._dataset
        if shuffle_files and self._builder.info.disable_shuffling:
            # Ordered data: shuffle files only where there are several (TFDS
            # warns about reading an ordered dataset out of order).
            try:
                shards = self._builder.info.splits[self.split].num_shards
            except Exception:  # an unusual split form: shuffle anyway
                shards = 2
            shuffle_files = shards > 1
        return self._builder.as_dataset(
            split=self.split,
            decoders={"image": tfds.decode.SkipDecoding()},
            shuffle_files=bool(shuffle_files),
            # Ordered (keep_order) datasets may still be read shuffled.
            read_config=tfds.ReadConfig(
                shuffle_seed=seed, enable_ordering_guard=not shuffle_files
            ),
        )

    def instances(self, example):
        """One TFDS example -> its valid instances as a dict of tensors.

        MMPose's ``parse_data_info`` and top-down validity filter in graph
        mode (float64 box arithmetic, as MMPose does on the JSON doubles).

        Args:
            example: one example of :meth:`examples`.

        Returns:
            A dict of (N, ...) tensors, the image's valid instances, without
            ``img_bytes``.
        """
        k = self.num_keypoints
        objs = example["objects"]
        width = tf.cast(example["width"], tf.float64)
        height = tf.cast(example["height"], tf.float64)
        # Empty byte-encoded sequences decode with shape (0,).
        raw = tf.reshape(tf.cast(objs["bbox"], tf.float64), [-1, 4])
        x, y, w, h = tf.unstack(raw, num=4, axis=1)
        x1 = _clip(x, width)
        y1 = _clip(y, height)
        x2 = _clip(x + w, width)
        y2 = _clip(y + h, height)
        bbox = tf.cast(tf.stack([x1, y1, x2, y2], axis=1), tf.float32)
        kpts = tf.reshape(tf.cast(objs["keypoints"], tf.float32), [-1, k, 3])
        keypoints = kpts[..., :2]
        n = tf.shape(bbox)[0]
        given = tf.reshape(objs["num_keypoints"], [-1])
        counted = tf.math.count_nonzero(
            tf.reduce_max(keypoints, axis=-1), axis=-1, dtype=tf.int64
        )
        num_keypoints = tf.cast(tf.where(given >= 0, given, counted), tf.int32)
        area = tf.reshape(tf.cast(objs["area"], tf.float32), [-1])
        default_area = tf.cast(
            tf.maximum((x2 - x1) * (y2 - y1) * 0.53, 1.0), tf.float32
        )
        iscrowd = tf.cast(tf.reshape(objs["iscrowd"], [-1]), tf.int32)
        img_shape = tf.cast(
            tf.stack([example["height"], example["width"]]), tf.int32
        )
        records = {
            "img_id": tf.fill([n], tf.cast(example["image/id"], tf.int64)),
            "img_path": tf.fill([n], example["image/filename"]),
            "img_shape": tf.tile(img_shape[None], [n, 1]),
            "bbox": bbox,
            "bbox_score": tf.ones([n], tf.float32),
            "num_keypoints": num_keypoints,
            "keypoints": keypoints,
            "keypoints_visible": tf.minimum(1.0, kpts[..., 2]),
            "area": tf.where(area >= 0, area, default_area),
            "iscrowd": iscrowd,
            "id": tf.cast(tf.reshape(objs["id"], [-1]), tf.int64),
            "category_id": tf.cast(
                tf.reshape(objs["category_id"], [-1]), tf.int64
            ),
        }
        if self.with_crowd_index:
            records["crowd_index"] = tf.fill(
                [n], tf.cast(example["crowd_index"], tf.float32)
            )
        # MMPose's _is_valid_instance (BaseCocoStyleDataset._invalid_reason).
        valid = (
            tf.equal(iscrowd, 0)
            & tf.not_equal(num_keypoints, 0)
            & (bbox[:, 2] - bbox[:, 0] > 0)
            & (bbox[:, 3] - bbox[:, 1] > 0)
            & (tf.reduce_max(keypoints, axis=[1, 2]) > 0)
        )
        return {key: tf.boolean_mask(v, valid) for key, v in records.items()}

    def _instance_dataset(self, example):
        image = example["image"]
        ds = tf.data.Dataset.from_tensor_slices(self.instances(example))
        return ds.map(lambda r: {**r, "img_bytes": image})

    def records(self, shuffle_files=False, seed=None):
        """The per-instance records (``columns()`` keys plus ``img_bytes``).

        Args:
            shuffle_files: shuffle the TFDS files (name/builder sources).
            seed: seed of the file shuffling.

        Returns:
            An unshuffled, unbatched ``tf.data.Dataset`` of record dicts.
        """
        return self.examples(shuffle_files, seed).flat_map(
            self._instance_dataset
        )

    def columns(self):
        """All records as stacked NumPy arrays (reads the whole split).

        Like the base class's ``columns()`` (no ``img_bytes``); meant for
        small datasets, tests and evaluation bookkeeping.
        """
        if self._columns is None:
            out = {}
            for record in self.records().as_numpy_iterator():
                for key, value in record.items():
                    if key != "img_bytes":
                        out.setdefault(key, []).append(value)
            if not out:
                raise ValueError(
                    f"{type(self).__name__}: no usable instances in "
                    f"{self._name or 'the dataset'!r} ({self.split!r})."
                )
            self._columns = {k: np.stack(v) for k, v in out.items()}
        return self._columns

    # ------------------------------------------------------------------
    # Access and config
    # ------------------------------------------------------------------
    def __len__(self):
        raise TypeError(
            f"{type(self).__name__} streams TFDS examples: its number of "
            "instances is only known after reading the split (see "
            "num_images, or len(columns()['id']) for small data); pass "
            "steps_per_epoch to fit with repeat=True."
        )

    def __bool__(self):
        return True

    def get_data_info(self, idx):
        raise TypeError(
            f"{type(self).__name__} has no random access; iterate over "
            "records() or to_tf_dataset()."
        )

    __getitem__ = get_data_info

    def __repr__(self):
        source = self._name or "tf.data.Dataset"
        return (
            f"{type(self).__name__}({source!r}, split={self.split!r}, "
            f"test_mode={self.test_mode})"
        )

    def get_config(self):
        if self._name is None:
            raise ValueError(
                f"{type(self).__name__} built from a tf.data.Dataset has no "
                "config; build it from a TFDS name to serialise it."
            )
        return {
            "name_or_dataset": self._name,
            "split": self.split,
            "data_dir": self._data_dir,
            "metainfo": self._config_metainfo,
            "pipeline": self.pipeline.get_config()["transforms"],
            "test_mode": self.test_mode,
            "shuffle_buffer": self.shuffle_buffer,
            "with_crowd_index": self._with_crowd_index_arg,
            "data_mode": self.data_mode,
        }

    def source_records(self, shuffle=False, seed=None):
        """The split's per-instance records (TFDS file shuffling on
        ``shuffle``); the base class's :meth:`to_tf_dataset` does the rest."""
        return self.records(shuffle_files=shuffle, seed=seed)

    def shuffle_buffer_size(self):
        """``shuffle_buffer`` instances (each holds its encoded image)."""
        return self.shuffle_buffer


def _base_split(split):
    """``"train[:10%]+val"`` -> ``"train"`` (the split the metadata names)."""
    return str(split).split("+")[0].split("[")[0].strip()


def _builder_name(builder):
    """(``"name/config:version"``, data_dir root) of a prepared builder."""
    info = builder.info
    full = info.full_name  # name[/config]/version
    parts = full.split("/")
    name = "/".join(parts[:-1]) + f":{parts[-1]}"
    root = os.fspath(builder.data_dir)
    for _ in parts:
        root = os.path.dirname(root)
    return name, root

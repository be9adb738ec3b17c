"""A TFDS builder for local COCO-style keypoint datasets.

This module imports ``tensorflow_datasets`` (and TensorFlow) at import time;
``import keraspose`` does not import it. Import it explicitly, e.g. through
``from keraspose.datasets.tfds import CocoStyleKeypoints``.

The builder stores the raw annotation values (COCO ``xywh`` boxes, ``(x, y,
v)`` keypoints, optional fields as sentinels) and the original image file
bytes, so that :class:`keraspose.datasets.tfds.TfdsPoseDataset` applies
MMPose's parsing (clipping, visibility, default area, validity filter)
exactly once, in graph mode.
"""

import dataclasses
import json
import logging
import os

import numpy as np
import tensorflow_datasets as tfds

logger = logging.getLogger("keraspose")

_INSTRUCTIONS = """\
Place the COCO-style dataset under the manual directory (``manual_dir`` of
``tfds.download.DownloadConfig``, default ``<data_dir>/downloads/manual``).
Each split of the builder config maps to a pair
``(annotation_json, image_dir)``, both relative to ``manual_dir``; images
are read from ``<manual_dir>/<image_dir>/<file_name>``. For example, with

    manual_dir/
      annotations/person_keypoints_train2017.json
      train2017/000000000036.jpg ...

use ``splits={"train": ("annotations/person_keypoints_train2017.json",
"train2017")}``. The annotation file is a COCO-format dict with ``images``
(``id``, ``file_name``, ``width``, ``height``, optionally ``crowdIndex``)
and ``annotations`` (``id``, ``image_id``, ``bbox``, ``keypoints`` and
optionally ``area``, ``iscrowd``, ``num_keypoints``, ``category_id``).
Nothing is downloaded.
"""


@dataclasses.dataclass(eq=False)
class CocoStyleKeypointsConfig(tfds.core.BuilderConfig):
    """A user-defined COCO-style keypoint dataset for ``CocoStyleKeypoints``.

    Args:
        name: config name (the dataset is ``coco_style_keypoints/<name>``).
        num_keypoints: keypoints per instance (``K``); annotations with a
            different count raise an error naming the annotation.
        splits: ``{split: (annotation_json, image_dir)}`` relative to the
            manual directory; a plain string is an annotation json with
            images next to the manual directory root.
        encoding_format: the ``tfds.features.Image`` encoding format. The
            file bytes are stored unchanged whatever it says (PNG files
            stay PNG), it only documents the expected format.
        keep_order: keep the examples in annotation-file order (TFDS's
            ``disable_shuffling``), so that reading without shuffling gives
            the order of the keraspose COCO-style datasets.
        keep_empty_images: also store images without any annotation.
        version: config version (default: the builder's).
        description: a description of the dataset.

    Example:

    >>> cfg = CocoStyleKeypointsConfig(
    ...     name="coco_sample",
    ...     num_keypoints=17,
    ...     splits={"train": ("test_coco.json", "")},
    ... )
    >>> cfg.num_keypoints
    17
    """

    num_keypoints: int = 17
    splits: dict = dataclasses.field(default_factory=dict)
    encoding_format: str = "jpeg"
    keep_order: bool = True
    keep_empty_images: bool = True


def _split_paths(split, value):
    if isinstance(value, str | os.PathLike):
        return os.fspath(value), ""
    try:
        ann, prefix = value
    except (TypeError, ValueError):
        raise ValueError(
            "CocoStyleKeypointsConfig.splits maps each split to "
            "(annotation_json, image_dir). Received for split "
            f"{split!r}: {value!r}"
        ) from None
    return os.fspath(ann), os.fspath(prefix or "")


class CocoStyleKeypoints(tfds.core.GeneratorBasedBuilder):
    """COCO-format keypoint datasets from local files, one example per image.

    Features: ``image`` (the original encoded file bytes, unchanged),
    ``image/filename`` (the annotation's ``file_name``), ``image/id``,
    ``width``, ``height``, ``crowd_index`` (CrowdPose's ``crowdIndex``, -1
    when absent) and ``objects``, a sequence of ``id``, ``bbox`` (raw COCO
    ``xywh``, float64 stored as raw bytes, so that ``x + w`` rounds as in
    MMPose, which adds the JSON doubles), ``keypoints``
    ``(K, 3)`` raw ``(x, y, v)``, ``area`` (-1 when absent), ``iscrowd``
    (0 when absent), ``num_keypoints`` (-1 when absent) and ``category_id``
    (1 when absent). Annotations without ``bbox`` or ``keypoints`` are left
    out (counted in the log). ``info.metadata["crowd_index"]`` records per
    split whether every image has a ``crowdIndex``.

    Configs are made by the user for their data (see
    :class:`CocoStyleKeypointsConfig`); nothing is downloaded. Reloading a
    prepared dataset by name works from the files:
    ``tfds.builder("coco_style_keypoints/<name>", data_dir=...)``.

    Args:
        config: a :class:`CocoStyleKeypointsConfig`.
        data_dir: TFDS data directory.
        **kwargs: further ``tfds.core.GeneratorBasedBuilder`` arguments.

    Example:

    >>> # builder = CocoStyleKeypoints(
    >>> #     config=CocoStyleKeypointsConfig(
    >>> #         name="coco_sample", num_keypoints=17,
    >>> #         splits={"train": ("test_coco.json", "")}),
    >>> #     data_dir="/tmp/tfds")
    >>> # builder.download_and_prepare(
    >>> #     download_config=tfds.download.DownloadConfig(
    >>> #         manual_dir="data/coco"))
    >>> # ds = builder.as_dataset(
    >>> #     split="train", decoders={"image": tfds.decode.SkipDecoding()})
    """

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = _INSTRUCTIONS
    BUILDER_CONFIG_CLASS = CocoStyleKeypointsConfig

    def _info(self):
        cfg = self.builder_config
        if cfg is None or not isinstance(cfg, CocoStyleKeypointsConfig):
            raise ValueError(
                "CocoStyleKeypoints needs a CocoStyleKeypointsConfig (there "
                "are no predefined configs): CocoStyleKeypoints(config="
                "CocoStyleKeypointsConfig(name=..., num_keypoints=..., "
                "splits=...), data_dir=...)."
            )
        k = int(cfg.num_keypoints)
        return self.dataset_info_from_configs(
            description=cfg.description
            or "COCO-style keypoint annotations (raw values) with images.",
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Image(
                        shape=(None, None, 3),
                        encoding_format=cfg.encoding_format,
                    ),
                    "image/filename": tfds.features.Text(),
                    "image/id": np.int64,
                    "width": np.int64,
                    "height": np.int64,
                    "crowd_index": np.float32,
                    "objects": tfds.features.Sequence(
                        {
                            "id": np.int64,
                            # Raw bytes: tf.train.Example floats are 32-bit.
                            "bbox": tfds.features.Tensor(
                                shape=(4,),
                                dtype=np.float64,
                                encoding=tfds.features.Encoding.BYTES,
                            ),
                            "keypoints": tfds.features.Tensor(
                                shape=(k, 3), dtype=np.float32
                            ),
                            "area": np.float32,
                            "iscrowd": np.int64,
                            "num_keypoints": np.int64,
                            "category_id": np.int64,
                        }
                    ),
                }
            ),
            metadata=tfds.core.MetadataDict(),
            disable_shuffling=bool(cfg.keep_order),
        )

    def _split_generators(self, dl_manager):
        cfg = self.builder_config
        if not cfg.splits:
            raise ValueError(
                f"CocoStyleKeypointsConfig {cfg.name!r} has no splits: pass "
                "splits={'train': ('annotations.json', 'images/')}."
            )
        manual_dir = os.fspath(dl_manager.manual_dir)
        generators = {}
        crowd_index = {}
        for split, value in cfg.splits.items():
            ann, prefix = _split_paths(split, value)
            ann_path = os.path.join(manual_dir, ann)
            data = _load_annotations(ann_path)
            crowd_index[split] = all(
                "crowdIndex" in img for img in data["images"]
            )
            generators[split] = self._generate_examples(
                data, ann_path, os.path.join(manual_dir, prefix)
            )
        self.info.metadata["crowd_index"] = crowd_index
        return generators

    def _generate_examples(self, data, ann_path, img_dir):
        k = int(self.builder_config.num_keypoints)
        images = data["images"]
        by_image = {img["id"]: [] for img in images}
        for ann in data.get("annotations") or ():
            if ann.get("image_id") not in by_image:
                raise ValueError(
                    f"{ann_path}: annotation id {ann.get('id')!r} refers to "
                    f"image_id {ann.get('image_id')!r}, which is not in "
                    "'images'."
                )
            by_image[ann["image_id"]].append(ann)
        missing = []
        for index, img in enumerate(images):
            objects = []
            for ann in by_image[img["id"]]:
                if "bbox" not in ann or "keypoints" not in ann:
                    missing.append(ann.get("id"))
                    continue
                objects.append(_encode_object(ann, k, ann_path))
            if not objects and not self.builder_config.keep_empty_images:
                continue
            path = os.path.join(img_dir, img["file_name"])
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"{ann_path}: the image file {path!r} of image id "
                    f"{img['id']!r} (field file_name) does not exist; check "
                    "the image directory of the split and manual_dir."
                )
            with open(path, "rb") as f:
                image_bytes = f.read()
            yield (
                index,
                {
                    # Bytes are stored as they are (TFDS encodes only arrays).
                    "image": image_bytes,
                    "image/filename": img["file_name"],
                    "image/id": int(img["id"]),
                    "width": int(img["width"]),
                    "height": int(img["height"]),
                    "crowd_index": float(img.get("crowdIndex", -1.0)),
                    "objects": _stack_objects(objects, k),
                },
            )
        if missing:
            shown = ", ".join(str(i) for i in missing[:8])
            logger.warning(
                "CocoStyleKeypoints(%s): left out %d annotations without a "
                "bbox or keypoints field (ids [%s%s]).",
                os.path.basename(ann_path),
                len(missing),
                shown,
                ", ..." if len(missing) > 8 else "",
            )


def _load_annotations(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"The annotation file {path!r} does not exist (paths in "
            "CocoStyleKeypointsConfig.splits are relative to manual_dir)."
        )
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(
                f"The annotation file {path!r} is not valid JSON: {e.msg} at "
                f"line {e.lineno}, column {e.colno}."
            ) from None
    if not isinstance(data, dict) or not data.get("images"):
        raise ValueError(
            f"The annotation file {path!r} has no 'images' entries: expected "
            "a COCO-format dict with 'images' and 'annotations'."
        )
    for img in data["images"]:
        for field in ("id", "file_name", "width", "height"):
            if field not in img:
                raise ValueError(
                    f"{path}: image entry {img.get('id')!r} has no "
                    f"{field!r} field."
                )
    return data


def _encode_object(ann, k, ann_path):
    where = f"{ann_path}: annotation id {ann.get('id')!r}"
    if "id" not in ann:
        raise ValueError(f"{where}: the annotation has no 'id' field.")
    kpts = np.asarray(ann["keypoints"], dtype=np.float32).reshape(-1)
    if kpts.size != 3 * k:
        raise ValueError(
            f"{where}, field 'keypoints': expected {3 * k} values ({k} "
            f"keypoints x (x, y, v)); received {kpts.size} values "
            f"({kpts.size / 3:g} keypoints)."
        )
    if not np.isfinite(kpts).all():
        bad = np.flatnonzero(~np.isfinite(kpts.reshape(k, 3)).all(-1))
        raise ValueError(
            f"{where}, field 'keypoints': non-finite (NaN/inf) values for "
            f"keypoints {bad.tolist()}."
        )
    bbox = np.asarray(ann["bbox"], dtype=np.float64).reshape(-1)
    if bbox.size != 4 or not np.isfinite(bbox).all():
        raise ValueError(
            f"{where}, field 'bbox': expected 4 finite numbers [x, y, w, h]; "
            f"received {ann['bbox']!r}."
        )
    return {
        "id": int(ann["id"]),
        "bbox": bbox,
        "keypoints": kpts.reshape(k, 3),
        "area": np.float32(ann["area"]) if "area" in ann else -1.0,
        "iscrowd": int(ann.get("iscrowd", 0)),
        "num_keypoints": int(ann.get("num_keypoints", -1)),
        "category_id": int(ann.get("category_id", 1)),
    }


def _stack_objects(objects, k):
    return {
        "id": np.asarray([o["id"] for o in objects], np.int64),
        "bbox": np.asarray([o["bbox"] for o in objects], np.float64).reshape(
            -1, 4
        ),
        "keypoints": np.asarray(
            [o["keypoints"] for o in objects], np.float32
        ).reshape(-1, k, 3),
        "area": np.asarray([o["area"] for o in objects], np.float32),
        "iscrowd": np.asarray([o["iscrowd"] for o in objects], np.int64),
        "num_keypoints": np.asarray(
            [o["num_keypoints"] for o in objects], np.int64
        ),
        "category_id": np.asarray(
            [o["category_id"] for o in objects], np.int64
        ),
    }


def build_tfds_dataset(
    manual_dir, splits, num_keypoints, name, data_dir, version=None, **kwargs
):
    """Builds (``download_and_prepare``) a local COCO-style TFDS dataset.

    Args:
        manual_dir: folder holding the annotation files and images.
        splits: ``{split: (annotation_json, image_dir)}`` relative to
            ``manual_dir``.
        num_keypoints: keypoints per instance.
        name: config name; the dataset is ``coco_style_keypoints/<name>``.
        data_dir: TFDS data directory to write to.
        version: config version (default ``"1.0.0"``).
        **kwargs: further :class:`CocoStyleKeypointsConfig` fields
            (``keep_order``, ``keep_empty_images``, ``description``...).

    Returns:
        The prepared :class:`CocoStyleKeypoints` builder.

    Example:

    >>> # builder = build_tfds_dataset(
    >>> #     "data/coco", {"val": ("test_coco.json", "")}, 17,
    >>> #     name="coco_sample", data_dir="/tmp/tfds")
    >>> # TfdsPoseDataset(builder, split="val", pipeline=[...])
    """
    config = CocoStyleKeypointsConfig(
        name=name,
        num_keypoints=int(num_keypoints),
        splits=dict(splits),
        version=version,
        **kwargs,
    )
    builder = CocoStyleKeypoints(config=config, data_dir=os.fspath(data_dir))
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(
            manual_dir=os.fspath(manual_dir)
        )
    )
    return builder

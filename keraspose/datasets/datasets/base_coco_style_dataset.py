"""COCO-style keypoint datasets feeding a tf.data pipeline."""

import json
import logging
import os

import numpy as np

from keraspose.datasets.metainfo import load_metainfo
from keraspose.datasets.transforms.compose import Compose
from keraspose.utils.lazy_import import tf

logger = logging.getLogger("keraspose")

# Skip reasons of MMPose's top-down validity filter, in its order.
_SKIP_REASONS = {
    "missing_fields": "without a bbox or keypoints field",
    "crowd": "crowd (iscrowd=1)",
    "no_keypoints": "with num_keypoints == 0",
    "invalid_bbox": "with a zero-area or out-of-image bbox (after clipping)",
    "unlabelled": "with all keypoint coordinates <= 0",
    "rle_invalid_seg": (
        "invalid instances whose RLE segmentation is not masked (as MMPose)"
    ),
}

#: Per-instance fields of a bottom-up record: dtype and shape after N.
BOTTOMUP_INSTANCE_KEYS = {
    "bbox": (np.float32, (4,)),
    "bbox_score": (np.float32, ()),
    "num_keypoints": (np.int32, ()),
    "keypoints": (np.float32, ("K", 2)),
    "keypoints_visible": (np.float32, ("K",)),
    "area": (np.float32, ()),
    "iscrowd": (np.int32, ()),
    "id": (np.int64, ()),
    "category_id": (np.int64, ()),
}


def _fmt_ids(ids, limit=8):
    shown = ", ".join(str(i) for i in ids[:limit])
    more = f", ... ({len(ids) - limit} more)" if len(ids) > limit else ""
    return f"[{shown}{more}]"


def _join(root, path):
    if path is None:
        return None
    if root and not os.path.isabs(path):
        return os.path.join(root, path)
    return path


def load_json_file(path, what="annotation file"):
    """Reads a JSON file; errors name the file (and the position)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The {what} {path!r} does not exist.")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if not text.strip():
        raise ValueError(f"The {what} {path!r} is empty (0 bytes of JSON).")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"The {what} {path!r} is not valid JSON: {e.msg} at line "
            f"{e.lineno}, column {e.colno}."
        ) from None


def _drop_instance_meta(packed):
    """Bottom-up ``x`` keeps per-image meta only.

    Per-instance meta (``id``, ``bbox``, ... with a leading instance axis
    N that varies per image) cannot be batched; the packed ``x`` drops
    them (the targets in ``y`` are padded by ``GenerateTarget``).
    """
    x, rest = (
        (packed[0], packed[1:])
        if isinstance(packed, tuple)
        else (
            packed,
            None,
        )
    )
    if isinstance(x, dict) and (rest is not None or "images" in x):
        x = {
            k: v
            for k, v in x.items()
            if k not in BOTTOMUP_INSTANCE_KEYS
            and k not in ("invalid_segs", "transformed_keypoints")
        }
    return x if rest is None else (x, *rest)


class BaseCocoStyleDataset:
    """A COCO-format keypoint dataset, MMPose's arguments and filtering.

    Parses the annotation file once on the host (like MMPose's
    ``BaseCocoStyleDataset``) into per-instance records, then streams them
    through the graph-mode ``pipeline`` with :meth:`to_tf_dataset`.

    Parsing follows MMPose 1.3.2: boxes are clipped to
    ``[0, W - 1] x [0, H - 1]`` and stored as xyxy; ``keypoints_visible`` is
    ``min(1, v)``; a missing ``area`` becomes ``0.53 * w * h`` (at least 1);
    top-down instances that are crowd, have ``num_keypoints == 0``, a
    zero-area box after clipping, or all coordinates <= 0 are skipped (also
    in test mode, as MMPose does). Skips are counted in :attr:`skipped`
    (reason -> annotation ids) and logged on the ``keraspose`` logger.
    Invalid data (wrong keypoint count, NaN, missing image size, unknown
    image id, missing image files) raise errors naming the file, the
    annotation id and the field.

    In test mode with a ``bbox_file`` (COCO detection results), instances
    come from the person detections (``category_id == 1``) with MMPose's
    running ``id``; ``filter_cfg=dict(bbox_score_thr=...)`` drops
    low-score boxes.

    Args:
        ann_file: annotation json (relative to ``data_root``).
        bbox_file: detection results json for top-down testing.
        data_mode: ``"topdown"`` (one record per valid instance) or
            ``"bottomup"`` (one record per image with all its instances;
            see :meth:`bottomup_records`).
        metainfo: dataset metainfo (name, file or dict); the class default
            otherwise.
        data_root: root for ``ann_file`` and ``data_prefix``.
        data_prefix: ``dict(img="images/dir/")``.
        filter_cfg: ``dict(bbox_score_thr=...)``.
        indices: keep only the first ``indices`` instances (int) or these
            instance indices (list).
        pipeline: list of transforms or their config dicts.
        test_mode: test mode (no shuffling by default).
        sample_interval: keep images whose id is a multiple of it.
        check_files: check at construction that every image file exists.
        serialize_data: accepted for MMPose configs (no effect).
        lazy_init: accepted for MMPose configs (no effect).
        max_refetch: accepted for MMPose configs (no effect).
    """

    METAINFO = None

    def __init__(
        self,
        ann_file="",
        bbox_file=None,
        data_mode="topdown",
        metainfo=None,
        data_root=None,
        data_prefix=None,
        filter_cfg=None,
        indices=None,
        pipeline=(),
        test_mode=False,
        sample_interval=1,
        check_files=True,
        serialize_data=True,
        lazy_init=False,
        max_refetch=1000,
    ):
        name = type(self).__name__
        self._config = dict(
            ann_file=ann_file,
            bbox_file=bbox_file,
            data_mode=data_mode,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            filter_cfg=filter_cfg,
            indices=indices,
            test_mode=test_mode,
            sample_interval=sample_interval,
            check_files=check_files,
        )
        if data_mode not in ("topdown", "bottomup"):
            raise ValueError(
                f"{name} expects data_mode 'topdown' or 'bottomup'. "
                f"Received: data_mode={data_mode!r}"
            )
        if data_mode == "bottomup" and bbox_file:
            raise ValueError(
                f"{name}: bbox_file is a top-down option; bottom-up models "
                "find the instances themselves. Received: "
                f"bbox_file={bbox_file!r}, data_mode='bottomup'"
            )
        if bbox_file and not test_mode:
            raise ValueError(
                f"{name}: bbox_file is only supported with test_mode=True. "
                f"Received: bbox_file={bbox_file!r}, test_mode={test_mode!r}"
            )
        self.data_mode = data_mode
        self.data_root = data_root
        self.ann_file = _join(data_root, ann_file)
        self.bbox_file = _join(data_root, bbox_file)
        data_prefix = dict(data_prefix or {"img": ""})
        self.data_prefix = {
            k: _join(data_root, v) if v else (data_root or "")
            for k, v in data_prefix.items()
        }
        self.filter_cfg = dict(filter_cfg) if filter_cfg else None
        self.test_mode = bool(test_mode)
        self.sample_interval = int(sample_interval)
        self.check_files = bool(check_files)
        self.metainfo = load_metainfo(
            metainfo if metainfo is not None else self.METAINFO
        )
        self.skipped = {}
        self.data_list = self.load_data_list()
        self.data_list = self.filter_data()
        if isinstance(indices, int):
            self.data_list = self.data_list[:indices]
        elif indices is not None:
            self.data_list = [self.data_list[i] for i in indices]
        if not self.data_list:
            raise ValueError(
                f"{name}: no usable instances in {self.ann_file!r}"
                + (f" with bbox_file {self.bbox_file!r}" if bbox_file else "")
                + f". Skipped: {self._skip_summary() or 'none'}."
            )
        if self.check_files:
            self._check_image_files()
        self.pipeline = Compose(list(pipeline))
        self._columns = None

    # ------------------------------------------------------------------
    # Parsing (host side, once)
    # ------------------------------------------------------------------
    @property
    def num_keypoints(self):
        return int(self.metainfo["num_keypoints"])

    def load_data_list(self):
        if self.bbox_file:
            return self._load_detection_results()
        if self.data_mode == "bottomup":
            return self._load_bottomup_annotations()
        return self._load_annotations()

    def _images_and_annotations(self):
        data = load_json_file(self.ann_file)
        if not isinstance(data, dict) or not data.get("images"):
            raise ValueError(
                f"The annotation file {self.ann_file!r} has no 'images' "
                "entries: expected a COCO-format dict with 'images' and "
                "'annotations'."
            )
        images = {}
        for img in data["images"]:
            for field in ("id", "file_name", "width", "height"):
                if field not in img:
                    raise ValueError(
                        f"{self.ann_file}: image entry {img.get('id')!r} "
                        f"has no {field!r} field."
                    )
            images[img["id"]] = img
        return data, images

    def _load_annotations(self):
        data, images = self._images_and_annotations()
        anns = data.get("annotations")
        if not anns:
            raise ValueError(
                f"The annotation file {self.ann_file!r} has no "
                "'annotations': nothing to train or test on."
            )
        by_image = {}
        for ann in anns:
            if ann.get("image_id") not in images:
                raise ValueError(
                    f"{self.ann_file}: annotation id {ann.get('id')!r} "
                    f"refers to image_id {ann.get('image_id')!r}, which is "
                    "not in 'images'."
                )
            by_image.setdefault(ann["image_id"], []).append(ann)
        instances = []
        for img_id, img in images.items():
            if img_id % self.sample_interval != 0:
                continue
            for ann in by_image.get(img_id, ()):
                info = self.parse_data_info(ann, img)
                if info is None:
                    self._skip("missing_fields", ann.get("id"))
                    continue
                reason = self._invalid_reason(info)
                if reason is not None:
                    self._skip(reason, info["id"])
                    continue
                instances.append(info)
        self._log_skips()
        return instances

    def parse_data_info(self, ann, img):
        """One annotation -> one instance dict (MMPose's parsing)."""
        if "bbox" not in ann or "keypoints" not in ann:
            return None
        ann_id = ann.get("id")
        where = f"{self.ann_file}: annotation id {ann_id!r}"
        k = self.num_keypoints
        raw = np.asarray(ann["keypoints"], dtype=np.float32).reshape(-1)
        if raw.size != 3 * k:
            raise ValueError(
                f"{where}, field 'keypoints': expected {3 * k} values "
                f"({k} keypoints x (x, y, v)) for dataset "
                f"{self.metainfo['dataset_name']!r}; received {raw.size} "
                f"values ({raw.size / 3:g} keypoints)."
            )
        if not np.isfinite(raw).all():
            bad = np.flatnonzero(~np.isfinite(raw.reshape(k, 3)).all(-1))
            raise ValueError(
                f"{where}, field 'keypoints': non-finite (NaN/inf) values "
                f"for keypoints {bad.tolist()}."
            )
        bbox_raw = np.asarray(ann["bbox"], dtype=np.float64).reshape(-1)
        if bbox_raw.size != 4 or not np.isfinite(bbox_raw).all():
            raise ValueError(
                f"{where}, field 'bbox': expected 4 finite numbers "
                f"[x, y, w, h]; received {ann['bbox']!r}."
            )
        img_w, img_h = img["width"], img["height"]
        x, y, w, h = bbox_raw
        x1 = np.clip(x, 0, img_w - 1)
        y1 = np.clip(y, 0, img_h - 1)
        x2 = np.clip(x + w, 0, img_w - 1)
        y2 = np.clip(y + h, 0, img_h - 1)
        bbox = np.array([x1, y1, x2, y2], dtype=np.float32)
        kpts = raw.reshape(k, 3)
        keypoints = kpts[:, :2]
        visible = np.minimum(1, kpts[:, 2])
        if "num_keypoints" in ann:
            num_keypoints = int(ann["num_keypoints"])
        else:
            num_keypoints = int(np.count_nonzero(keypoints.max(axis=1)))
        if "area" in ann:
            area = np.float32(ann["area"])
        else:
            area = np.float32(max((x2 - x1) * (y2 - y1) * 0.53, 1.0))
        info = {
            "img_id": int(ann["image_id"]),
            "img_path": os.path.join(
                self.data_prefix.get("img", ""), img["file_name"]
            ),
            "img_shape": np.array([img_h, img_w], np.int32),
            "bbox": bbox,
            "bbox_score": np.float32(1.0),
            "num_keypoints": num_keypoints,
            "keypoints": keypoints,
            "keypoints_visible": visible,
            "area": area,
            "iscrowd": int(ann.get("iscrowd", 0)),
            "id": int(ann_id),
            "category_id": int(ann.get("category_id", 1)),
        }
        if "crowdIndex" in img:
            info["crowd_index"] = np.float32(img["crowdIndex"])
        return info

    @staticmethod
    def _invalid_reason(info):
        """MMPose's ``_is_valid_instance`` with the reason for a skip."""
        if info.get("iscrowd"):
            return "crowd"
        if info.get("num_keypoints", 1) == 0:
            return "no_keypoints"
        bbox = info["bbox"]
        if bbox[2] - bbox[0] <= 0 or bbox[3] - bbox[1] <= 0:
            return "invalid_bbox"
        if np.max(info["keypoints"]) <= 0:
            return "unlabelled"
        return None

    def _load_bottomup_annotations(self):
        """MMPose's ``_get_bottomup_data_infos``: one record per image.

        Every parsed instance of the image is kept (crowd and
        keypoint-less ones too, as MMPose does; their keypoints carry
        zero visibility), stacked along a leading instance axis N. The
        polygons of the instances MMPose's validity filter rejects become
        the image's ``invalid_segs`` (P polygons of (V, 2) points);
        ``BottomupGetHeatmapMask`` masks them out of the loss. MMPose only
        rasterises list (polygon) segmentations there: a crowd region given
        as an RLE dict is silently ignored by MMPose 1.3.2, and here too
        (counted in :attr:`skipped` under ``"rle_invalid_seg"``). Images
        without instances are dropped, except in test mode (kept with
        N = 0 for evaluation, like MMPose).
        """
        data, images = self._images_and_annotations()
        by_image = {}
        for ann in data.get("annotations") or ():
            if ann.get("image_id") not in images:
                raise ValueError(
                    f"{self.ann_file}: annotation id {ann.get('id')!r} "
                    f"refers to image_id {ann.get('image_id')!r}, which is "
                    "not in 'images'."
                )
            by_image.setdefault(ann["image_id"], []).append(ann)
        k = self.num_keypoints
        records = []
        for img_id, img in images.items():
            if img_id % self.sample_interval != 0:
                continue
            infos, segs = [], []
            for ann in by_image.get(img_id, ()):
                info = self.parse_data_info(ann, img)
                if info is None:
                    self._skip("missing_fields", ann.get("id"))
                    continue
                infos.append(info)
                if self._invalid_reason(info) is not None:
                    segs.extend(self._parse_invalid_seg(ann))
            if not infos and not self.test_mode:
                continue
            record = {
                "img_id": int(img_id),
                "img_path": os.path.join(
                    self.data_prefix.get("img", ""), img["file_name"]
                ),
                "img_shape": np.array([img["height"], img["width"]], np.int32),
            }
            for key, (dtype, shape) in BOTTOMUP_INSTANCE_KEYS.items():
                shape = tuple(k if s == "K" else s for s in shape)
                values = [np.asarray(i[key], dtype) for i in infos]
                record[key] = (
                    np.stack(values).reshape((-1, *shape))
                    if values
                    else np.zeros((0, *shape), dtype)
                )
            record["invalid_segs"] = segs
            if "crowdIndex" in img:
                record["crowd_index"] = np.float32(img["crowdIndex"])
            records.append(record)
        self._log_skips()
        return records

    def _parse_invalid_seg(self, ann):
        """Polygons (V, 2) of an invalid instance's ``segmentation``."""
        seg = ann.get("segmentation")
        if seg is None:
            return []
        if isinstance(seg, dict):  # RLE: MMPose 1.3.2 ignores it
            self._skip("rle_invalid_seg", ann.get("id"))
            return []
        where = (
            f"{self.ann_file}: annotation id {ann.get('id')!r}, field "
            "'segmentation'"
        )
        if not isinstance(seg, list | tuple):
            raise ValueError(
                f"{where}: expected a list of polygons [[x1, y1, x2, y2, "
                f"...], ...] or an RLE dict; received {type(seg).__name__}."
            )
        polygons = []
        for j, poly in enumerate(seg):
            try:
                pts = np.asarray(poly, np.float32).reshape(-1)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{where}, polygon {j}: expected a flat list of numbers; "
                    f"received {poly!r:.80}."
                ) from None
            if pts.size % 2 or not np.isfinite(pts).all():
                raise ValueError(
                    f"{where}, polygon {j}: expected an even number of "
                    f"finite coordinates (x, y pairs); received {pts.size} "
                    "values"
                    + ("" if np.isfinite(pts).all() else " with NaN")
                    + "."
                )
            polygons.append(pts.reshape(-1, 2))
        return polygons

    def _load_detection_results(self):
        _, images = self._images_and_annotations()
        dets = load_json_file(self.bbox_file, "bbox file")
        if not isinstance(dets, list):
            raise ValueError(
                f"The bbox file {self.bbox_file!r} must hold a list of COCO "
                f"detection dicts; received a {type(dets).__name__}."
            )
        k = self.num_keypoints
        out = []
        next_id = 0
        for i, det in enumerate(dets):
            for field in ("image_id", "bbox", "score", "category_id"):
                if field not in det:
                    raise ValueError(
                        f"{self.bbox_file}: detection {i} has no {field!r} "
                        "field."
                    )
            if det["category_id"] != 1:
                continue
            img = images.get(det["image_id"])
            if img is None:
                raise ValueError(
                    f"{self.bbox_file}: detection {i} refers to image_id "
                    f"{det['image_id']!r}, which is not in "
                    f"{self.ann_file!r}."
                )
            box = np.asarray(det["bbox"][:4], np.float32)
            if box.size != 4 or not np.isfinite(box).all():
                raise ValueError(
                    f"{self.bbox_file}: detection {i}, field 'bbox': "
                    f"expected 4 finite numbers; received {det['bbox']!r}."
                )
            out.append(
                {
                    "img_id": int(det["image_id"]),
                    "img_path": os.path.join(
                        self.data_prefix.get("img", ""), img["file_name"]
                    ),
                    "img_shape": np.array(
                        [img["height"], img["width"]], np.int32
                    ),
                    "bbox": np.concatenate([box[:2], box[:2] + box[2:]]),
                    "bbox_score": np.float32(det["score"]),
                    "keypoints": np.zeros((k, 2), np.float32),
                    "keypoints_visible": np.ones((k,), np.float32),
                    "id": next_id,
                    "category_id": 1,
                }
            )
            next_id += 1
        return out

    def filter_data(self):
        """MMPose's ``filter_cfg``: ``bbox_score_thr`` (counted skip)."""
        if (
            not self.filter_cfg
            or "bbox_score_thr" not in self.filter_cfg
            or self.data_mode == "bottomup"
        ):
            return self.data_list
        thr = float(self.filter_cfg["bbox_score_thr"])
        kept = []
        low = []
        for d in self.data_list:
            (kept if d["bbox_score"] >= thr else low).append(d)
        if low:
            self.skipped["low_bbox_score"] = [d["id"] for d in low]
            logger.info(
                "%s: %d boxes below bbox_score_thr=%g skipped.",
                type(self).__name__,
                len(low),
                thr,
            )
        return kept

    def _skip(self, reason, ann_id):
        self.skipped.setdefault(reason, []).append(ann_id)

    def _skip_summary(self):
        return "; ".join(
            f"{len(ids)} {_SKIP_REASONS.get(r, r)} (ids {_fmt_ids(ids)})"
            for r, ids in self.skipped.items()
        )

    def _log_skips(self):
        if not self.skipped:
            return
        level = (
            logging.WARNING
            if self.skipped.keys() & {"invalid_bbox", "missing_fields"}
            else logging.INFO
        )
        logger.log(
            level,
            "%s(%s): skipped %d annotations: %s",
            type(self).__name__,
            os.path.basename(str(self.ann_file)),
            sum(len(v) for v in self.skipped.values()),
            self._skip_summary(),
        )

    def _check_image_files(self):
        missing = {}
        for d in self.data_list:
            if d["img_path"] not in missing and not os.path.isfile(
                d["img_path"]
            ):
                missing[d["img_path"]] = (d["img_id"], [])
            if d["img_path"] in missing:
                missing[d["img_path"]][1].extend(
                    np.atleast_1d(d.get("id", [])).tolist()
                )
        if missing:
            lines = [
                f"  {path} (img_id {img_id}, annotation ids {_fmt_ids(ids)})"
                for path, (img_id, ids) in list(missing.items())[:10]
            ]
            more = len(missing) - len(lines)
            raise FileNotFoundError(
                f"{type(self).__name__}: {len(missing)} image file(s) named "
                f"in {self.ann_file!r} (field file_name) do not exist:\n"
                + "\n".join(lines)
                + (f"\n  ... and {more} more" if more > 0 else "")
                + "\nCheck data_root / data_prefix, or pass "
                "check_files=False to defer the error to loading time."
            )

    def get_config(self):
        config = dict(self._config)
        config["pipeline"] = self.pipeline.get_config()["transforms"]
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return (
            f"{type(self).__name__}(ann_file={self.ann_file!r}, "
            f"instances={len(self)}, test_mode={self.test_mode})"
        )

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    def __len__(self):
        return len(self.data_list)

    def get_data_info(self, idx):
        """The parsed instance ``idx`` with the metainfo entries MMPose adds."""
        info = dict(self.data_list[idx])
        for key in (
            "dataset_name",
            "upper_body_ids",
            "lower_body_ids",
            "flip_pairs",
            "dataset_keypoint_weights",
            "flip_indices",
            "skeleton_links",
        ):
            info[key] = self.metainfo[key]
        return info

    __getitem__ = get_data_info

    def columns(self):
        """The records as a dict of stacked NumPy arrays (one per field).

        In bottom-up mode the per-instance fields (and ``invalid_segs``)
        are lists with one array (or list of polygons) per image; see
        :meth:`source_records` for their ragged form.
        """
        if self.data_mode == "bottomup":
            return self._bottomup_columns()
        if self._columns is None:
            keys = self.data_list[0].keys()
            self._columns = {
                key: np.stack([np.asarray(d[key]) for d in self.data_list])
                for key in keys
                if all(key in d for d in self.data_list)
            }
            for key, dtype in (
                ("img_id", np.int64),
                ("id", np.int64),
                ("category_id", np.int64),
                ("num_keypoints", np.int32),
                ("iscrowd", np.int32),
                ("keypoints_visible", np.float32),
            ):
                if key in self._columns:
                    self._columns[key] = self._columns[key].astype(dtype)
        return self._columns

    def metainfo_tensors(self):
        """Metainfo entries every sample carries (as MMPose's results do)."""
        m = self.metainfo
        return {
            "flip_indices": tf.constant(m["flip_indices"], tf.int32),
            "upper_body_ids": tf.constant(m["upper_body_ids"], tf.int32),
            "lower_body_ids": tf.constant(m["lower_body_ids"], tf.int32),
            "dataset_keypoint_weights": tf.constant(
                m["dataset_keypoint_weights"], tf.float32
            ),
        }

    def process(self, record, seed=None):
        """Runs the pipeline on one record (graph mode inside tf.data)."""
        results = dict(record)
        results.update(self.metainfo_tensors())
        out = self.pipeline(results, seed)
        if self.data_mode == "bottomup":
            out = _drop_instance_meta(out)
        return out

    def _bottomup_columns(self):
        if self._columns is None:
            per_instance = set(BOTTOMUP_INSTANCE_KEYS) | {"invalid_segs"}
            cols = {}
            for key in self.data_list[0]:
                if not all(key in d for d in self.data_list):
                    continue
                values = [d[key] for d in self.data_list]
                cols[key] = values if key in per_instance else np.stack(values)
            cols["img_id"] = cols["img_id"].astype(np.int64)
            self._columns = cols
        return self._columns

    def _bottomup_source(self):
        """Bottom-up records with ragged instance axes (``tf.data``)."""
        cols = self.columns()
        out = {}
        for key, value in cols.items():
            if key == "invalid_segs":
                polys = [p for segs in value for p in segs]
                flat = (
                    np.concatenate(polys)
                    if polys
                    else np.zeros((0, 2), np.float32)
                )
                out[key] = tf.RaggedTensor.from_nested_row_lengths(
                    flat.astype(np.float32),
                    [
                        np.array([len(v) for v in value], np.int64),
                        np.array([len(p) for p in polys], np.int64),
                    ],
                )
            elif key in BOTTOMUP_INSTANCE_KEYS:
                out[key] = tf.RaggedTensor.from_row_lengths(
                    np.concatenate(value),
                    np.array([len(v) for v in value], np.int64),
                )
            else:
                out[key] = value
        return tf.data.Dataset.from_tensor_slices(out)

    def source_records(self, shuffle=False, seed=None):
        """Per-instance records as a ``tf.data.Dataset`` (before shuffling).

        Subclasses with another source (TFDS) override this and
        :meth:`shuffle_buffer_size`; the rest of :meth:`to_tf_dataset` is
        shared.
        """
        if self.data_mode == "bottomup":
            return self._bottomup_source()
        return tf.data.Dataset.from_tensor_slices(self.columns())

    def shuffle_buffer_size(self):
        """Shuffle buffer of :meth:`to_tf_dataset` (all instances here)."""
        return len(self)

    def to_tf_dataset(
        self,
        batch_size=None,
        shuffle=None,
        seed=None,
        drop_remainder=False,
        repeat=False,
        num_parallel_calls=None,
        deterministic=None,
        prefetch=True,
    ):
        """The pipeline as a ``tf.data.Dataset`` for ``model.fit``.

        Args:
            batch_size: batch size, or None for unbatched samples.
            shuffle: shuffle instances each epoch (default: not test mode).
            seed: seed for shuffling and augmentation (None: random).
            drop_remainder: drop the last incomplete batch.
            repeat: repeat forever (then pass ``steps_per_epoch`` to fit).
            num_parallel_calls: parallel map calls (default AUTOTUNE).
            deterministic: keep element order under parallel map (default
                True when ``seed`` is set).
            prefetch: prefetch batches (AUTOTUNE).

        Returns:
            A dataset of ``(x, y)`` (or ``x`` for test pipelines).
        """
        if shuffle is None:
            shuffle = not self.test_mode
        autotune = tf.data.AUTOTUNE
        ds = self.source_records(shuffle=shuffle, seed=seed)
        if shuffle:
            ds = ds.shuffle(
                self.shuffle_buffer_size(),
                seed=seed,
                reshuffle_each_iteration=True,
            )
        if repeat:
            ds = ds.repeat()
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True
        ).batch(2)
        ds = tf.data.Dataset.zip((ds, seeds))
        if deterministic is None:
            deterministic = seed is not None
        ds = ds.map(
            self.process,
            num_parallel_calls=num_parallel_calls or autotune,
            deterministic=deterministic,
        )
        if batch_size:
            ds = ds.batch(batch_size, drop_remainder=drop_remainder)
        if prefetch:
            ds = ds.prefetch(autotune)
        return ds

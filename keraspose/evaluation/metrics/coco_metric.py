"""COCO keypoint AP / AR (OKS), MMPose's ``CocoMetric`` on pycocotools."""

import contextlib
import io
import json
import logging
import math
import os
import tempfile
from collections import OrderedDict

import numpy as np

from keraspose.datasets.metainfo import load_metainfo
from keraspose.evaluation.functional.nms import oks_nms_arrays
from keraspose.evaluation.functional.nms import soft_oks_nms_arrays
from keraspose.evaluation.metrics.base_metric import BaseMetric
from keraspose.registry import register

logger = logging.getLogger("keraspose")

#: Names of the ten COCO keypoint statistics, in ``COCOeval.stats`` order.
STATS_NAMES = (
    "AP",
    "AP .5",
    "AP .75",
    "AP (M)",
    "AP (L)",
    "AR",
    "AR .5",
    "AR .75",
    "AR (M)",
    "AR (L)",
)
#: ``'keypoints_crowd'`` (CrowdPose) statistics, xtcocotools' order.
CROWD_STATS_NAMES = (
    "AP",
    "AP .5",
    "AP .75",
    "AR",
    "AR .5",
    "AR .75",
    "AP(E)",
    "AP(M)",
    "AP(H)",
)
_SCORE_MODES = ("bbox", "bbox_keypoint", "bbox_rle", "keypoint")
_NMS_MODES = ("oks_nms", "soft_oks_nms", "none")
#: xtcocotools-only evaluation types (pycocotools has no equivalent).
_XTCOCO_IOU_TYPES = (
    "keypoints_wholebody",
    "keypoints_foot",
    "keypoints_face",
    "keypoints_lefthand",
    "keypoints_righthand",
)


def _fmt_ids(ids, limit=10):
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:limit])
    more = f", ... ({len(ids) - limit} more)" if len(ids) > limit else ""
    return f"[{shown}{more}]"


def _import_pycocotools():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as e:
        raise ImportError(
            "CocoMetric evaluates with pycocotools, which is not installed: "
            "pip install pycocotools (or 'keraspose[data]')."
        ) from e
    return COCO, COCOeval


def _log_lines(level, text):
    text = text.strip()
    if text:
        logger.log(level, "%s", text)


def _check_converter(name, converter):
    if converter is None:
        return None
    if not hasattr(converter, "keys") or not {"num_keypoints", "mapping"} <= (
        set(converter.keys())
    ):
        raise ValueError(
            f"CocoMetric: `{name}` must be a dict with 'num_keypoints' and "
            "'mapping' (a list of (source_index, target_index) pairs), as "
            f"MMPose's KeypointConverter. Received: {converter!r}"
        )
    num = converter["num_keypoints"]
    pairs = []
    for pair in converter["mapping"]:
        ok = isinstance(pair, list | tuple) and len(pair) == 2
        ok = ok and all(
            isinstance(i, int | np.integer) and not isinstance(i, bool)
            for i in pair
        )
        if not ok or not 0 <= pair[1] < num:
            raise ValueError(
                f"CocoMetric: `{name}['mapping']` entries must be "
                "(source_index, target_index) pairs of ints with "
                f"0 <= target_index < num_keypoints ({num}); averaged "
                f"sources (tuples) are not supported. Received: {pair!r}"
            )
        pairs.append((int(pair[0]), int(pair[1])))
    source = [p[0] for p in pairs]
    target = [p[1] for p in pairs]
    return int(num), source, target


class _GroundTruth:
    """The annotation file as pycocotools' ``COCO``, normalised for parity.

    MMPose evaluates with xtcocotools; pycocotools differs in a few places,
    which are evened out on a private copy of the annotations:

    * xtcocotools gives annotations without ``iscrowd`` ``iscrowd=0``;
    * it ignores a ground truth when none of its keypoints has ``v > 0``
      (pycocotools reads the ``num_keypoints`` field instead): the field is
      recomputed from the keypoints;
    * with ``use_area=False`` it uses ``0.53 * w * h`` of the ground-truth
      box as the area (for the OKS and the area ranges), and so for the
      area ranges of an annotation without ``area``: written into
      ``area``;
    * pycocotools treats a ground truth with id 0 as unmatched: ids are
      renumbered 1..n when one of them is 0.
    """

    def __init__(self, path, metric):
        self.path = path
        meta = metric.dataset_meta
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"CocoMetric: the annotation file {path!r} does not exist."
            ) from None
        except json.JSONDecodeError as e:
            raise ValueError(
                f"CocoMetric: the annotation file {path!r} is not valid "
                f"JSON: {e.msg} at line {e.lineno}, column {e.colno}."
            ) from None
        if not isinstance(data, dict) or not isinstance(
            data.get("images"), list
        ):
            raise ValueError(
                f"CocoMetric: the annotation file {path!r} must be a "
                "COCO-format dict with 'images' (and 'annotations', "
                "'categories')."
            )
        self.img_ids = {img["id"] for img in data["images"]}
        self.has_annotations = "annotations" in data
        anns = data.get("annotations") or []
        data["annotations"] = anns
        data.setdefault("categories", [])
        self.cat_ids = {c["id"] for c in data["categories"]}
        self.ann_img = {}
        self.evaluable_img_ids = set()
        self.evaluable_ann_ids = []
        self.bad_area_ids = []
        k = None if meta is None else int(meta["num_keypoints"])
        conv = metric._gt_conv
        #: annotation id -> image id of annotations without 'area'
        #: (use_area=True); see ``check_missing_area``.
        self.missing_area = {}
        missing_kpts, wrong_len, missing_num = [], [], []
        for ann in anns:
            self.ann_img[ann.get("id")] = ann.get("image_id")
            if "keypoints" not in ann or "bbox" not in ann:
                missing_kpts.append(ann.get("id"))
                continue
            kpts = np.array(ann["keypoints"])
            if conv is not None:
                num, source, target = conv
                kpts = kpts.reshape(-1, 3)
                new = np.zeros((num, 3), dtype=kpts.dtype)
                new[target] = kpts[source]
                kpts = new.reshape(-1)
                ann["keypoints"] = kpts.tolist()
            if k is not None and kpts.size != 3 * k:
                wrong_len.append((ann.get("id"), kpts.size))
                continue
            ann.setdefault("iscrowd", 0)
            if metric.iou_type == "keypoints_crowd":
                # xtcocotools reads CrowdPose's field (visible joints only)
                if "num_keypoints" not in ann:
                    missing_num.append(ann.get("id"))
                    continue
            else:
                ann["num_keypoints"] = int(np.count_nonzero(kpts[2::3] > 0))
            if not metric.use_area or "area" not in ann:
                # xtcocotools' stand-in (also for the area ranges of an
                # annotation without 'area' when use_area=True).
                w, h = ann["bbox"][2], ann["bbox"][3]
                if metric.use_area:
                    self.missing_area[ann["id"]] = ann["image_id"]
                ann["area"] = h * w * 0.53
            if ann["iscrowd"] or ann["num_keypoints"] == 0:
                continue
            self.evaluable_img_ids.add(ann["image_id"])
            self.evaluable_ann_ids.append(ann["id"])
            area = ann["area"]
            if not (isinstance(area, int | float) and area > 0) or (
                isinstance(area, float) and not math.isfinite(area)
            ):
                self.bad_area_ids.append(ann["id"])
        where = f"CocoMetric: annotation file {path!r}"
        if missing_kpts:
            raise ValueError(
                f"{where}: annotations {_fmt_ids(missing_kpts)} have no "
                "'keypoints' or no 'bbox'; COCO keypoint AP needs both on "
                "every annotation (remove the other annotations or "
                "categories)."
            )
        if missing_num:
            raise ValueError(
                f"{where}: iou_type='keypoints_crowd' needs 'num_keypoints' "
                f"on every annotation; annotations {_fmt_ids(missing_num)} "
                "have none."
            )
        if metric.iou_type == "keypoints_crowd":
            no_index = [
                img.get("id")
                for img in data["images"]
                if "crowdIndex" not in img
            ]
            if no_index:
                raise ValueError(
                    f"{where}: iou_type='keypoints_crowd' needs the "
                    "CrowdPose 'crowdIndex' of every image; images "
                    f"{_fmt_ids(no_index)} have none."
                )
        if wrong_len:
            shown = ", ".join(f"id {i}: {n} values" for i, n in wrong_len[:10])
            raise ValueError(
                f"{where}: expected {3 * k} keypoint values ({k} keypoints "
                f"x (x, y, v)) per annotation for dataset "
                f"{meta.get('dataset_name')!r}; received {shown}"
                + (" ..." if len(wrong_len) > 10 else "")
                + ". The annotation file and the metainfo do not match."
            )
        self.ids_renumbered = any(ann.get("id") == 0 for ann in anns)
        if self.ids_renumbered:
            for i, ann in enumerate(anns):
                ann["id"] = i + 1
        COCO, _ = _import_pycocotools()
        self.coco = COCO()
        self.coco.dataset = data
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.coco.createIndex()
        _log_lines(logging.DEBUG, out.getvalue())

    def check_missing_area(self, predicted_img_ids):
        """Errors where xtcocotools would fail on a missing ``area``.

        With ``use_area=True`` the OKS needs the ``area`` of every ground
        truth of an image with predictions (xtcocotools raises a KeyError);
        annotations without it in other images only take part in the area
        ranges, with ``0.53 * w * h``.
        """
        bad = [
            i
            for i, img in self.missing_area.items()
            if img in predicted_img_ids
        ]
        if bad:
            raise ValueError(
                f"CocoMetric: annotations {_fmt_ids(bad)} in {self.path!r} "
                "have no 'area', which use_area=True needs (the OKS scale). "
                "Set CocoMetric(use_area=False) to use 0.53 * w * h of the "
                "ground-truth box instead, as MMPose does for CrowdPose."
            )


@register
class CocoMetric(BaseMetric):
    """COCO keypoint AP and AR (OKS), MMPose's top-down ``CocoMetric``.

    Implements the COCO keypoint evaluation
    (https://cocodataset.org/#keypoints-eval): predictions are matched to
    the ground truth of their image by Object Keypoint Similarity,

        OKS = mean_k exp(-d_k^2 / (2 * area * (2 * sigma_k)^2)),

    over the labelled ground-truth keypoints, and AP / AR are averaged over
    OKS thresholds 0.50:0.05:0.95 (with ``'AP .5'``, ``'AP .75'``, medium
    and large areas, up to 20 detections per image). The matching and the
    statistics are pycocotools' ``COCOeval`` with ``kpt_oks_sigmas`` set to
    the dataset's ``sigmas``, so custom keypoint sets work.

    The steps follow MMPose 1.3.2's ``CocoMetric``:

    1. ``process`` keeps each batch's instances; ``compute_metrics`` groups
       them by image (first-seen order), sorts each image's instances by
       ``id`` and keeps only the first instance of a repeated ``id``.
    2. Each instance gets a score per ``score_mode``. ``'bbox_keypoint'``
       (default): the box score times the mean of the keypoint scores
       above ``keypoint_score_thr`` (0 when none is), computed in float64
       as MMPose does under NumPy 1; ``'bbox'``: the box score;
       ``'keypoint'``: the mean keypoint score; ``'bbox_rle'``: box score
       + mean + max keypoint score.
    3. OKS NMS per image (``nms_mode``, threshold ``nms_thr``, the dataset
       sigmas; an instance's area is ``prod(input_scale)``, MMPose's
       ``prod(bbox_scales)``). ``'soft_oks_nms'`` keeps at most 20
       instances per image and, as in MMPose, writes the undecayed scores
       (below 20 instances it gives the numbers of ``'none'``). Tied
       scores keep NumPy's ``argsort`` order, as in MMPose.
    4. The results are written to ``{outfile_prefix}.keypoints.json`` in
       COCO's result format (``image_id``, ``category_id``, ``keypoints``
       as ``[x, y, score] * K``, ``score``, ``bbox`` as xywh), in a
       temporary directory when ``outfile_prefix`` is None, and evaluated
       against the annotation file.

    MMPose evaluates with xtcocotools; the differences from pycocotools
    (annotations without ``iscrowd``, ``num_keypoints`` recounted from the
    keypoints, ``use_area=False``, annotation id 0, results without any
    positive keypoint score, which xtcocotools skips) are evened out, so
    the numbers equal MMPose's.

    The ground truth comes from ``ann_file`` or, when it is None, from the
    annotation file of the dataset given to :meth:`set_dataset` (MMPose
    converts the data samples' annotations instead; keraspose datasets
    keep the file's path). The metric needs the dataset metainfo (its
    ``sigmas`` and ``num_keypoints``): :meth:`set_dataset` takes it, or
    assign ``metric.dataset_meta`` (a built-in name such as ``"coco"``, a
    metainfo file or dict).

    ``process(predictions, inputs)`` takes, one row per instance,
    ``predictions['keypoints']`` (N, K, 2) in original-image pixels and
    ``predictions['keypoint_scores']`` (N, K), and from ``inputs``: ``id``
    (annotation id, or the detection's running id), ``img_id``,
    ``category_id`` (1 when absent), ``bbox_score`` (ones when absent; a
    ``predictions['bbox_scores']`` takes precedence), ``bbox`` (xyxy;
    written as the result's xywh ``bbox``, whose area pycocotools uses for
    the area ranges of unmatched results) and ``input_scale`` (when absent
    the area is that of the keypoints' bounding box). Absent keys fall back
    as in MMPose; the evaluation loop packs all of them
    (:attr:`required_keys`), as MMPose's top-down pipeline does.

    Bottom-up predictions (``BottomupPoseEstimator.predict``): when
    ``predictions`` has ``instance_mask`` (B, M), ``keypoints`` is
    (B, M, K, 2) and ``keypoint_scores`` (B, M, K), one row per image, and
    only ``inputs['img_id']`` (B,) is needed. As in MMPose's bottom-up
    path the instances are kept as predicted (no sorting or removal by
    ``id``), the box score is ``predictions['bbox_scores']`` (B, M) (ones
    without), the area is that of the keypoints' bounding box, the result's
    ``bbox`` comes from ``predictions['bboxes']`` only and the category is
    1 (MMPose's bottom-up configs do not pack ``category_id``; a (B,)
    ``inputs['category_id']`` is used). An annotated image of the evaluated
    dataset that was never processed raises a ``ValueError``; with a
    bottom-up dataset (``data_mode='bottomup'``) :meth:`set_dataset` sets
    :attr:`required_keys` to ``('img_id',)``.

    Checks (MMPose has none of them):

    * ground-truth annotations whose area is 0 (or negative) get an OKS of
      about 0 with any prediction, a common cause of AP 0: their ids are
      logged as a warning, and a ``ValueError`` is raised when every
      evaluated annotation has such an area (the result would be
      meaningless); ``use_area=False`` avoids the area field;
    * with ``use_area=True``, annotations without ``area`` in images with
      predictions raise a ``ValueError`` (xtcocotools fails with a
      ``KeyError``) that suggests ``use_area=False``;
    * a metainfo without ``sigmas`` raises a ``ValueError`` that suggests
      ``PCKAccuracy``, ``AUC`` or ``EPE``;
    * predictions of images that are not in the annotation file, or of
      categories it does not have, raise a ``ValueError``. With ground-truth
      boxes (no ``bbox_file`` in the dataset, or, without a dataset, every
      ``id`` an annotation id), an ``id`` that is not an annotation of its
      ``img_id``, or an annotated image of the evaluated dataset without
      any prediction (an incomplete run) raise a ``ValueError``; annotated
      images outside the dataset (e.g. ``indices``) or without a detection
      are logged as a warning, as they count as missed people.

    Args:
        ann_file: COCO-format keypoint annotation file. When None, the
            dataset's annotation file (see :meth:`set_dataset`).
        use_area: use the annotations' ``area`` as the OKS scale; when
            False, ``0.53 * w * h`` of the ground-truth box (for files
            without ``area``, e.g. CrowdPose, AIC).
        iou_type: ``'keypoints'``, or ``'keypoints_crowd'`` for CrowdPose
            (xtcocotools' variant, reproduced on pycocotools: ground truths
            without visible joints by the file's ``num_keypoints`` are
            ignored, and the results are ``AP``, ``AP .5``, ``AP .75``,
            ``AR``, ``AR .5``, ``AR .75`` and ``AP(E)`` / ``AP(M)`` /
            ``AP(H)`` over the images with ``crowdIndex`` < 0.2, < 0.8 and
            the rest; as in xtcocotools the last three average the whole
            precision array, its -1 entries included, rounded to 4
            decimals, and an empty subset gives -1). The other
            xtcocotools types (whole-body parts) are not available.
        score_mode: ``'bbox_keypoint'``, ``'bbox'``, ``'keypoint'`` or
            ``'bbox_rle'`` (see above).
        keypoint_score_thr: keypoint scores above it count in
            ``'bbox_keypoint'`` rescoring.
        nms_mode: ``'oks_nms'``, ``'soft_oks_nms'`` or ``'none'``.
        nms_thr: OKS threshold of the NMS.
        format_only: only write the results json (e.g. for a test-dev
            submission) and return ``{}``; needs ``outfile_prefix``.
        pred_converter: ``dict(num_keypoints=..., mapping=[(src, dst),
            ...])`` that maps the predicted keypoints to the evaluated set
            (MMPose's ``KeypointConverter`` arguments; unmapped keypoints
            become 0).
        gt_converter: the same for the ground truth; it also maps the
            sigmas (unmapped keypoints get sigma 1.0, as in MMPose).
        outfile_prefix: prefix of the results json path, e.g.
            ``"work_dirs/results"`` writes
            ``work_dirs/results.keypoints.json``. A temporary directory
            when None.
        collect_device: accepted for MMPose configs (no effect).
        prefix: prefix of the result keys; ``'coco'`` by default.

    Example:

    >>> import json, os, tempfile
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> kpts = rng.uniform(20.0, 80.0, (17, 2))
    >>> ann = dict(id=1, image_id=7, category_id=1, iscrowd=0, area=3600.0,
    ...            bbox=[10.0, 10.0, 80.0, 80.0], num_keypoints=17,
    ...            keypoints=np.insert(kpts, 2, 2.0, axis=1).ravel().tolist())
    >>> coco = dict(images=[dict(id=7, width=100, height=100)],
    ...             annotations=[ann],
    ...             categories=[dict(id=1, name="person")])
    >>> path = os.path.join(tempfile.mkdtemp(), "val.json")
    >>> with open(path, "w") as f:
    ...     json.dump(coco, f)
    >>> metric = CocoMetric(ann_file=path)
    >>> metric.dataset_meta = "coco"
    >>> predictions = {"keypoints": kpts[None] + 1.0,
    ...                "keypoint_scores": np.ones((1, 17), np.float32)}
    >>> inputs = {"id": np.array([1]), "img_id": np.array([7]),
    ...           "category_id": np.array([1]),
    ...           "bbox": np.array([[10.0, 10.0, 90.0, 90.0]], np.float32),
    ...           "bbox_score": np.ones(1, np.float32),
    ...           "input_scale": np.array([[100.0, 100.0]], np.float32)}
    >>> metric.process(predictions, inputs)
    >>> round(metric.evaluate()["coco/AP"], 3)
    1.0
    """

    default_prefix = "coco"
    #: Meta keys of the packed validation inputs: all are in the default
    #: ``PackPoseInputs`` meta keys; listed so that the evaluation loop
    #: packs them even with custom ``meta_keys`` (MMPose's top-down
    #: samples always carry them).
    required_keys = (
        "id",
        "img_id",
        "category_id",
        "bbox",
        "bbox_score",
        "input_scale",
    )

    def __init__(
        self,
        ann_file=None,
        use_area=True,
        iou_type="keypoints",
        score_mode="bbox_keypoint",
        keypoint_score_thr=0.2,
        nms_mode="oks_nms",
        nms_thr=0.9,
        format_only=False,
        pred_converter=None,
        gt_converter=None,
        outfile_prefix=None,
        collect_device="cpu",
        prefix=None,
    ):
        if iou_type in _XTCOCO_IOU_TYPES:
            raise NotImplementedError(
                f"CocoMetric: iou_type={iou_type!r} is an xtcocotools "
                "extension that pycocotools does not have; keraspose's "
                "CocoMetric evaluates iou_type='keypoints'."
            )
        if iou_type not in ("keypoints", "keypoints_crowd"):
            raise ValueError(
                "CocoMetric: `iou_type` must be 'keypoints' or "
                "'keypoints_crowd'. Received: "
                f"iou_type={iou_type!r}"
            )
        if score_mode not in _SCORE_MODES:
            raise ValueError(
                f"CocoMetric: `score_mode` must be one of {_SCORE_MODES}. "
                f"Received: score_mode={score_mode!r}"
            )
        if nms_mode not in _NMS_MODES:
            raise ValueError(
                f"CocoMetric: `nms_mode` must be one of {_NMS_MODES}. "
                f"Received: nms_mode={nms_mode!r}"
            )
        if format_only and outfile_prefix is None:
            raise ValueError(
                "CocoMetric: format_only=True needs `outfile_prefix` (the "
                "results json would otherwise be written to a temporary "
                "directory and deleted)."
            )
        if ann_file is not None:
            ann_file = os.fspath(ann_file)
            if not os.path.isfile(ann_file):
                raise FileNotFoundError(
                    f"CocoMetric: the annotation file {ann_file!r} does not "
                    "exist."
                )
        self._pred_conv = _check_converter("pred_converter", pred_converter)
        self._gt_conv = _check_converter("gt_converter", gt_converter)
        super().__init__(prefix=prefix)
        self.ann_file = ann_file
        self.use_area = bool(use_area)
        self.iou_type = iou_type
        self.score_mode = score_mode
        self.keypoint_score_thr = float(keypoint_score_thr)
        self.nms_mode = nms_mode
        self.nms_thr = float(nms_thr)
        self.format_only = bool(format_only)
        self.pred_converter = pred_converter
        self.gt_converter = gt_converter
        self.outfile_prefix = (
            None if outfile_prefix is None else os.fspath(outfile_prefix)
        )
        self._dataset_ann_file = None
        self._uses_detections = None
        self._dataset_img_ids = None
        self._gt = None

    # ------------------------------------------------------------------
    # Dataset
    # ------------------------------------------------------------------
    @property
    def dataset_meta(self):
        """The parsed dataset metainfo (sigmas mapped by ``gt_converter``).

        Assign a built-in name (``"coco"``), a metainfo file or an
        MMPose-schema dict; it is parsed with ``load_metainfo``.
        """
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, meta):
        if meta is None:
            self._dataset_meta = None
            return
        meta = dict(load_metainfo(meta))
        if self._gt_conv is not None:
            num, source, target = self._gt_conv
            sigmas = np.asarray(meta.get("sigmas", ()))
            if sigmas.size:
                new = np.ones(num, dtype=sigmas.dtype)
                new[target] = sigmas[source]
                meta["sigmas"] = new
            meta["num_keypoints"] = num
        self._dataset_meta = meta
        self._gt = None

    def set_dataset(self, dataset):
        """Takes the metainfo and, without ``ann_file``, the annotation file.

        Args:
            dataset: the evaluated dataset; its ``metainfo`` (with
                ``sigmas``) and, when the metric has no ``ann_file``, its
                ``ann_file`` are used. Its ``bbox_file`` and instances tell
                ground-truth-box runs (checked strictly) from detection
                runs.
        """
        meta = getattr(dataset, "metainfo", None)
        if meta is None:
            raise ValueError(
                "CocoMetric.set_dataset expects a dataset with `metainfo` "
                f"(and `ann_file`). Received: {type(dataset).__name__}."
            )
        self.dataset_meta = meta
        if not (self.format_only and self.nms_mode == "none"):
            self._sigmas()
        ann_file = getattr(dataset, "ann_file", None)
        self._dataset_ann_file = os.fspath(ann_file) if ann_file else None
        self._uses_detections = bool(getattr(dataset, "bbox_file", None))
        if getattr(dataset, "data_mode", "topdown") == "bottomup":
            # bottom-up samples: one per image, no boxes or instance ids
            self.required_keys = ("img_id",)
        else:
            self.__dict__.pop("required_keys", None)
        records = getattr(dataset, "data_list", None)
        self._dataset_img_ids = None
        if records and all("img_id" in r for r in records):
            self._dataset_img_ids = {int(r["img_id"]) for r in records}
        self._gt = None
        if self._ann_path() is None and not self.format_only:
            raise ValueError(
                "CocoMetric needs a COCO-format annotation file: pass "
                "CocoMetric(ann_file=...); the dataset "
                f"{type(dataset).__name__} has no `ann_file`."
            )

    def _ann_path(self):
        return self.ann_file or self._dataset_ann_file

    def _meta(self):
        if self.dataset_meta is None:
            raise ValueError(
                "CocoMetric has no dataset metainfo: call "
                "metric.set_dataset(dataset) (the evaluation loop does) or "
                "set metric.dataset_meta = 'coco' (or a metainfo dict/file)."
            )
        return self.dataset_meta

    def _sigmas(self):
        meta = self._meta()
        sigmas = np.asarray(meta.get("sigmas", ()))
        name = meta.get("dataset_name", "unknown")
        if sigmas.size == 0:
            raise ValueError(
                f"CocoMetric: the metainfo of dataset {name!r} has no "
                "`sigmas` (the per-keypoint OKS falloffs), so COCO AP "
                "cannot be computed. Use PCKAccuracy, AUC or EPE for this "
                "dataset, or add `sigmas` (one per keypoint) to its "
                "metainfo."
            )
        k = int(meta["num_keypoints"])
        if sigmas.shape != (k,):
            raise ValueError(
                f"CocoMetric: dataset {name!r} has {k} keypoints but "
                f"{sigmas.size} sigmas; expected one sigma per keypoint."
            )
        return sigmas

    def _ground_truth(self):
        path = self._ann_path()
        if path is None:
            return None
        if self._gt is None or self._gt.path != path:
            self._gt = _GroundTruth(path, self)
        return self._gt

    # ------------------------------------------------------------------
    # Per batch
    # ------------------------------------------------------------------
    def process(self, predictions, inputs):
        """Keeps one batch of predictions and their meta.

        Args:
            predictions: dict with ``keypoints`` (N, K, 2) in original-image
                pixels and ``keypoint_scores`` (N, K) (optionally
                ``bbox_scores`` (N,) and ``bboxes`` (N, 4) xyxy).
            inputs: dict with ``id`` (N,) and ``img_id`` (N,), and
                optionally ``category_id``, ``bbox_score``, ``bbox``,
                ``input_scale`` (N, 2) (see the class docstring).
        """
        name = type(self).__name__
        for what, d in (("predictions", predictions), ("inputs", inputs)):
            if not hasattr(d, "keys"):
                raise TypeError(
                    f"{name}.process() expects `{what}` as a dict of "
                    f"arrays. Received: {type(d).__name__}."
                )
        for key in ("keypoints", "keypoint_scores"):
            if key not in predictions:
                raise ValueError(
                    f"{name}.process() expects predictions[{key!r}] (the "
                    "output of model.predict). Received predictions keys: "
                    f"{sorted(predictions)}."
                )
        if "instance_mask" in predictions:
            self.results.append(self._bottomup_batch(predictions, inputs))
            return
        keypoints = np.asarray(predictions["keypoints"])
        scores = np.asarray(predictions["keypoint_scores"])
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(
                f"{name}: expected predictions['keypoints'] of shape "
                f"(N, K, 2), one instance per row. Received: "
                f"{keypoints.shape}."
            )
        n = keypoints.shape[0]
        if scores.shape != keypoints.shape[:2]:
            raise ValueError(
                f"{name}: expected predictions['keypoint_scores'] of shape "
                f"(N, K) = {keypoints.shape[:2]}. Received: {scores.shape}."
            )
        batch = {
            "keypoints": keypoints.copy(),
            "keypoint_scores": scores.copy(),
            "id": self._ids(inputs, "id", n),
            "img_id": self._ids(inputs, "img_id", n),
        }
        if "category_id" in inputs:
            batch["category_id"] = self._ids(inputs, "category_id", n)
        else:
            batch["category_id"] = np.ones(n, np.int64)
        if "bbox_scores" in predictions:
            bbox_scores = self._vector(predictions, "bbox_scores", n, "pred")
        else:
            bbox_scores = None
            if "bbox_score" in inputs:
                value = np.asarray(inputs["bbox_score"])
                if value.size == n:
                    bbox_scores = value.reshape(n)
            if bbox_scores is None:
                # MMPose: ones when the boxes' scores are absent or do not
                # match the instances.
                bbox_scores = np.ones(n)
        batch["bbox_score"] = bbox_scores
        bboxes = predictions.get("bboxes", inputs.get("bbox"))
        if bboxes is not None:
            bboxes = np.asarray(bboxes)
            if bboxes.shape != (n, 4):
                raise ValueError(
                    f"{name}: expected inputs['bbox'] of shape (N, 4) = "
                    f"({n}, 4), xyxy. Received: {bboxes.shape}."
                )
            xywh = bboxes.copy()
            xywh[:, 2] = xywh[:, 2] - xywh[:, 0]
            xywh[:, 3] = xywh[:, 3] - xywh[:, 1]
            batch["bbox"] = xywh
        if "input_scale" in inputs:
            scale = np.asarray(inputs["input_scale"])
            if scale.shape != (n, 2):
                raise ValueError(
                    f"{name}: expected inputs['input_scale'] of shape "
                    f"(N, 2) = ({n}, 2). Received: {scale.shape}."
                )
            batch["area"] = np.prod(scale, axis=1)
        bad = ~np.isfinite(keypoints).all(axis=(1, 2))
        if bad.any():
            logger.warning(
                "%s: predictions with non-finite (NaN/inf) keypoints for "
                "ids %s; they will not match any ground truth.",
                name,
                _fmt_ids(batch["id"][bad].tolist()),
            )
        self.results.append(batch)

    def _bottomup_batch(self, predictions, inputs):
        """The valid instances of a batch of bottom-up predictions.

        MMPose's bottom-up samples carry every instance of one image: their
        ``id`` is the list of the image's annotation ids, so the sorting and
        de-duplication by ``id`` are skipped, the box score is the
        prediction's ``bbox_scores`` (ones without), the area is that of
        the keypoints' bounding box (the samples have no ``bbox_scales``),
        and the result's ``bbox`` comes from the predicted ``bboxes`` only.
        """
        name = type(self).__name__
        mask = np.asarray(predictions["instance_mask"]).astype(bool)
        keypoints = np.asarray(predictions["keypoints"])
        scores = np.asarray(predictions["keypoint_scores"])
        if mask.ndim != 2:
            raise ValueError(
                f"{name}: expected predictions['instance_mask'] of shape "
                f"(B, M) (bottom-up predictions). Received: {mask.shape}."
            )
        b, m = mask.shape
        if keypoints.ndim != 4 or keypoints.shape[:2] != (b, m):
            raise ValueError(
                f"{name}: expected bottom-up predictions['keypoints'] of "
                f"shape (B, M, K, 2) = ({b}, {m}, K, 2). Received: "
                f"{keypoints.shape}."
            )
        if keypoints.shape[-1] != 2 or scores.shape != keypoints.shape[:3]:
            raise ValueError(
                f"{name}: expected bottom-up predictions['keypoints'] "
                f"(B, M, K, 2) and ['keypoint_scores'] (B, M, K). "
                f"Received: {keypoints.shape} and {scores.shape}."
            )
        img_ids = self._ids(inputs, "img_id", b)
        rows = np.nonzero(mask.reshape(-1))[0]
        n = len(rows)
        per_image = np.repeat(np.arange(b), m)[rows]
        batch = {
            "keypoints": keypoints.reshape(b * m, *keypoints.shape[2:])[rows],
            "keypoint_scores": scores.reshape(b * m, -1)[rows],
            "id": np.full(n, -1, np.int64),
            "img_id": img_ids[per_image],
            "bottomup_img_ids": img_ids,
        }
        category = inputs.get("category_id")
        if category is not None and np.asarray(category).shape == (b,):
            batch["category_id"] = self._ids(inputs, "category_id", b)[
                per_image
            ]
        else:
            # MMPose's bottom-up configs do not pack category_id: 1.
            batch["category_id"] = np.ones(n, np.int64)
        if "bbox_scores" in predictions:
            value = np.asarray(predictions["bbox_scores"])
            if value.shape != (b, m):
                raise ValueError(
                    f"{name}: expected predictions['bbox_scores'] of shape "
                    f"(B, M) = ({b}, {m}). Received: {value.shape}."
                )
            batch["bbox_score"] = value.reshape(-1)[rows]
        else:
            batch["bbox_score"] = np.ones(n)
        if "bboxes" in predictions:
            boxes = np.asarray(predictions["bboxes"])
            if boxes.shape != (b, m, 4):
                raise ValueError(
                    f"{name}: expected predictions['bboxes'] of shape "
                    f"(B, M, 4) = ({b}, {m}, 4), xyxy. Received: "
                    f"{boxes.shape}."
                )
            xywh = boxes.reshape(-1, 4)[rows].copy()
            xywh[:, 2:] -= xywh[:, :2]
            batch["bbox"] = xywh
        bad = ~np.isfinite(batch["keypoints"]).all(axis=(1, 2))
        if bad.any():
            logger.warning(
                "%s: bottom-up predictions with non-finite (NaN/inf) "
                "keypoints in images %s; they will not match any ground "
                "truth.",
                name,
                _fmt_ids(sorted(set(batch["img_id"][bad].tolist()))),
            )
        return batch

    def _ids(self, inputs, key, n):
        name = type(self).__name__
        if key not in inputs:
            raise ValueError(
                f"{name} needs inputs[{key!r}] from the validation batches. "
                f"Received inputs keys: {sorted(inputs)}. Add {key!r} to "
                "the validation pipeline's PackPoseInputs(meta_keys=...) "
                f"(metric.required_keys lists them: {self.required_keys})."
            )
        value = np.asarray(inputs[key])
        if value.size != n or (value.ndim > 1 and value.shape[0] != n):
            raise ValueError(
                f"{name}: expected inputs[{key!r}] with one value per "
                f"instance, shape ({n},). Received: {value.shape}."
            )
        value = value.reshape(n)
        if np.issubdtype(value.dtype, np.integer):
            return value.astype(np.int64)
        if np.issubdtype(value.dtype, np.floating) and np.all(
            np.isfinite(value) & (value == np.round(value))
        ):
            return value.astype(np.int64)
        raise TypeError(
            f"{name}: expected integer ids in inputs[{key!r}]. Received "
            f"dtype {value.dtype}: {value[:5].tolist()}."
        )

    def _vector(self, source, key, n, what):
        value = np.asarray(source[key])
        if value.size != n:
            raise ValueError(
                f"{type(self).__name__}: expected {what}[{key!r}] of shape "
                f"({n},). Received: {value.shape}."
            )
        return value.reshape(n)

    # ------------------------------------------------------------------
    # Reduction
    # ------------------------------------------------------------------
    def _concat(self, results):
        keys = set(results[0])
        for r in results[1:]:
            if set(r) != keys:
                raise ValueError(
                    f"{type(self).__name__}: the processed batches carry "
                    f"different fields ({sorted(keys)} vs {sorted(r)}); "
                    "pack the same inputs for every batch."
                )
        return {k: np.concatenate([r[k] for r in results]) for k in keys}

    def _convert_predictions(self, preds):
        if self._pred_conv is None:
            return preds
        num, source, target = self._pred_conv
        kpts, scores = preds["keypoints"], preds["keypoint_scores"]
        n = len(kpts)
        new_kpts = np.zeros((n, num, kpts.shape[2]), dtype=kpts.dtype)
        new_kpts[:, target] = kpts[:, source]
        new_scores = np.zeros((n, num), dtype=scores.dtype)
        new_scores[:, target] = scores[:, source]
        return dict(preds, keypoints=new_kpts, keypoint_scores=new_scores)

    def _instance_scores(self, kscores, bbox_scores, num_keypoints):
        mode = self.score_mode
        if mode == "bbox":
            return np.asarray(bbox_scores)
        if mode == "keypoint":
            return np.array([np.mean(s) for s in kscores])
        if mode == "bbox_rle":
            return np.array(
                [
                    float(b + np.mean(s) + np.max(s))
                    for b, s in zip(bbox_scores, kscores)
                ]
            )
        # 'bbox_keypoint': MMPose sums from a Python 0, which NumPy 1 makes
        # a float64 sum; the comparison with the threshold is in float64.
        s = kscores[:, :num_keypoints].astype(np.float64)
        valid = s > np.float64(self.keypoint_score_thr)
        total = np.zeros(len(s), np.float64)
        for k in range(s.shape[1]):
            total = total + np.where(valid[:, k], s[:, k], 0.0)
        count = valid.sum(axis=1)
        mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        return np.asarray(bbox_scores).astype(np.float64) * mean

    def _check_known_ids(self, gt, img_ids, preds):
        """Raises on predicted images (``img_ids``, a set) or categories
        that the annotation file does not have; False when the file has no
        annotations (nothing more to check)."""
        name = type(self).__name__
        unknown = sorted(img_ids - gt.img_ids)
        if unknown:
            raise ValueError(
                f"{name}: {len(unknown)} predicted img_id(s) are not images "
                f"of the annotation file {gt.path!r}: {_fmt_ids(unknown)} "
                f"(the file has {len(gt.img_ids)} images). The predictions "
                "and the annotation file must come from the same split."
            )
        if not gt.has_annotations:
            return False
        cats = sorted(set(preds["category_id"].tolist()) - gt.cat_ids)
        if cats:
            raise ValueError(
                f"{name}: predicted category_id(s) {_fmt_ids(cats)} are not "
                f"categories of {gt.path!r} (it has "
                f"{_fmt_ids(sorted(gt.cat_ids))}); COCOeval would ignore "
                "those predictions."
            )
        return True

    def _check_predictions(self, gt, preds, bottomup=False):
        name = type(self).__name__
        img_ids = preds["img_id"]
        if bottomup:
            self._check_bottomup(gt, preds)
            return
        if not self._check_known_ids(gt, set(img_ids.tolist()), preds):
            return
        ids = preds["id"].tolist()
        if self._uses_detections is not None:
            gt_boxes = not self._uses_detections
        else:
            gt_boxes = all(i in gt.ann_img for i in ids)
        if gt_boxes:
            bad = {}
            for i, img in zip(ids, img_ids.tolist()):
                if gt.ann_img.get(i, None) != img and i not in bad:
                    bad[i] = img
            if bad:
                lines = [
                    f"id {i} (img_id {img}): "
                    + (
                        f"an annotation of image {gt.ann_img[i]}"
                        if i in gt.ann_img
                        else "not an annotation id"
                    )
                    for i, img in list(bad.items())[:10]
                ]
                more = len(bad) - len(lines)
                raise ValueError(
                    f"{name}: {len(bad)} prediction ids do not match the "
                    f"annotations of {gt.path!r} (ground-truth boxes: each "
                    "`id` is the annotation id of its `img_id`): "
                    + "; ".join(lines)
                    + (f"; ... ({more} more)" if more > 0 else "")
                    + ". The predictions and the annotation file do not "
                    "belong together."
                )
        missing = sorted(gt.evaluable_img_ids - set(img_ids.tolist()))
        if not missing:
            return
        hard = []
        if gt_boxes:
            expected = self._dataset_img_ids
            hard = (
                missing if expected is None else sorted(set(missing) & expected)
            )
        if hard:
            raise ValueError(
                f"{name}: {len(hard)} annotated image(s) of {gt.path!r} "
                f"have no prediction: img_ids {_fmt_ids(hard)} (predictions "
                f"cover {len(set(img_ids.tolist()))} of "
                f"{len(gt.evaluable_img_ids)} annotated images). With "
                "ground-truth boxes every annotated image gets predictions, "
                "so the run is incomplete or the annotation file is not the "
                "evaluated one; COCO AP would count those people as missed."
            )
        logger.warning(
            "%s: %d annotated image(s) of %s have no prediction (img_ids "
            "%s); their people count as missed.",
            name,
            len(missing),
            gt.path,
            _fmt_ids(missing),
        )

    def _check_bottomup(self, gt, preds):
        """Bottom-up checks: images and categories of the annotation file,
        every annotated image of the evaluated dataset predicted."""
        name = type(self).__name__
        seen = set(preds["bottomup_img_ids"].tolist())
        if not self._check_known_ids(gt, seen, preds):
            return
        missing = sorted(gt.evaluable_img_ids - seen)
        if not missing:
            return
        expected = self._dataset_img_ids
        hard = sorted(set(missing) & expected) if expected else []
        if hard:
            raise ValueError(
                f"{name}: {len(hard)} annotated image(s) of the evaluated "
                f"dataset were not predicted: img_ids {_fmt_ids(hard)}. A "
                "bottom-up run predicts every image, so the run is "
                "incomplete; COCO AP would count those people as missed."
            )
        logger.warning(
            "%s: %d annotated image(s) of %s were not predicted (img_ids "
            "%s); their people count as missed.",
            name,
            len(missing),
            gt.path,
            _fmt_ids(missing),
        )

    def _check_areas(self, gt):
        if not gt.bad_area_ids:
            return
        bad = gt.bad_area_ids
        total = len(gt.evaluable_ann_ids)
        field = "'area'" if self.use_area else "0.53 * bbox w * h"
        message = (
            f"{type(self).__name__}: {len(bad)} of {total} evaluated "
            f"ground-truth annotations in {gt.path!r} have area ({field}) "
            f"<= 0: ids {_fmt_ids(bad)}. The OKS divides by the area, so "
            "these people are (almost) never matched and AP drops"
        )
        if len(bad) == total:
            raise ValueError(
                message + " to 0. Fix 'area' in the annotation file or use "
                "CocoMetric(use_area=False) (0.53 * w * h of the box)."
            )
        logger.warning(
            "%s. Fix 'area' or use CocoMetric(use_area=False).", message
        )

    def compute_metrics(self, results):
        """Scores, NMS, results json and COCO evaluation (see the class)."""
        name = type(self).__name__
        meta = self._meta()
        sigmas = None
        if not (self.format_only and self.nms_mode == "none"):
            sigmas = self._sigmas()
        num_keypoints = int(meta["num_keypoints"])
        preds = self._convert_predictions(self._concat(results))
        bottomup = "bottomup_img_ids" in preds
        k = preds["keypoints"].shape[1]
        if k != num_keypoints:
            raise ValueError(
                f"{name}: the predictions have {k} keypoints but dataset "
                f"{meta.get('dataset_name')!r} has {num_keypoints}"
                + (" (after gt_converter)" if self._gt_conv else "")
                + "; set pred_converter to map them."
            )
        gt = self._ground_truth()
        if gt is None and not self.format_only:
            raise ValueError(
                f"{name} has no ground truth: pass "
                "CocoMetric(ann_file=...) or call set_dataset(dataset) with "
                "a dataset that has an `ann_file`."
            )
        if gt is not None:
            if not gt.has_annotations and not self.format_only:
                raise ValueError(
                    f"{name}: the annotation file {gt.path!r} has no "
                    "'annotations'; evaluation needs them (use "
                    "format_only=True to only write the results)."
                )
            self._check_predictions(gt, preds, bottomup)
            if not self.format_only:
                gt.check_missing_area(set(preds["img_id"].tolist()))
                self._check_areas(gt)

        kpts = preds["keypoints"]
        if "area" not in preds:
            # MMPose: the area of the keypoints' bounding box.
            span = kpts.max(axis=1) - kpts.min(axis=1)
            preds["area"] = span[:, 0] * span[:, 1]
        score_kpts = self._pred_conv[0] if self._pred_conv else num_keypoints
        scores = self._instance_scores(
            preds["keypoint_scores"], preds["bbox_score"], score_kpts
        )
        triplets = np.concatenate(
            [kpts, preds["keypoint_scores"][..., None]], axis=-1
        )

        groups = {}
        for row, img_id in enumerate(preds["img_id"].tolist()):
            groups.setdefault(img_id, []).append(row)
        kept_rows = []
        duplicates = 0
        for rows in groups.values():
            rows = np.asarray(rows)
            if not bottomup:
                # (bottom-up samples' ids are lists: MMPose keeps them all)
                rows = rows[np.argsort(preds["id"][rows], kind="stable")]
                ids = preds["id"][rows]
                first = np.ones(len(rows), bool)
                first[1:] = ids[1:] != ids[:-1]
                duplicates += int((~first).sum())
                rows = rows[first]
            if self.nms_mode != "none":
                flat = triplets[rows].reshape(len(rows), -1)
                args = (flat, scores[rows], preds["area"][rows], self.nms_thr)
                if self.nms_mode == "oks_nms":
                    keep = oks_nms_arrays(*args, sigmas=sigmas)
                else:
                    keep = soft_oks_nms_arrays(*args, sigmas=sigmas)
                rows = rows[keep]
            kept_rows.append(rows)
        if duplicates:
            logger.info(
                "%s: %d predictions repeat the id of an earlier prediction "
                "of their image and were dropped (MMPose keeps the first).",
                name,
                duplicates,
            )
        kept = np.concatenate(kept_rows) if kept_rows else np.zeros(0, int)

        coco_results = []
        for row in kept.tolist():
            res = {
                "image_id": int(preds["img_id"][row]),
                "category_id": int(preds["category_id"][row]),
                "keypoints": triplets[row].reshape(-1).tolist(),
                "score": float(scores[row]),
            }
            if "bbox" in preds:
                res["bbox"] = preds["bbox"][row].tolist()
            coco_results.append(res)

        with contextlib.ExitStack() as stack:
            if self.outfile_prefix is None:
                tmp = stack.enter_context(tempfile.TemporaryDirectory())
                outfile_prefix = os.path.join(tmp, "results")
            else:
                outfile_prefix = self.outfile_prefix
            res_file = f"{outfile_prefix}.keypoints.json"
            folder = os.path.dirname(res_file)
            if folder:
                os.makedirs(folder, exist_ok=True)
            with open(res_file, "w") as f:
                json.dump(coco_results, f, sort_keys=True, indent=4)
            if self.format_only:
                logger.info(
                    "%s: results are saved in %s",
                    name,
                    os.path.abspath(res_file),
                )
                return {}
            logger.info("Evaluating %s...", name)
            stats = self._coco_eval(gt, res_file, sigmas)
        names = (
            CROWD_STATS_NAMES
            if self.iou_type == "keypoints_crowd"
            else STATS_NAMES
        )
        return OrderedDict(zip(names, stats))

    def _coco_eval(self, gt, res_file, sigmas):
        _, COCOeval = _import_pycocotools()
        with open(res_file) as f:
            if not json.load(f):
                # No predicted instance at all (e.g. an early evaluation of
                # a bottom-up model): pycocotools' loadRes fails on an empty
                # list; every AP / AR is 0.
                logger.warning("No predictions to evaluate: AP/AR are 0.")
                names = (
                    CROWD_STATS_NAMES
                    if self.iou_type == "keypoints_crowd"
                    else STATS_NAMES
                )
                return [0.0] * len(names)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            coco_det = gt.coco.loadRes(res_file)
            # xtcocotools skips results without any positive keypoint score.
            anns = coco_det.dataset["annotations"]
            kept = [
                a
                for a in anns
                if np.count_nonzero(np.asarray(a["keypoints"])[2::3] > 0)
            ]
            if len(kept) != len(anns):
                coco_det.dataset["annotations"] = kept
                coco_det.createIndex()
            coco_eval = COCOeval(gt.coco, coco_det, "keypoints")
            coco_eval.params.kpt_oks_sigmas = np.asarray(sigmas)
            coco_eval.params.useSegm = None
            coco_eval.evaluate()
            coco_eval.accumulate()
        _log_lines(logging.DEBUG, out.getvalue())
        if self.iou_type == "keypoints_crowd":
            return self._crowd_stats(gt, coco_eval)
        summary = io.StringIO()
        with contextlib.redirect_stdout(summary):
            coco_eval.summarize()
        _log_lines(logging.INFO, summary.getvalue())
        return [float(v) for v in coco_eval.stats]

    @staticmethod
    def _crowd_stats(gt, coco_eval):
        """xtcocotools' ``'keypoints_crowd'`` summary (CrowdPose, Li et
        al., CVPR 2019): AP / AR over all images (up to 20 detections),
        then AP of the easy / medium / hard images (``crowdIndex`` below
        0.2, below 0.8, the rest), re-evaluated per subset and, as in
        xtcocotools, averaged over the whole precision array (its -1
        entries included) and rounded to 4 decimals."""
        p = coco_eval.params
        all_area = p.areaRngLbl.index("all")
        det = p.maxDets.index(20)

        def summarize(ap, iou=None):
            key = "precision" if ap else "recall"
            s = coco_eval.eval[key]
            if iou is not None:
                s = s[np.where(np.isclose(p.iouThrs, iou))[0]]
            s = s[..., all_area, det]
            valid = s[s > -1]
            return -1.0 if valid.size == 0 else float(np.mean(valid))

        stats = [
            summarize(1),
            summarize(1, 0.5),
            summarize(1, 0.75),
            summarize(0),
            summarize(0, 0.5),
            summarize(0, 0.75),
        ]
        lines = [f"{n}: {v:.3f}" for n, v in zip(CROWD_STATS_NAMES, stats)]
        images = gt.coco.dataset["images"]
        easy = [i["id"] for i in images if i["crowdIndex"] < 0.2]
        medium = [i["id"] for i in images if 0.2 <= i["crowdIndex"] < 0.8]
        hard = [i["id"] for i in images if i["crowdIndex"] >= 0.8]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for subset in (easy, medium, hard):
                p.imgIds = subset
                coco_eval.evaluate()
                coco_eval.accumulate()
                score = coco_eval.eval["precision"][:, :, :, 0, :]
                stats.append(float(round(np.mean(score), 4)))
        _log_lines(logging.DEBUG, out.getvalue())
        lines += [
            f"{n}: {v:.3f}" for n, v in zip(CROWD_STATS_NAMES[6:], stats[6:])
        ]
        _log_lines(logging.INFO, "\n".join(lines))
        return stats

    def get_config(self):
        return {
            "ann_file": self.ann_file,
            "use_area": self.use_area,
            "iou_type": self.iou_type,
            "score_mode": self.score_mode,
            "keypoint_score_thr": self.keypoint_score_thr,
            "nms_mode": self.nms_mode,
            "nms_thr": self.nms_thr,
            "format_only": self.format_only,
            "pred_converter": self.pred_converter,
            "gt_converter": self.gt_converter,
            "outfile_prefix": self.outfile_prefix,
            "prefix": self.prefix,
        }

"""Generates tests/fixtures/mmpose_coco_metric.npz with the real MMPose 1.3.2.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_coco_metric_fixtures.py \\
        ../shared/reference ../shared/data

MMPose's ``CocoMetric`` (xtcocotools) evaluates predictions made from the
real COCO annotations ``coco/test_coco.json`` (4 images, 14 annotations)
and the person detections ``coco/test_coco_det_AP_H_56.json``. Everything
is seeded; the script is deterministic.

Keys
----

Ground truth (``<g>`` in ``coco``, ``edge``, ``noarea``, ``custom``):

- ``gt_<g>``: () unicode, the annotation json (``test_coco.json`` without
  the ``segmentation`` polygons and image URLs), written to a file for the
  metric. ``edge``: annotation 442619 renumbered to id 0 (pycocotools
  treats id 0 as unmatched), 198196 without ``iscrowd``, 230195 with a
  stale ``num_keypoints`` (3), 460541 with ``area`` 0, 1202706 (no
  keypoints) made a crowd, 508900 (no keypoints) with a stale
  ``num_keypoints`` (5). ``noarea``: 467657 and 531914 without
  ``area`` (for ``use_area=False``). ``custom``: 5 keypoints (nose,
  shoulders, hips) with ``num_keypoints`` left as in the 17-keypoint file.
- ``meta_custom``: () unicode, the MMPose-schema metainfo json of
  ``custom`` (5 keypoints, own sigmas); the other cases use MMPose's COCO
  metainfo (``configs/_base_/datasets/coco.py``).

Prediction sets ``<p>`` (``preds_<p>_<key>``, one row per instance; in
the metric each row is one data sample, processed in row order):

- ``preds_<p>_id``, ``preds_<p>_img_id``, ``preds_<p>_category_id``: (N,)
  int64.
- ``preds_<p>_keypoints``: (N, K, 2) float32 (on a 1/8 px grid);
  ``preds_<p>_keypoint_scores``: (N, K) float32 (on a 1/1024 grid).
- ``preds_<p>_bbox``: (N, 4) float32 xyxy (``pred_instances.bboxes``);
  ``preds_<p>_bbox_score``: (N,) float32 (``pred_instances.bbox_scores``
  and ``gt_instances.bbox_scores``); ``preds_<p>_input_scale``: (N, 2)
  float32 (``gt_instances.bbox_scales``). Absent for ``fallback``, whose
  samples carry only ids and keypoints (MMPose's fall-backs: box scores
  1, areas from the keypoints, no result ``bbox``, ``category_id`` 1).

The sets: ``gt_small`` / ``gt_large`` one prediction per person with
ground-truth boxes (``id`` = annotation id, box score 1) and keypoint noise
proportional to ``sigma * sqrt(area)``; ``multi`` (and ``noarea``,
``custom`` on their ground truth) 1-3 predictions per person with jittered
boxes and random box scores (the second person's all with keypoint scores 0,
which xtcocotools skips), 2 false positives per image, 2 more predictions
with all keypoint scores 0 and 2 rows repeating
an earlier id (MMPose keeps the first), rows shuffled; ``det`` the
118 detections (running ids, as the dataset numbers them; more than 20 per
image, so ``soft_oks_nms`` truncates) with the keypoints of the
best-overlapping person;
``edge`` ground-truth boxes on the ``edge`` ground truth; ``fallback`` ids
and keypoints only; ``converter`` keypoints in a permuted order, mapped
back by ``pred_converter`` to the first 13 COCO keypoints, with the ground
truth reduced to them by ``gt_converter``.

Cases ``<c>`` (one MMPose ``CocoMetric`` each; ``cases`` lists them):

- ``<c>_gt``, ``<c>_meta``, ``<c>_preds``: () unicode, names of the ground
  truth, metainfo and prediction set.
- ``<c>_kwargs``: () unicode, json of the ``CocoMetric`` arguments besides
  ``ann_file`` / ``outfile_prefix``.
- ``<c>_stats``: (10,) float64, MMPose's results in the order ``AP``,
  ``AP .5``, ``AP .75``, ``AP (M)``, ``AP (L)``, ``AR``, ``AR .5``,
  ``AR .75``, ``AR (M)``, ``AR (L)``.
- For ``multi`` and ``fallback``, MMPose's ``.keypoints.json``,
  in file order: ``<c>_res_keys`` (the keys of an entry),
  ``<c>_res_image_id`` / ``_category_id`` (M,) int64,
  ``<c>_res_keypoints`` (M, K * 3) float32, ``<c>_res_score`` (M,)
  float64, ``<c>_res_bbox`` (M, 4) float32 (xywh; not for ``fallback``);
  the json holds these exact values.

OKS NMS on random data (``nms_*``): ``nms_kpts`` (15, 17, 3) float32
(three clusters), ``nms_areas`` (15,) float32, ``nms_scores`` (15,)
float64, ``nms_joint_scores`` (15, 17) float32, ``nms_sigmas`` (17,)
float32; outputs ``nms_oks_iou`` (14,) float32 (``oks_iou`` of instance 0
against the rest, COCO sigmas), ``nms_oks_iou_vis`` (same with
``nms_sigmas`` and ``vis_thr=0.3``), and int64 keep lists
``nms_keep_<name>`` for ``oks_thr09`` / ``oks_thr05`` / ``oks_thr03``
(``oks_nms`` with COCO sigmas), ``oks_sigmas_vis`` (thr 0.5, custom
sigmas, vis_thr 0.3), ``oks_per_joint`` (thr 0.5, ``score_per_joint``),
``soft_thr03`` / ``soft_thr09_max5`` (``soft_oks_nms``),
``soft_per_joint``; box NMS: ``nms_dets`` (20, 5) float32 and
``nms_keep_box_thr03`` / ``nms_keep_box_thr07``.
"""

import copy
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REF = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference"
DATA = Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data").resolve()
sys.path.insert(0, REF)
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import warnings  # noqa: E402

from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.datasets.datasets.utils import parse_pose_metainfo  # noqa: E402
from mmpose.evaluation.functional import nms  # noqa: E402
from mmpose.evaluation.functional import oks_nms  # noqa: E402
from mmpose.evaluation.functional import soft_oks_nms  # noqa: E402
from mmpose.evaluation.functional.nms import oks_iou  # noqa: E402
from mmpose.evaluation.metrics import CocoMetric  # noqa: E402

init_default_scope("mmpose")
warnings.filterwarnings("ignore", message="The metainfo config file")

OUT_PATH = (
    Path(__file__).resolve().parents[1]
    / "tests/fixtures/mmpose_coco_metric.npz"
)
COCO_META = "configs/_base_/datasets/coco.py"
SUBSET = [0, 5, 6, 11, 12]  # nose, shoulders, hips
INPUT_ASPECT = 192 / 256
RESULTS_CASES = ("multi", "fallback")

out = {}
rng = np.random.default_rng(20240611)


# ----------------------------------------------------------------------------
# Ground truth
# ----------------------------------------------------------------------------
def load_gt():
    with open(DATA / "coco/test_coco.json") as f:
        data = json.load(f)
    images = [
        {k: img[k] for k in ("id", "file_name", "width", "height")}
        for img in data["images"]
    ]
    anns = [
        {k: v for k, v in ann.items() if k != "segmentation"}
        for ann in data["annotations"]
    ]
    return dict(images=images, annotations=anns, categories=data["categories"])


GT = {"coco": load_gt()}


def find(gt, ann_id):
    return next(a for a in gt["annotations"] if a["id"] == ann_id)


edge = copy.deepcopy(GT["coco"])
find(edge, 442619)["id"] = 0
del find(edge, 198196)["iscrowd"]
find(edge, 230195)["num_keypoints"] = 3
find(edge, 460541)["area"] = 0
find(edge, 1202706)["iscrowd"] = 1
find(edge, 508900)["num_keypoints"] = 5
GT["edge"] = edge

noarea = copy.deepcopy(GT["coco"])
del find(noarea, 467657)["area"]
del find(noarea, 531914)["area"]
GT["noarea"] = noarea

custom = copy.deepcopy(GT["coco"])
for ann in custom["annotations"]:
    kpts = np.array(ann["keypoints"]).reshape(17, 3)[SUBSET]
    ann["keypoints"] = kpts.reshape(-1).tolist()
custom["categories"] = [
    dict(
        id=1,
        name="person",
        supercategory="person",
        keypoints=[custom["categories"][0]["keypoints"][i] for i in SUBSET],
    )
]
GT["custom"] = custom

CUSTOM_META = dict(
    dataset_name="coco_subset",
    keypoint_info={
        0: dict(name="nose", id=0, color=[51, 153, 255], type="upper", swap=""),
        1: dict(
            name="left_shoulder",
            id=1,
            color=[0, 255, 0],
            type="upper",
            swap="right_shoulder",
        ),
        2: dict(
            name="right_shoulder",
            id=2,
            color=[255, 128, 0],
            type="upper",
            swap="left_shoulder",
        ),
        3: dict(
            name="left_hip",
            id=3,
            color=[0, 255, 0],
            type="lower",
            swap="right_hip",
        ),
        4: dict(
            name="right_hip",
            id=4,
            color=[255, 128, 0],
            type="lower",
            swap="left_hip",
        ),
    },
    skeleton_info={
        0: dict(
            link=("left_shoulder", "right_shoulder"), id=0, color=[0, 0, 255]
        ),
        1: dict(link=("left_hip", "right_hip"), id=1, color=[0, 0, 255]),
    },
    joint_weights=[1.0, 1.0, 1.0, 1.2, 1.2],
    sigmas=[0.05, 0.08, 0.08, 0.12, 0.1],
)
for name, gt in GT.items():
    out[f"gt_{name}"] = np.array(json.dumps(gt))
out["meta_custom"] = np.array(json.dumps(CUSTOM_META))

COCO_SIGMAS = parse_pose_metainfo(dict(from_file=COCO_META))["sigmas"]


def meta_of(name):
    if name == "coco":
        return parse_pose_metainfo(dict(from_file=COCO_META))
    return parse_pose_metainfo(copy.deepcopy(CUSTOM_META))


# ----------------------------------------------------------------------------
# Predictions
# ----------------------------------------------------------------------------
def clipped_xyxy(ann, img):
    x, y, w, h = ann["bbox"]
    W, H = img["width"], img["height"]
    return np.array(
        [
            np.clip(x, 0, W - 1),
            np.clip(y, 0, H - 1),
            np.clip(x + w, 0, W - 1),
            np.clip(y + h, 0, H - 1),
        ],
        np.float32,
    )


def input_scale(bbox):
    wh = (bbox[2:] - bbox[:2]) * np.float32(1.25)
    w, h = wh
    if w > h * INPUT_ASPECT:
        h = w / INPUT_ASPECT
    else:
        w = h * INPUT_ASPECT
    return np.array([w, h], np.float32)


def evaluable(gt):
    return [
        a
        for a in gt["annotations"]
        if not a.get("iscrowd", 0)
        and np.count_nonzero(np.array(a["keypoints"])[2::3] > 0) > 0
    ]


def noisy_keypoints(ann, bbox, level, sigmas):
    k = len(sigmas)
    kpts = np.array(ann["keypoints"], np.float64).reshape(k, 3)
    area = ann.get("area") or (ann["bbox"][2] * ann["bbox"][3] * 0.53)
    std = level * sigmas * np.sqrt(max(area, 1.0))
    xy = kpts[:, :2] + rng.normal(size=(k, 2)) * std[:, None]
    unlabelled = kpts[:, 2] == 0
    xy[unlabelled] = rng.uniform(bbox[:2], bbox[2:], size=(unlabelled.sum(), 2))
    return xy.astype(np.float32)


def random_keypoints(bbox, k):
    return rng.uniform(bbox[:2], bbox[2:], size=(k, 2)).astype(np.float32)


def pack(rows):
    # Keypoints on a 1/8 px grid and scores on a 1/1024 grid keep the
    # fixture small (float32 values with few mantissa bits compress well).
    rows = [
        dict(
            r,
            keypoints=np.round(np.asarray(r["keypoints"]) * 8) / 8,
            keypoint_scores=np.round(np.asarray(r["keypoint_scores"]) * 1024)
            / 1024,
        )
        for r in rows
    ]
    return {
        key: np.stack([r[key] for r in rows]).astype(dtype)
        for key, dtype in (
            ("id", np.int64),
            ("img_id", np.int64),
            ("category_id", np.int64),
            ("keypoints", np.float32),
            ("keypoint_scores", np.float32),
            ("bbox", np.float32),
            ("bbox_score", np.float32),
            ("input_scale", np.float32),
        )
    }


def row(ann_id, img_id, kpts, bbox, bbox_score, scores=None):
    k = len(kpts)
    if scores is None:
        scores = rng.uniform(0.0, 1.0, k)
    return dict(
        id=ann_id,
        img_id=img_id,
        category_id=1,
        keypoints=kpts,
        keypoint_scores=np.asarray(scores, np.float32),
        bbox=bbox,
        bbox_score=np.float32(bbox_score),
        input_scale=input_scale(bbox),
    )


def gt_box_predictions(gt, level, sigmas, skip_ids=()):
    images = {img["id"]: img for img in gt["images"]}
    rows = []
    for ann in evaluable(gt):
        if ann["id"] in skip_ids:
            continue
        img = images[ann["image_id"]]
        bbox = clipped_xyxy(ann, img)
        lvl = level * rng.uniform(0.2, 1.5)
        kpts = noisy_keypoints(ann, bbox, lvl, sigmas)
        rows.append(row(ann["id"], ann["image_id"], kpts, bbox, 1.0))
    return pack(rows)


def multi_predictions(gt, sigmas):
    images = {img["id"]: img for img in gt["images"]}
    k = len(sigmas)
    rows = []
    next_id = 0
    for n_ann, ann in enumerate(evaluable(gt)):
        img = images[ann["image_id"]]
        base = clipped_xyxy(ann, img)
        for _ in range(rng.integers(1, 4)):
            wh = base[2:] - base[:2]
            bbox = (base + rng.uniform(-0.05, 0.05, 4) * np.tile(wh, 2)).astype(
                np.float32
            )
            level = rng.choice([0.2, 0.7, 1.5, 3.0])
            kpts = noisy_keypoints(ann, bbox, level, sigmas)
            scores = rng.uniform(0.0, 1.0, k)
            if n_ann == 1:
                # This person's only predictions have no positive keypoint
                # score: xtcocotools skips them, so the person is missed.
                scores = np.zeros(k)
            rows.append(
                row(
                    next_id,
                    ann["image_id"],
                    kpts,
                    bbox,
                    rng.uniform(0.3, 1),
                    scores,
                )
            )
            next_id += 1
    for img in gt["images"]:
        for _ in range(2):
            xy = rng.uniform(0, [img["width"] * 0.7, img["height"] * 0.7])
            wh = rng.uniform(20, [img["width"] * 0.3, img["height"] * 0.3])
            bbox = np.concatenate([xy, xy + wh]).astype(np.float32)
            rows.append(
                row(
                    next_id,
                    img["id"],
                    random_keypoints(bbox, k),
                    bbox,
                    rng.uniform(0.05, 0.5),
                    rng.uniform(0.0, 0.6, k),
                )
            )
            next_id += 1
    for src in rng.choice(len(rows), 2, replace=False):
        zero = dict(rows[src], id=next_id, keypoint_scores=np.zeros(k))
        zero["keypoints"] = rows[src]["keypoints"] + rng.normal(size=(k, 2))
        zero["keypoint_scores"] = np.zeros(k, np.float32)
        rows.append(zero)
        next_id += 1
    for src in rng.choice(len(rows), 2, replace=False):
        dup = dict(rows[src])
        dup["keypoints"] = (
            rows[src]["keypoints"] + rng.normal(size=(k, 2)) * 5
        ).astype(np.float32)
        dup["keypoint_scores"] = rng.uniform(0.0, 1.0, k).astype(np.float32)
        rows.append(dup)
    order = rng.permutation(len(rows))
    return pack([rows[i] for i in order])


def iou(a, b):
    lt = np.maximum(a[:2], b[:2])
    rb = np.minimum(a[2:], b[2:])
    inter = np.prod(np.clip(rb - lt, 0, None))
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return inter / union


def det_predictions(gt, sigmas):
    with open(DATA / "coco/test_coco_det_AP_H_56.json") as f:
        dets = json.load(f)
    images = {img["id"]: img for img in gt["images"]}
    persons = evaluable(gt)
    k = len(sigmas)
    rows = []
    dets = [d for d in dets if d["category_id"] == 1]
    for i, det in enumerate(dets):
        box = np.asarray(det["bbox"], np.float32)
        bbox = np.concatenate([box[:2], box[:2] + box[2:]])
        img = images[det["image_id"]]
        cands = [a for a in persons if a["image_id"] == img["id"]]
        overlaps = [iou(bbox, clipped_xyxy(a, img)) for a in cands]
        if overlaps and max(overlaps) > 0.5:
            ann = cands[int(np.argmax(overlaps))]
            kpts = noisy_keypoints(ann, bbox, rng.uniform(0.2, 2.0), sigmas)
            scores = rng.uniform(0.2, 1.0, k)
        else:
            kpts = random_keypoints(bbox, k)
            scores = rng.uniform(0.0, 0.6, k)
        rows.append(row(i, det["image_id"], kpts, bbox, det["score"], scores))
    return pack(rows)


def converter_predictions(gt, sigmas):
    preds = gt_box_predictions(gt, 1.0, sigmas)
    perm = rng.permutation(17)
    # Raw keypoint j is COCO keypoint perm[j].
    preds["keypoints"] = preds["keypoints"][:, perm]
    preds["keypoint_scores"] = preds["keypoint_scores"][:, perm]
    mapping = [(j, int(perm[j])) for j in range(17) if perm[j] < 13]
    return preds, mapping


# ----------------------------------------------------------------------------
# MMPose's CocoMetric
# ----------------------------------------------------------------------------
def run_metric(case, gt_name, meta_name, kwargs, preds_name, save_results):
    preds = PREDS[preds_name]
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = f"{tmp}/gt.json"
        with open(ann_file, "w") as f:
            json.dump(GT[gt_name], f)
        metric = CocoMetric(
            ann_file=ann_file, outfile_prefix=f"{tmp}/res", **kwargs
        )
        metric.dataset_meta = meta_of(meta_name)
        samples = []
        n = len(preds["id"])
        full = "bbox" in preds
        for i in range(n):
            pred = dict(
                keypoints=preds["keypoints"][i : i + 1],
                keypoint_scores=preds["keypoint_scores"][i : i + 1],
            )
            sample = dict(
                id=int(preds["id"][i]),
                img_id=int(preds["img_id"][i]),
                pred_instances=pred,
                gt_instances={},
            )
            if full:
                sample["category_id"] = int(preds["category_id"][i])
                pred["bboxes"] = preds["bbox"][i : i + 1]
                pred["bbox_scores"] = preds["bbox_score"][i : i + 1]
                sample["gt_instances"] = dict(
                    bbox_scores=preds["bbox_score"][i : i + 1],
                    bbox_scales=preds["input_scale"][i : i + 1],
                )
            samples.append(sample)
        metric.process([], samples)
        results = metric.evaluate(n)
        if save_results:
            with open(f"{tmp}/res.keypoints.json") as f:
                res = json.load(f)
            out[f"{case}_res_keys"] = np.array(sorted(res[0]))
            for key, dtype in (
                ("image_id", np.int64),
                ("category_id", np.int64),
                ("keypoints", np.float32),
                ("score", np.float64),
                ("bbox", np.float32),
            ):
                if key in res[0]:
                    values = np.array([r[key] for r in res])
                    # Exact: the values are float32 numbers written as
                    # Python floats.
                    assert (values.astype(dtype) == values).all(), key
                    out[f"{case}_res_{key}"] = values.astype(dtype)
    stats = np.array(
        [
            results[f"coco/{k}"]
            for k in (
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
        ],
        np.float64,
    )
    out[f"{case}_gt"] = np.array(gt_name)
    out[f"{case}_meta"] = np.array(meta_name)
    out[f"{case}_kwargs"] = np.array(json.dumps(kwargs))
    out[f"{case}_preds"] = np.array(preds_name)
    out[f"{case}_stats"] = stats
    print(case, np.round(stats, 4).tolist())


custom_sigmas = np.array(CUSTOM_META["sigmas"], np.float32)
fallback = gt_box_predictions(GT["coco"], 1.0, COCO_SIGMAS)
conv_preds, conv_mapping = converter_predictions(GT["coco"], COCO_SIGMAS)
PREDS = {
    "gt_small": gt_box_predictions(GT["coco"], 0.5, COCO_SIGMAS),
    "gt_large": gt_box_predictions(GT["coco"], 2.0, COCO_SIGMAS),
    "multi": multi_predictions(GT["coco"], COCO_SIGMAS),
    "det": det_predictions(GT["coco"], COCO_SIGMAS),
    "edge": gt_box_predictions(GT["edge"], 1.0, COCO_SIGMAS),
    "noarea": multi_predictions(GT["noarea"], COCO_SIGMAS),
    "custom": multi_predictions(GT["custom"], custom_sigmas),
    "fallback": {
        k: fallback[k] for k in ("id", "img_id", "keypoints", "keypoint_scores")
    },
    "converter": conv_preds,
}
for set_name, preds in PREDS.items():
    for key, value in preds.items():
        out[f"preds_{set_name}_{key}"] = value
CONVERTERS = dict(
    pred_converter=dict(num_keypoints=17, mapping=conv_mapping),
    gt_converter=dict(num_keypoints=17, mapping=[(i, i) for i in range(13)]),
)
# (case, ground truth, metainfo, CocoMetric arguments, prediction set)
CASES = [
    ("gt_small", "coco", "coco", {}, "gt_small"),
    ("gt_large", "coco", "coco", {}, "gt_large"),
    ("multi", "coco", "coco", {}, "multi"),
    ("multi_thr05", "coco", "coco", dict(nms_thr=0.5), "multi"),
    ("multi_soft", "coco", "coco", dict(nms_mode="soft_oks_nms"), "multi"),
    ("multi_none", "coco", "coco", dict(nms_mode="none"), "multi"),
    (
        "multi_bbox",
        "coco",
        "coco",
        dict(score_mode="bbox", nms_thr=0.5),
        "multi",
    ),
    ("multi_keypoint", "coco", "coco", dict(score_mode="keypoint"), "multi"),
    ("multi_rle", "coco", "coco", dict(score_mode="bbox_rle"), "multi"),
    ("multi_kthr", "coco", "coco", dict(keypoint_score_thr=0.6), "multi"),
    ("det", "coco", "coco", {}, "det"),
    ("det_soft", "coco", "coco", dict(nms_mode="soft_oks_nms"), "det"),
    ("edge", "edge", "coco", {}, "edge"),
    ("noarea", "noarea", "coco", dict(use_area=False), "noarea"),
    ("custom", "custom", "custom", {}, "custom"),
    ("fallback", "coco", "coco", {}, "fallback"),
    ("converter", "coco", "coco", CONVERTERS, "converter"),
]
for case, gt_name, meta_name, kwargs, preds_name in CASES:
    run_metric(
        case, gt_name, meta_name, kwargs, preds_name, case in RESULTS_CASES
    )
out["cases"] = np.array([c[0] for c in CASES])

# ----------------------------------------------------------------------------
# NMS on random data
# ----------------------------------------------------------------------------
N, K = 15, 17
centers = rng.uniform(50, 400, size=(3, K, 2))
cluster = rng.integers(0, 3, N)
nms_kpts = np.concatenate(
    [
        centers[cluster]
        + rng.normal(size=(N, K, 2)) * rng.uniform(1, 25, (N, 1, 1)),
        rng.uniform(0, 1, (N, K, 1)),
    ],
    axis=-1,
).astype(np.float32)
nms_areas = rng.uniform(2000, 20000, N).astype(np.float32)
nms_scores = rng.uniform(0, 1, N)
nms_joint_scores = rng.uniform(0, 1, (N, K)).astype(np.float32)
nms_sigmas = rng.uniform(0.02, 0.12, K).astype(np.float32)
out.update(
    nms_kpts=nms_kpts,
    nms_areas=nms_areas,
    nms_scores=nms_scores,
    nms_joint_scores=nms_joint_scores,
    nms_sigmas=nms_sigmas,
)


def db(per_joint=False):
    return [
        dict(
            keypoints=nms_kpts[i],
            score=nms_joint_scores[i] if per_joint else nms_scores[i],
            area=nms_areas[i],
        )
        for i in range(N)
    ]


flat = nms_kpts.reshape(N, -1)
out["nms_oks_iou"] = oks_iou(flat[0], flat[1:], nms_areas[0], nms_areas[1:])
out["nms_oks_iou_vis"] = oks_iou(
    flat[0], flat[1:], nms_areas[0], nms_areas[1:], nms_sigmas, 0.3
)
keeps = {
    "oks_thr09": oks_nms(db(), 0.9),
    "oks_thr05": oks_nms(db(), 0.5),
    "oks_thr03": oks_nms(db(), 0.3),
    "oks_sigmas_vis": oks_nms(db(), 0.5, sigmas=nms_sigmas, vis_thr=0.3),
    "oks_per_joint": oks_nms(db(True), 0.5, score_per_joint=True),
    "soft_thr03": soft_oks_nms(db(), 0.3),
    "soft_thr09_max5": soft_oks_nms(db(), 0.9, max_dets=5),
    "soft_per_joint": soft_oks_nms(db(True), 0.5, score_per_joint=True),
}
xy = rng.uniform(0, 200, (20, 2))
wh = rng.uniform(10, 80, (20, 2))
nms_dets = np.concatenate(
    [xy, xy + wh, rng.uniform(0, 1, (20, 1))], axis=1
).astype(np.float32)
out["nms_dets"] = nms_dets
keeps["box_thr03"] = nms(nms_dets, 0.3)
keeps["box_thr07"] = nms(nms_dets, 0.7)
for name, keep in keeps.items():
    out[f"nms_keep_{name}"] = np.asarray(keep, np.int64)
    print(name, np.asarray(keep).tolist())

np.savez_compressed(OUT_PATH, **out)
print(OUT_PATH, OUT_PATH.stat().st_size, "bytes")

"""MMPose's ``CocoMetric`` on bottom-up predictions (no ground-truth boxes).

Run from the repository root with the MMPose reference environment::

    $REF/bin/python tools/make_mmpose_bottomup_metric_fixtures.py \\
        ../shared/reference ../shared/data

MMPose's bottom-up samples carry all instances of one image: ``id`` is the
list of the image's annotation ids, the predicted instances come from the
decoder (``bbox_scores`` for AE), the area is that of the keypoints'
bounding box. The predictions here are the ground-truth keypoints of each
image plus seeded noise, one false positive per image, an instance without
any positive keypoint score and, for the NMS case, a near duplicate;
invisible ground-truth keypoints get random positions. They are stored
padded, as keraspose's ``BottomupPoseEstimator.predict`` returns them.

Keys, per case ``<c>`` (``cases`` lists them):

- ``<c>_gt``: () unicode, the annotation json given to the metric
  (``coco``: ``coco/test_coco.json`` without segmentations; ``crowd``:
  ``crowdpose/test_crowdpose.json`` with image 106848's ``crowdIndex`` set
  to 0.1, so that the easy and medium subsets are not empty;
  ``crowd_orig``: the file as is).
- ``<c>_kwargs``: () unicode, json of the ``CocoMetric`` arguments besides
  ``ann_file`` / ``outfile_prefix``; ``<c>_meta``: () unicode, the MMPose
  metainfo file name.
- ``<c>_img_id`` (B,) int64, ``<c>_keypoints`` (B, M, K, 2) float32,
  ``<c>_keypoint_scores`` (B, M, K) float32, ``<c>_instance_mask``
  (B, M) bool and, where present, ``<c>_bbox_scores`` (B, M) float32.
- ``<c>_names``: (S,) unicode and ``<c>_stats`` (S,) float64, MMPose's
  results.
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
from mmpose.evaluation.metrics import CocoMetric  # noqa: E402

init_default_scope("mmpose")
warnings.filterwarnings("ignore", message="The metainfo config file")

OUT_PATH = (
    Path(__file__).resolve().parents[1]
    / "tests/fixtures/mmpose_bottomup_metric.npz"
)
M = 6  # padded instances per image
out = {}
rng = np.random.default_rng(20240612)


def load(path, drop=("segmentation",)):
    with open(path) as f:
        data = json.load(f)
    data["annotations"] = [
        {k: v for k, v in a.items() if k not in drop}
        for a in data["annotations"]
    ]
    data["images"] = [
        {k: v for k, v in img.items() if k not in ("coco_url", "flickr_url")}
        for img in data["images"]
    ]
    return data


GT = {"coco": load(DATA / "coco/test_coco.json")}
GT["crowd_orig"] = load(DATA / "crowdpose/test_crowdpose.json")
GT["crowd"] = copy.deepcopy(GT["crowd_orig"])
for img in GT["crowd"]["images"]:
    if img["id"] == 106848:
        img["crowdIndex"] = 0.1


def predictions(gt, k, with_bbox_scores, duplicate, noise):
    """Padded (B, M, ...) predictions from the ground truth plus noise."""
    images = gt["images"]
    b = len(images)
    kpts = np.zeros((b, M, k, 2), np.float32)
    scores = np.zeros((b, M, k), np.float32)
    mask = np.zeros((b, M), bool)
    bbox_scores = np.zeros((b, M), np.float32)
    for i, img in enumerate(images):
        anns = [
            a
            for a in gt["annotations"]
            if a["image_id"] == img["id"] and max(a["keypoints"][2::3]) > 0
        ]
        rows = []
        for ann in anns:
            g = np.array(ann["keypoints"], np.float64).reshape(k, 3)
            xy = g[:, :2] + rng.normal(0, noise, (k, 2))
            hidden = g[:, 2] == 0
            xy[hidden] = rng.uniform(
                0,
                [img["width"], img["height"]],
                (
                    hidden.sum(),
                    2,
                ),
            )
            s = rng.uniform(0.3, 1.0, k)
            s[hidden] = rng.uniform(0.0, 0.3, hidden.sum())
            rows.append((xy, s))
        if duplicate and rows:
            xy, s = rows[0]
            rows.append((xy + rng.normal(0, 0.5, xy.shape), s * 0.9))
        # a false positive and an instance without positive scores
        rows.append(
            (
                rng.uniform(0, [img["width"], img["height"]], (k, 2)),
                rng.uniform(0.0, 0.5, k),
            )
        )
        rows.append((rng.uniform(0, 50, (k, 2)), np.zeros(k)))
        rows = rows[:M]
        for j, (xy, s) in enumerate(rows):
            kpts[i, j] = xy
            scores[i, j] = s
            mask[i, j] = True
            bbox_scores[i, j] = rng.uniform(0.2, 1.0)
    preds = dict(
        img_id=np.array([img["id"] for img in images], np.int64),
        keypoints=kpts,
        keypoint_scores=scores,
        instance_mask=mask,
    )
    if with_bbox_scores:
        preds["bbox_scores"] = bbox_scores
    return preds


CASES = {
    # AE's val_evaluator
    "ae": ("coco", "coco.py", dict(nms_mode="none", score_mode="bbox"), True),
    # DEKR COCO's val_evaluator
    "dekr": (
        "coco",
        "coco.py",
        dict(nms_mode="none", score_mode="keypoint"),
        False,
    ),
    # the defaults (bbox_keypoint + OKS NMS) on a near duplicate
    "default": ("coco", "coco.py", dict(), False),
    # DEKR CrowdPose's val_evaluator
    "crowd": (
        "crowd",
        "crowdpose.py",
        dict(
            nms_mode="none",
            score_mode="keypoint",
            use_area=False,
            iou_type="keypoints_crowd",
            prefix="crowdpose",
        ),
        False,
    ),
    "crowd_orig": (
        "crowd_orig",
        "crowdpose.py",
        dict(
            nms_mode="none",
            score_mode="keypoint",
            use_area=False,
            iou_type="keypoints_crowd",
            prefix="crowdpose",
        ),
        True,
    ),
}


def run(case, gt_name, meta_file, kwargs, with_bbox_scores):
    gt = GT[gt_name]
    meta = parse_pose_metainfo(
        dict(from_file=f"configs/_base_/datasets/{meta_file}")
    )
    k = int(meta["num_keypoints"])
    noise = 12.0 if gt_name.startswith("crowd") else 3.0
    preds = predictions(gt, k, with_bbox_scores, case == "default", noise)
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = f"{tmp}/gt.json"
        with open(ann_file, "w") as f:
            json.dump(gt, f)
        metric = CocoMetric(
            ann_file=ann_file, outfile_prefix=f"{tmp}/res", **kwargs
        )
        metric.dataset_meta = meta
        samples = []
        for i, img_id in enumerate(preds["img_id"].tolist()):
            valid = preds["instance_mask"][i]
            pred = dict(
                keypoints=preds["keypoints"][i][valid],
                keypoint_scores=preds["keypoint_scores"][i][valid],
            )
            if with_bbox_scores:
                pred["bbox_scores"] = preds["bbox_scores"][i][valid]
            ann_ids = [
                a["id"] for a in gt["annotations"] if a["image_id"] == img_id
            ]
            samples.append(
                dict(
                    id=ann_ids,
                    img_id=img_id,
                    pred_instances=pred,
                    gt_instances=dict(bbox_scores=np.ones(len(ann_ids))),
                )
            )
        metric.process([], samples)
        results = metric.evaluate(len(samples))
    prefix = kwargs.get("prefix", "coco")
    names = [n[len(prefix) + 1 :] for n in results]
    out[f"{case}_gt"] = np.array(json.dumps(gt))
    out[f"{case}_kwargs"] = np.array(json.dumps(kwargs))
    out[f"{case}_meta"] = np.array(meta_file)
    for key, value in preds.items():
        out[f"{case}_{key}"] = value
    out[f"{case}_names"] = np.array(names)
    out[f"{case}_stats"] = np.array(list(results.values()), np.float64)
    print(case, dict(zip(names, np.round(out[f"{case}_stats"], 4))))


for case, args in CASES.items():
    run(case, *args)
out["cases"] = np.array(list(CASES))
np.savez_compressed(OUT_PATH, **out)
print(OUT_PATH, OUT_PATH.stat().st_size, "bytes")

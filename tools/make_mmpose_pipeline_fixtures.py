"""Generates tests/fixtures/mmpose_pipeline.npz with the real MMPose 1.3.2.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_pipeline_fixtures.py \\
        ../shared/reference ../shared/data

Everything keeps MMPose's conventions: keypoints are (x, y) in pixels,
boxes are xyxy in pixels, images are HWC uint8 BGR as ``LoadImage`` (OpenCV
``imdecode`` with ``IMREAD_COLOR``) produces them, ``input_size`` is
(width, height). Strings are numpy unicode arrays. ``N`` is the number of
instances of the dataset mode, ``K`` its number of keypoints.

Keys
----

1. Dataset parsing (``pipeline=[]``), one prefix per dataset mode:

   - ``coco_train``: ``CocoDataset`` on ``coco/test_coco.json``,
     ``test_mode=False``, ``data_mode='topdown'``.
   - ``coco_test``: same with ``test_mode=True`` (ground-truth boxes).
   - ``coco_det``: ``test_mode=True``,
     ``bbox_file='coco/test_coco_det_AP_H_56.json'``,
     ``filter_cfg=dict(bbox_score_thr=0.3)``.
   - ``crowdpose_train`` / ``crowdpose_test``: ``CrowdPoseDataset`` on
     ``crowdpose/test_crowdpose.json``.
   - ``crowdpose_det``: ``CrowdPoseDataset``, ``test_mode=True``,
     ``bbox_file='crowdpose/test_crowdpose_det_AP_40.json'`` (no filter).
   - ``ap10k_train``: ``AP10KDataset`` on ``ap10k/test_ap10k.json``.
   - ``mpii_train`` / ``mpii_test``: ``MpiiDataset`` on
     ``mpii/test_mpii.json``.

   Per prefix ``<m>`` (a key is only written when every ``data_info`` of
   the mode has the field):

   - ``<m>_num_instances``: () int64, ``len(dataset)``.
   - ``<m>_img_id``: (N,) int64.
   - ``<m>_id``: (N,) int64, the instance id MMPose assigns (COCO annotation
     id; for ``bbox_file`` modes and MPII a running counter).
   - ``<m>_img_path``: (N,) unicode, basename of ``data_info['img_path']``.
   - ``<m>_bbox``: (N, 4) float32 xyxy, ``data_info['bbox'][0]``.
   - ``<m>_bbox_score``: (N,) float32.
   - ``<m>_keypoints``: (N, K, 2) float32.
   - ``<m>_keypoints_visible``: (N, K) float32 (MPII: int64 as MMPose
     keeps it).
   - ``<m>_area``: (N,) float32 (not in ``*_det`` modes).
   - ``<m>_num_keypoints``: (N,) int64 (COCO-style GT modes only).
   - ``<m>_iscrowd``: (N,) int64 (COCO-style GT modes only).
   - ``<m>_crowd_index``: (N,) float64 (CrowdPose GT modes only).
   - ``<m>_img_shape``: (N, 2) int64 (h, w) (``*_det`` modes only).
   - ``<m>_bbox_center``, ``<m>_bbox_scale``: (N, 2) float32 (MPII only:
     the dataset itself converts MPII's center/scale).

   - ``coco_flip_indices`` (17,), ``coco_upper_body_ids`` (11,),
     ``coco_lower_body_ids`` (6,): int64, COCO metainfo as given to the
     pipeline.

2. Top-down transforms on every ``coco_train`` instance (N = 12), built
   with ``TRANSFORMS.build`` and applied to ``dataset.get_data_info(i)``
   (which carries the metainfo keys, e.g. ``flip_indices``):
   ``LoadImage -> GetBBoxCenterScale() -> [RandomFlip(prob=1.0,
   direction='horizontal')] -> TopdownAffine(input_size=(96, 128),
   use_udp=...)``. Cases ``<c>``: ``std`` (no flip, no UDP), ``udp`` (no
   flip, UDP), ``flip`` (flip, no UDP), ``flip_udp`` (flip, UDP).

   - ``<c>_preaffine_bbox``: (N, 4) float32, xyxy box entering
     TopdownAffine (flipped for the flip cases).
   - ``<c>_preaffine_bbox_center``, ``<c>_preaffine_bbox_scale``: (N, 2)
     float32, after GetBBoxCenterScale (and after RandomFlip for the flip
     cases), i.e. before TopdownAffine.
   - ``<c>_preaffine_keypoints``: (N, K, 2) float32 (flipped for the flip
     cases).
   - ``<c>_bbox_center``, ``<c>_bbox_scale``: (N, 2) float32, the final
     ``results`` values after TopdownAffine (its aspect-ratio fix changes
     the scale).
   - ``<c>_input_center``, ``<c>_input_scale``: (N, 2) float32, as
     TopdownAffine exposes them.
   - ``<c>_warp_mat``: (N, 2, 3) float32, ``get_warp_matrix`` /
     ``get_udp_warp_matrix`` with the final center and scale (the matrix
     TopdownAffine uses).
   - ``<c>_transformed_keypoints``: (N, K, 2) float32.
   - ``<c>_keypoints_visible``: (N, K) float32 (after the flip).
   - ``<c>_images``: (M, 128, 96, 3) uint8 BGR warped crops of the first
     M instances, M = 6 for ``std`` and 3 for the other
     cases (first instances) to keep the file small.

   - ``std_heatmaps``: (6, K, 32, 24) float16 (stored as float16 to save
     space; MMPose produces float32): ``GenerateTarget(encoder=dict(
     type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32),
     sigma=2))`` after the ``std`` case, first 6 instances.
   - ``std_keypoint_weights``: (N, K) float32, same transform, all
     instances.

   LoadImage checks for the 4 COCO images (sorted by name):

   - ``load_img_path``: (4,) unicode basenames.
   - ``load_shape``: (4, 3) int64 (H, W, C).
   - ``load_mean``: (4,) float64, mean over all pixels and channels.
   - ``load_channel_mean``: (4, 3) float64, per-channel (B, G, R) mean.
   - ``load_crop_yx``: (2, 2) int64, top-left (y, x) of the two crops.
   - ``load_crops``: (4, 2, 8, 8, 3) uint8, ``img[y:y+8, x:x+8]``.

3. RandomHalfBody (deterministic parts), on the ``std`` case's
   ``preaffine`` results (after GetBBoxCenterScale, no flip), default
   thresholds (min_total_keypoints=9, min_upper_keypoints=2,
   min_lower_keypoints=3, padding=1.5):

   - ``halfbody_prefer_upper_bbox_center`` / ``_bbox_scale``: (N, 2)
     float32, ``RandomHalfBody(prob=1.0, upper_prioritized_prob=1.0)``
     output (deterministic: always applied when the thresholds allow,
     upper body preferred); instances that do not qualify keep their
     GetBBoxCenterScale values.
   - ``halfbody_prefer_upper_ids``: (N, K) bool, the keypoint ids its
     ``_random_select_half_body`` chose (all False = not applied).
   - ``halfbody_prefer_lower_*``: same with ``upper_prioritized_prob=0.0``.
   - ``halfbody_strict_*``: ``upper_prioritized_prob=1.0``,
     ``min_total_keypoints=15``, ``min_upper_keypoints=10``: exercises the
     fall-backs (too few visible keypoints: unchanged; too few upper ones:
     lower body instead).
   - ``halfbody_upper_center`` / ``halfbody_upper_scale``: (N, 2) float32,
     ``_get_half_body_bbox(keypoints, ids)`` called directly with the
     visible upper-body ids (no thresholds); NaN where no upper keypoint
     is visible. ``halfbody_lower_*``: same for the lower body.
"""

import os
import sys
from pathlib import Path

import numpy as np

REF = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference"
DATA = Path(sys.argv[2] if len(sys.argv) > 2 else "../shared/data").resolve()
sys.path.insert(0, REF)
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import warnings  # noqa: E402

import mmpose.codecs  # noqa: E402,F401  (registers the codecs)
import mmpose.datasets  # noqa: E402,F401  (registers datasets, transforms)
from mmpose.registry import DATASETS  # noqa: E402
from mmpose.registry import TRANSFORMS  # noqa: E402
from mmpose.structures.bbox import get_udp_warp_matrix  # noqa: E402
from mmpose.structures.bbox import get_warp_matrix  # noqa: E402

# MMPose warns that it resolves "configs/_base_/datasets/*.py" in its wheel.
warnings.filterwarnings("ignore", message="The metainfo config file")

OUT_PATH = (
    Path(__file__).resolve().parents[1] / "tests/fixtures/mmpose_pipeline.npz"
)
INPUT_SIZE = (96, 128)  # (w, h)
HEATMAP_SIZE = (24, 32)
NUM_HEATMAPS = 6
IMAGES_STD = 6
IMAGES_OTHER = 3
CROP_YX = np.array([[64, 96], [200, 300]], dtype=np.int64)

out = {}


def build_dataset(type_, ann, **kwargs):
    return DATASETS.build(
        dict(
            type=type_,
            ann_file=f"{ann}/test_{ann}.json",
            data_root=str(DATA),
            data_prefix=dict(img=f"{ann}/"),
            pipeline=[],
            **kwargs,
        )
    )


# Field name -> (dtype, how to take it from data_info).
FIELDS = {
    "img_id": (np.int64, lambda v: v),
    "id": (np.int64, lambda v: v),
    "img_path": (None, lambda v: os.path.basename(v)),
    "bbox": (np.float32, lambda v: v[0]),
    "bbox_score": (np.float32, lambda v: v[0]),
    "keypoints": (np.float32, lambda v: v[0]),
    "keypoints_visible": (None, lambda v: v[0]),
    "area": (np.float32, lambda v: np.asarray(v).reshape(-1)[0]),
    "num_keypoints": (np.int64, lambda v: v),
    "iscrowd": (np.int64, lambda v: v),
    "crowd_index": (np.float64, lambda v: v),
    "img_shape": (np.int64, lambda v: v),
    "bbox_center": (np.float32, lambda v: v[0]),
    "bbox_scale": (np.float32, lambda v: v[0]),
}


def save_mode(prefix, dataset):
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    out[f"{prefix}_num_instances"] = np.array(len(infos), dtype=np.int64)
    for key, (dtype, take) in FIELDS.items():
        if not infos or not all(key in d for d in infos):
            continue
        values = [take(d[key]) for d in infos]
        if key == "img_path":
            out[f"{prefix}_{key}"] = np.array(values, dtype=np.str_)
        else:
            out[f"{prefix}_{key}"] = np.stack(
                [np.asarray(v, dtype=dtype) for v in values]
            )
    print(f"{prefix}: {len(infos)} instances")
    return infos


# --- 1. dataset parsing ------------------------------------------------------
coco_train = build_dataset("CocoDataset", "coco", data_mode="topdown")
save_mode("coco_train", coco_train)
save_mode("coco_test", build_dataset("CocoDataset", "coco", test_mode=True))
save_mode(
    "coco_det",
    build_dataset(
        "CocoDataset",
        "coco",
        test_mode=True,
        bbox_file=str(DATA / "coco/test_coco_det_AP_H_56.json"),
        filter_cfg=dict(bbox_score_thr=0.3),
    ),
)
save_mode("crowdpose_train", build_dataset("CrowdPoseDataset", "crowdpose"))
save_mode(
    "crowdpose_test",
    build_dataset("CrowdPoseDataset", "crowdpose", test_mode=True),
)
save_mode(
    "crowdpose_det",
    build_dataset(
        "CrowdPoseDataset",
        "crowdpose",
        test_mode=True,
        bbox_file=str(DATA / "crowdpose/test_crowdpose_det_AP_40.json"),
    ),
)
save_mode("ap10k_train", build_dataset("AP10KDataset", "ap10k"))
save_mode("mpii_train", build_dataset("MpiiDataset", "mpii"))
save_mode("mpii_test", build_dataset("MpiiDataset", "mpii", test_mode=True))

meta = coco_train.metainfo
for key in ("flip_indices", "upper_body_ids", "lower_body_ids"):
    out[f"coco_{key}"] = np.asarray(meta[key], dtype=np.int64)

# --- 2. top-down transforms --------------------------------------------------
load = TRANSFORMS.build(dict(type="LoadImage"))
get_cs = TRANSFORMS.build(dict(type="GetBBoxCenterScale"))
flip = TRANSFORMS.build(
    dict(type="RandomFlip", prob=1.0, direction="horizontal")
)
affine = {
    udp: TRANSFORMS.build(
        dict(type="TopdownAffine", input_size=INPUT_SIZE, use_udp=udp)
    )
    for udp in (False, True)
}
target = TRANSFORMS.build(
    dict(
        type="GenerateTarget",
        encoder=dict(
            type="MSRAHeatmap",
            input_size=INPUT_SIZE,
            heatmap_size=HEATMAP_SIZE,
            sigma=2,
        ),
    )
)
CASES = {
    "std": (False, False),
    "udp": (False, True),
    "flip": (True, False),
    "flip_udp": (True, True),
}
num = len(coco_train)
rows = {}  # (case, field) -> list over instances
preaffine = []  # std-case results before TopdownAffine, for RandomHalfBody


def add(case, field, value):
    rows.setdefault((case, field), []).append(np.asarray(value))


for case, (do_flip, udp) in CASES.items():
    for i in range(num):
        res = get_cs(load(coco_train.get_data_info(i)))
        if do_flip:
            res = flip(res)
            assert res["flip"] and res["flip_direction"] == "horizontal"
        if case == "std":
            preaffine.append(
                {
                    k: (v.copy() if hasattr(v, "copy") else v)
                    for k, v in res.items()
                }
            )
        add(case, "preaffine_bbox", res["bbox"][0])
        add(case, "preaffine_bbox_center", res["bbox_center"][0])
        add(case, "preaffine_bbox_scale", res["bbox_scale"][0])
        add(case, "preaffine_keypoints", res["keypoints"][0])
        res = affine[udp](res)
        center, scale = res["bbox_center"][0], res["bbox_scale"][0]
        if udp:
            mat = get_udp_warp_matrix(center, scale, 0.0, INPUT_SIZE)
        else:
            mat = get_warp_matrix(center, scale, 0.0, INPUT_SIZE)
        add(case, "bbox_center", center)
        add(case, "bbox_scale", scale)
        add(case, "input_center", res["input_center"])
        add(case, "input_scale", res["input_scale"])
        add(case, "warp_mat", mat)
        add(case, "transformed_keypoints", res["transformed_keypoints"][0])
        add(case, "keypoints_visible", res["keypoints_visible"][0])
        if i < (IMAGES_STD if case == "std" else IMAGES_OTHER):
            assert res["img"].shape == (INPUT_SIZE[1], INPUT_SIZE[0], 3)
            add(case, "images", res["img"])
        if case == "std":
            res = target(res)
            if i < NUM_HEATMAPS:
                add(case, "heatmaps", res["heatmaps"].astype(np.float16))
            add(case, "keypoint_weights", res["keypoint_weights"][0])

for (case, field), values in rows.items():
    arr = np.stack(values)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    out[f"{case}_{field}"] = arr

# LoadImage details for the 4 COCO images.
names = sorted(p.name for p in (DATA / "coco").glob("*.jpg"))
shapes, means, cmeans, crops = [], [], [], []
for name in names:
    img = load(dict(img_path=str(DATA / "coco" / name)))["img"]
    assert img.dtype == np.uint8 and img.ndim == 3
    shapes.append(img.shape)
    means.append(img.mean(dtype=np.float64))
    cmeans.append(img.reshape(-1, 3).mean(axis=0, dtype=np.float64))
    crops.append(np.stack([img[y : y + 8, x : x + 8] for y, x in CROP_YX]))
out["load_img_path"] = np.array(names, dtype=np.str_)
out["load_shape"] = np.array(shapes, dtype=np.int64)
out["load_mean"] = np.array(means, dtype=np.float64)
out["load_channel_mean"] = np.array(cmeans, dtype=np.float64)
out["load_crop_yx"] = CROP_YX
out["load_crops"] = np.stack(crops)

# --- 3. RandomHalfBody (deterministic settings) ------------------------------
num_k = len(meta["flip_indices"])
HALF_BODY_VARIANTS = {
    "prefer_upper": dict(upper_prioritized_prob=1.0),
    "prefer_lower": dict(upper_prioritized_prob=0.0),
    "strict": dict(
        upper_prioritized_prob=1.0,
        min_total_keypoints=15,
        min_upper_keypoints=10,
    ),
}
for tag, kwargs in HALF_BODY_VARIANTS.items():
    half = TRANSFORMS.build(dict(type="RandomHalfBody", prob=1.0, **kwargs))
    centers, scales, masks = [], [], []
    for res in preaffine:
        res = {
            k: (v.copy() if hasattr(v, "copy") else v) for k, v in res.items()
        }
        ids = half._random_select_half_body(
            keypoints_visible=res["keypoints_visible"],
            upper_body_ids=res["upper_body_ids"],
            lower_body_ids=res["lower_body_ids"],
        )[0]
        mask = np.zeros(num_k, dtype=bool)
        if ids is not None:
            mask[ids] = True
        res = half(res)
        centers.append(res["bbox_center"][0])
        scales.append(res["bbox_scale"][0])
        masks.append(mask)
    out[f"halfbody_{tag}_bbox_center"] = np.stack(centers).astype(np.float32)
    out[f"halfbody_{tag}_bbox_scale"] = np.stack(scales).astype(np.float32)
    out[f"halfbody_{tag}_ids"] = np.stack(masks)

# The geometric helper alone, on all visible ids of one half.
for tag in ("upper", "lower"):
    half_ids = meta[f"{tag}_body_ids"]
    centers, scales = [], []
    for res in preaffine:
        vis = res["keypoints_visible"][0]
        valid = [j for j in half_ids if vis[j] > 0]
        if valid:
            c, s = half._get_half_body_bbox(res["keypoints"][0], valid)
        else:
            c = s = np.full(2, np.nan, dtype=np.float32)
        centers.append(c)
        scales.append(s)
    out[f"halfbody_{tag}_center"] = np.stack(centers).astype(np.float32)
    out[f"halfbody_{tag}_scale"] = np.stack(scales).astype(np.float32)

OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
np.savez_compressed(OUT_PATH, **out)
check = np.load(OUT_PATH)
for key in sorted(check.files):
    print(f"{key}: {check[key].dtype} {check[key].shape}")
print(f"wrote {OUT_PATH} ({OUT_PATH.stat().st_size / 1024:.1f} KiB)")

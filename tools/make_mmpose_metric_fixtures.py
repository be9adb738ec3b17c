"""Generates tests/fixtures/mmpose_metrics.npz with the real MMPose 1.3.2.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_metric_fixtures.py ../shared/reference

Seeded random keypoints go through MMPose's keypoint functions
(``mmpose.evaluation.functional``) and its metric classes (``process`` on
per-instance ``data_samples`` built as MMPose's ``PackPoseInputs`` lays
them out, then ``compute_metrics``); inputs and outputs are saved. MMPose
overwrites some arguments in place, so every call gets fresh copies.

Keys
----

1. Functions (``N`` = 10 instances, ``K`` = 6 keypoints, float32):

   - ``fn_pred``, ``fn_gt``: (N, K, 2); rows 3, 4 and 5 put keypoints at
     exactly 0.1 / 0.2 / 0.7 of the norm factor (threshold ties; MMPose
     on NumPy 1 compares in float32, and float32(0.7) < 0.7).
   - ``fn_mask``: (N, K) bool; keypoint 5 is never visible (accuracy -1).
   - ``fn_norm``: (N, 2) float32; row 0 is zero (instance ignored), row 1
     has one zero axis (ignored), row 2 is negative (MMPose uses 1e6).
   - ``fn_thrs``: (T,) PCK thresholds; ``fn_pck_acc`` (T, K),
     ``fn_pck_avg`` (T,), ``fn_pck_cnt`` (T,): ``keypoint_pck_accuracy``.
   - ``fn_pck_empty_acc`` (K,), ``fn_pck_empty_avg``, ``fn_pck_empty_cnt``:
     the same with an all-False mask (thr 0.2).
   - ``fn_auc_norm`` (A,), ``fn_auc_num_thrs`` (A,), ``fn_auc`` (A,):
     ``keypoint_auc`` per (norm_factor, num_thrs); norm factors 0 and < 0
     included (MMPose's in-place update decides those numbers).
   - ``fn_nme``: ``keypoint_nme(fn_pred, fn_gt, fn_mask, fn_norm)``;
     ``fn_nme_empty``: with an all-False mask.
   - ``fn_epe``: ``keypoint_epe(fn_pred, fn_gt, fn_mask)``.
   - ``fn3d_pred``, ``fn3d_gt``: (6, 17, 3) float32 (poses in mm);
     ``fn3d_mask`` (6, 17) bool; ``fn_epe3d``: ``keypoint_epe`` on them.
   - ``fn_mpjpe_<dtype>``: (3,) ``keypoint_mpjpe`` with alignment
     ``none``, ``procrustes``, ``scale`` on the 3D arrays cast to
     ``float32`` / ``float64``.
   - ``fn_sim_src``, ``fn_sim_tgt``, ``fn_sim_out``: (17, 3) float64,
     ``compute_similarity_transform``.

2. Metric classes, one prefix ``m_<case>_`` per case:

   - ``config``: JSON of the MMPose metric config (``type`` + args).
   - ``meta``: built-in dataset name whose metainfo (MMPose's
     ``parse_pose_metainfo`` of ``configs/_base_/datasets/<name>.py``) was
     set as ``dataset_meta``, or ``''``.
   - ``batches``: (B,) int64, instances per ``process`` call.
   - ``data``: the case whose input arrays below this case uses (its own
     name, or an earlier case with the same data, stored once).
   - ``pred``: predicted keypoints, (N, K, 2) (MPJPE: (N, T, K, 3)).
   - Ground truth with keraspose's ``inputs`` key names: ``keypoints``
     (N, K, 2), ``keypoints_visible`` (N, K) (values 0, 0.5, 1), ``bbox``
     (N, 4) xyxy, ``head_size`` (N,), ``box_size`` (N,),
     ``lifting_target`` (N, T, K, 3) or (N, K, 3),
     ``lifting_target_visible`` (N, T, K) or (N, K, 1),
     ``target_img_path`` (N,) unicode.
   - ``keys`` (M,) unicode, ``values`` (M,) float64: MMPose's
     ``compute_metrics`` result, in its order.

   Cases: ``pck_bbox`` (a zero-size box), ``pck_all`` (bbox + head +
   torso; a zero head size, a ground-truth torso < 1 px), ``mpii``
   (defaults), ``mpii_degenerate`` (thr 0.3, zero head size, head keypoint
   never visible), ``jhmdb`` (bbox + torso), ``auc``, ``auc_10_7``,
   ``epe``, ``nme_wflw`` (default WFLW eye corners; one instance with
   coinciding corners), ``nme_idx`` (explicit pair on COCO), ``nme_bbox``
   (``bbox_size``), ``nme_item`` (``norm_item='box_size'``), ``mpjpe``,
   ``p_mpjpe``, ``n_mpjpe`` (per-action keys), ``mpjpe_skip``
   (``skip_list``), ``p_mpjpe_frames`` (two target frames per instance).
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

from mmengine.registry import init_default_scope  # noqa: E402

init_default_scope("mmpose")

import mmpose  # noqa: E402
from mmpose.datasets.datasets.utils import parse_pose_metainfo  # noqa: E402
from mmpose.evaluation.functional import keypoint_auc  # noqa: E402
from mmpose.evaluation.functional import keypoint_epe  # noqa: E402
from mmpose.evaluation.functional import keypoint_mpjpe  # noqa: E402
from mmpose.evaluation.functional import keypoint_nme  # noqa: E402
from mmpose.evaluation.functional import keypoint_pck_accuracy  # noqa: E402
from mmpose.evaluation.functional import mesh_eval  # noqa: E402
from mmpose.registry import METRICS  # noqa: E402

OUT_PATH = (
    Path(__file__).resolve().parents[1] / "tests/fixtures/mmpose_metrics.npz"
)
CONFIGS = Path(mmpose.__file__).parent / ".mim" / "configs"

rng = np.random.default_rng(20240613)
out = {}


def cp(x):
    return np.array(x, copy=True)


# --- 1. functions -------------------------------------------------------------
N, K = 10, 6
gt = rng.uniform(0, 200, size=(N, K, 2)).astype(np.float32)
pred = (gt + rng.normal(0, 6, size=(N, K, 2))).astype(np.float32)
norm = rng.uniform(20, 60, size=(N, 2)).astype(np.float32)
norm[0] = 0.0
norm[1, 1] = 0.0
norm[2] = -5.0
# Threshold ties: distances of exactly 0.1 and 0.2 times the norm factor.
gt[3:6] = np.round(gt[3:6])
norm[3:6] = 50.0
pred[3, :, 0] = gt[3, :, 0] + 3.0
pred[3, :, 1] = gt[3, :, 1] + 4.0  # 5 px = 0.1 * 50
pred[4, :, 0] = gt[4, :, 0] + 6.0
pred[4, :, 1] = gt[4, :, 1] + 8.0  # 10 px = 0.2 * 50
pred[5, :, 0] = gt[5, :, 0] + 21.0
pred[5, :, 1] = gt[5, :, 1] + 28.0  # 35 px = 0.7 * 50 (float32(0.7) < 0.7)
mask = rng.uniform(size=(N, K)) > 0.2
mask[:, 5] = False
mask[3:6, :5] = True
thrs = np.array([0.05, 0.1, 0.2, 0.5, 0.7])
out.update(fn_pred=pred, fn_gt=gt, fn_mask=mask, fn_norm=norm, fn_thrs=thrs)
accs, avgs, cnts = [], [], []
for thr in thrs:
    acc, avg, cnt = keypoint_pck_accuracy(
        cp(pred), cp(gt), cp(mask), thr, cp(norm)
    )
    accs.append(acc)
    avgs.append(avg)
    cnts.append(cnt)
out["fn_pck_acc"] = np.array(accs, np.float64)
out["fn_pck_avg"] = np.array(avgs, np.float64)
out["fn_pck_cnt"] = np.array(cnts, np.int64)
acc, avg, cnt = keypoint_pck_accuracy(
    cp(pred), cp(gt), np.zeros_like(mask), 0.2, cp(norm)
)
out["fn_pck_empty_acc"] = np.array(acc, np.float64)
out["fn_pck_empty_avg"] = np.float64(avg)
out["fn_pck_empty_cnt"] = np.int64(cnt)

auc_cases = [(30, 20), (12.5, 7), (0, 20), (-5, 20), (200.0, 10)]
out["fn_auc_norm"] = np.array([c[0] for c in auc_cases], np.float64)
out["fn_auc_num_thrs"] = np.array([c[1] for c in auc_cases], np.int64)
out["fn_auc"] = np.array(
    [keypoint_auc(cp(pred), cp(gt), cp(mask), nf, nt) for nf, nt in auc_cases],
    np.float64,
)
out["fn_nme"] = np.float64(keypoint_nme(cp(pred), cp(gt), cp(mask), cp(norm)))
out["fn_nme_empty"] = np.float64(
    keypoint_nme(cp(pred), cp(gt), np.zeros_like(mask), cp(norm))
)
out["fn_epe"] = np.float64(keypoint_epe(cp(pred), cp(gt), cp(mask)))

gt3 = rng.normal(0, 300, size=(6, 17, 3)).astype(np.float32)
pred3 = (1.1 * gt3 + rng.normal(0, 40, size=(6, 17, 3))).astype(np.float32)
mask3 = rng.uniform(size=(6, 17)) > 0.15
out.update(fn3d_pred=pred3, fn3d_gt=gt3, fn3d_mask=mask3)
out["fn_epe3d"] = np.float64(keypoint_epe(cp(pred3), cp(gt3), cp(mask3)))
for dtype in ("float32", "float64"):
    out[f"fn_mpjpe_{dtype}"] = np.array(
        [
            keypoint_mpjpe(
                pred3.astype(dtype), gt3.astype(dtype), cp(mask3), alignment
            )
            for alignment in ("none", "procrustes", "scale")
        ],
        np.float64,
    )
src = rng.normal(size=(17, 3))
tgt = 0.7 * src @ np.linalg.qr(rng.normal(size=(3, 3)))[0] + 2.0
tgt += rng.normal(0, 0.05, size=tgt.shape)
out["fn_sim_src"], out["fn_sim_tgt"] = src, tgt
out["fn_sim_out"] = mesh_eval.compute_similarity_transform(cp(src), cp(tgt))


# --- 2. metric classes --------------------------------------------------------
_META_CACHE = {}


def metainfo(name):
    if name not in _META_CACHE:
        path = CONFIGS / "_base_" / "datasets" / f"{name}.py"
        _META_CACHE[name] = parse_pose_metainfo(dict(from_file=str(path)))
    return _META_CACHE[name]


def keypoints_2d(n, k, noise, scale=200.0):
    gt = rng.uniform(0, scale, size=(n, k, 2)).astype(np.float32)
    pred = (gt + rng.normal(0, noise, size=(n, k, 2))).astype(np.float32)
    visible = rng.choice(
        np.array([0.0, 0.5, 1.0], np.float32), size=(n, k), p=[0.2, 0.1, 0.7]
    )
    return pred, gt, visible


def boxes_around(gt):
    lo = gt.min(axis=1) - rng.uniform(2, 10, size=(gt.shape[0], 2))
    hi = gt.max(axis=1) + rng.uniform(2, 10, size=(gt.shape[0], 2))
    return np.concatenate([lo, hi], axis=1).astype(np.float32)


def run_metric(case, cfg, arrays, batches, meta="", data=None):
    """Runs an MMPose metric on per-instance data samples and stores all.

    ``data`` names an earlier case whose arrays are the same (stored once).
    """
    metric = METRICS.build(dict(cfg))
    if meta:
        metric.dataset_meta = metainfo(meta)
    n = len(arrays["pred"])
    assert sum(batches) == n, (case, batches, n)
    start = 0
    for size in batches:
        samples = []
        for i in range(start, start + size):
            samples.append(make_sample(arrays, i))
        metric.process([], samples)
        start += size
    result = metric.compute_metrics(metric.results)
    prefix = f"m_{case}_"
    out[prefix + "config"] = np.array(json.dumps(cfg))
    out[prefix + "meta"] = np.array(meta)
    out[prefix + "batches"] = np.array(batches, np.int64)
    out[prefix + "data"] = np.array(data or case)
    if data is None:
        for key, value in arrays.items():
            out[prefix + key] = value
    out[prefix + "keys"] = np.array(list(result))
    out[prefix + "values"] = np.array(
        [float(v) for v in result.values()], np.float64
    )
    print(case, {k: round(float(v), 6) for k, v in result.items()})


def make_sample(arrays, i):
    sl = slice(i, i + 1)
    if "lifting_target" in arrays:
        pred = arrays["pred"][sl]  # (1, T, K, 3): MMPose squeezes axis 0
        target = arrays["lifting_target"][i]
        visible = arrays["lifting_target_visible"][i]
        if target.ndim == 2:  # one frame: (1, K, 3), visibility (1, K, 1)
            target, visible = target[None], visible[None]
        return {
            "pred_instances": {"keypoints": pred},
            "gt_instances": {
                "lifting_target": target,
                "lifting_target_visible": visible,
            },
            "target_img_path": [str(arrays["target_img_path"][i])],
        }
    gt = {
        "keypoints": arrays["keypoints"][sl],
        "keypoints_visible": arrays["keypoints_visible"][sl],
    }
    if "bbox" in arrays:
        gt["bboxes"] = arrays["bbox"][sl]
    if "head_size" in arrays:
        gt["head_size"] = arrays["head_size"][sl].reshape(1, 1)
    if "box_size" in arrays:
        gt["box_size"] = arrays["box_size"][sl]
    return {
        "pred_instances": {"keypoints": arrays["pred"][sl]},
        "gt_instances": gt,
    }


# PCKAccuracy, bbox: one zero-size box.
p, g, v = keypoints_2d(12, 17, 8.0)
b = boxes_around(g)
b[2, 2:] = b[2, :2]
run_metric(
    "pck_bbox",
    dict(type="PCKAccuracy", thr=0.05),
    dict(pred=p, keypoints=g, keypoints_visible=v, bbox=b),
    [5, 7],
)

# PCKAccuracy with every item; zero head size; ground-truth torso < 1 px.
p, g, v = keypoints_2d(10, 15, 10.0)
b = boxes_around(g)
h = rng.uniform(15, 40, size=10).astype(np.float32)
h[4] = 0.0
g[6, 5] = g[6, 4] + 0.3
run_metric(
    "pck_all",
    dict(type="PCKAccuracy", thr=0.2, norm_item=["bbox", "head", "torso"]),
    dict(pred=p, keypoints=g, keypoints_visible=v, bbox=b, head_size=h),
    [4, 6],
)

# MPII PCKh table: 1-based ground truth, float64 head sizes (as MpiiDataset).
p, g, v = keypoints_2d(14, 16, 6.0)
g = g + 1.0
h = rng.uniform(15, 45, size=14)
run_metric(
    "mpii",
    dict(type="MpiiPCKAccuracy"),
    dict(pred=p, keypoints=g, keypoints_visible=v, head_size=h),
    [8, 6],
)
p, g, v = keypoints_2d(9, 16, 6.0)
h = rng.uniform(15, 45, size=9)
h[[1, 5]] = 0.0
v[:, 9] = 0.0  # head top never visible: PCKh -1 -> 'Head PCK' -100
run_metric(
    "mpii_degenerate",
    dict(type="MpiiPCKAccuracy", thr=0.3),
    dict(pred=p, keypoints=g, keypoints_visible=v, head_size=h),
    [9],
)

# JHMDB table.
p, g, v = keypoints_2d(11, 15, 9.0)
b = boxes_around(g)
g[3, 5] = g[3, 4]
v[:, 2] = 0.0  # head never visible -> 'Head PCK' -1
run_metric(
    "jhmdb",
    dict(type="JhmdbPCKAccuracy", thr=0.2, norm_item=["bbox", "torso"]),
    dict(pred=p, keypoints=g, keypoints_visible=v, bbox=b),
    [6, 5],
)

# AUC and EPE (hand-style, 21 keypoints).
p, g, v = keypoints_2d(12, 21, 7.0, scale=256.0)
arrays = dict(pred=p, keypoints=g, keypoints_visible=v)
run_metric("auc", dict(type="AUC"), arrays, [5, 7])
run_metric(
    "auc_10_7",
    dict(type="AUC", norm_factor=10, num_thrs=7),
    arrays,
    [12],
    data="auc",
)
run_metric("epe", dict(type="EPE"), arrays, [3, 9], data="auc")

# NME.
p, g, v = keypoints_2d(6, 98, 2.0, scale=256.0)
g[2, 72] = g[2, 60]  # zero inter-ocular distance: instance left out
run_metric(
    "nme_wflw",
    dict(type="NME", norm_mode="keypoint_distance"),
    dict(pred=p, keypoints=g, keypoints_visible=v),
    [4, 2],
    meta="wflw",
)
p, g, v = keypoints_2d(7, 17, 4.0)
run_metric(
    "nme_idx",
    dict(type="NME", norm_mode="keypoint_distance", keypoint_indices=[1, 2]),
    dict(pred=p, keypoints=g, keypoints_visible=v),
    [7],
    meta="coco",
)
p, g, v = keypoints_2d(8, 19, 5.0)
b = boxes_around(g)
run_metric(
    "nme_bbox",
    dict(type="NME", norm_mode="use_norm_item", norm_item="bbox_size"),
    dict(pred=p, keypoints=g, keypoints_visible=v, bbox=b),
    [3, 5],
)
s = rng.uniform(50, 150, size=8).astype(np.float32)
s[0] = 0.0
run_metric(
    "nme_item",
    dict(type="NME", norm_mode="use_norm_item", norm_item="box_size"),
    dict(pred=p, keypoints=g, keypoints_visible=v, box_size=s),
    [8],
)


# MPJPE on Human3.6M-like names.
def h36m_names(n):
    actions = ["Directions", "Directions_1", "Eating", "Greeting_1", "Walking"]
    names = []
    for i in range(n):
        subject = ("S9", "S11")[i % 2]
        action = actions[rng.integers(len(actions))]
        names.append(f"{subject}_{action}.54138969_{i:06d}.jpg")
    return np.array(names)


def poses_3d(n, frames=None):
    shape = (n, 17, 3) if frames is None else (n, frames, 17, 3)
    target = rng.normal(0, 300, size=shape).astype(np.float32)
    noise = rng.normal(0, 40, size=shape)
    pred = (0.9 * target + noise + 15.0).astype(np.float32)
    visible = (rng.uniform(size=shape[:-1]) > 0.1).astype(np.float32)
    return pred, target, visible


p, t, vis = poses_3d(12)
names = h36m_names(12)
arrays = dict(
    pred=p[:, None],  # (N, 1, K, 3), as lifting heads predict
    lifting_target=t,
    lifting_target_visible=vis[..., None],
    target_img_path=names,
)
run_metric("mpjpe", dict(type="MPJPE", mode="mpjpe"), arrays, [5, 7])
for case, mode in (("p_mpjpe", "p-mpjpe"), ("n_mpjpe", "n-mpjpe")):
    cfg = dict(type="MPJPE", mode=mode)
    run_metric(case, cfg, arrays, [5, 7], data="mpjpe")
run_metric(
    "mpjpe_skip",
    dict(type="MPJPE", mode="mpjpe", skip_list=["S9_Eating", "S11_Greeting_1"]),
    arrays,
    [12],
    data="mpjpe",
)
p, t, vis = poses_3d(5, frames=2)
run_metric(
    "p_mpjpe_frames",
    dict(type="MPJPE", mode="p-mpjpe"),
    dict(
        pred=p,
        lifting_target=t,
        lifting_target_visible=vis,
        target_img_path=h36m_names(5),
    ),
    [2, 3],
)

OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
np.savez_compressed(OUT_PATH, **out)
print(f"wrote {OUT_PATH} ({os.path.getsize(OUT_PATH)} bytes, {len(out)} keys)")

"""Generates tests/fixtures/mmpose_spr.npz with the real MMPose 1.3.2.

The DEKR pieces: the SPR codec (encode with both root types, with and
without keypoint heatmaps, default and explicit sigmas; decode of noisy
encoded maps), SoftWeightSmoothL1Loss and nearby_joints_nms.

Run from the repository root with the MMPose reference environment (see
../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_spr_fixtures.py ../shared/reference

Keys (maps as MMPose gives them, channels-first; the tests transpose):

- ``enc_keypoints`` (N, K, 2) / ``enc_visible`` (N, K): one image's
  instances in input pixels; ``enc_<tag>_{heatmaps,heatmap_weights,
  displacements,displacement_weights}`` for the codec args ``ENC_CASES``
  (``enc_empty_*``: no instance).
- ``dec_heatmaps`` (B, K+1, H, W) / ``dec_displacements`` (B, 2K, H, W)
  and ``dec_<tag>_{keypoints,root_scores,keypoint_scores}`` padded to
  ``DEC_MAX`` instances with ``dec_<tag>_count`` (B,);
  ``dec_<tag>_keypoint_scores`` is NaN where MMPose gives None.
- ``loss_<tag>_{output,target,weight,value}``.
- ``nms_kpts`` (N, K, 2), ``nms_scores`` (N, K), ``nms_<tag>_keep``.
"""

import sys

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.codecs  # noqa: E402,F401  (registers the codecs)
import mmpose.models  # noqa: E402,F401  (registers the losses)
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.evaluation.functional import nearby_joints_nms  # noqa: E402
from mmpose.registry import KEYPOINT_CODECS  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}

INPUT = (128, 96)
HEATMAP = (32, 24)
K = 5

# --- SPR encode ---------------------------------------------------------------
# Heatmap pixels = input pixels / 4.
kpts = np.array(
    [
        # 0: large, all visible; keypoint 2 exactly on a window pixel
        [[40.0, 20.0], [90.0, 30.0], [56.0, 40.0], [44.0, 80.0], [88.0, 76.0]],
        # 1: small, overlaps 0; keypoint 1 invisible (shared size map quirk)
        [[58.0, 36.0], [70.0, 38.0], [62.0, 52.0], [57.0, 58.0], [71.0, 57.0]],
        # 2: some invisible, one visible keypoint outside the image
        [[100.0, 10.0], [130.0, 20.0], [110.0, 30.0], [99.0, 44.5], [120, 50]],
        # 3: tiny (diagonal < 5 heatmap pixels)
        [[20.0, 60.0], [22.5, 62.0], [24.0, 61.0], [21.0, 66.0], [23.0, 64]],
        # 4: nothing visible
        [[30.0, 30.0], [31.0, 31.0], [32.0, 32.0], [33.0, 33.0], [34, 34]],
        # 5: visible keypoints left of the image: root outside the map
        [[-30.0, 50.0], [-10.0, 70.0], [-20.0, 90.0], [-6.0, 60.0], [5, 50]],
        # 6: middle-sized, overlaps 1 and 0, comes after 1
        [[54.0, 30.0], [76.0, 34.0], [66.0, 48.0], [50.0, 66.0], [80.0, 64]],
        # 7: near the bottom-right border, one keypoint on the border
        [[110.0, 80.0], [127.9, 95.9], [118.0, 88.0], [104.0, 94.0], [128, 96]],
    ],
    np.float32,
)
kpts[2] += rng.uniform(-1, 1, size=kpts[2].shape).astype(np.float32)
kpts[6] += rng.uniform(-1, 1, size=kpts[6].shape).astype(np.float32)
vis = np.ones(kpts.shape[:2], np.float32)
vis[1, 1] = 0
vis[2, [0, 3]] = 0
vis[4] = 0
vis[5, 4] = 0
vis[6, 2] = 0
out["enc_keypoints"] = kpts
out["enc_visible"] = vis

ENC_CASES = {
    "kpt_center": dict(sigma=(2, 1), generate_keypoint_heatmaps=True),
    "bbox_center": dict(
        sigma=(2.5, 1.5),
        generate_keypoint_heatmaps=True,
        root_type="bbox_center",
        minimal_diagonal_length=32**0.5,
    ),
    "root_only": dict(sigma=3),
    "auto_sigma": dict(),
    "bbox_bg": dict(sigma=1.7, root_type="bbox_center", background_weight=0.25),
}


def spr(**kwargs):
    return KEYPOINT_CODECS.build(
        dict(type="SPR", input_size=INPUT, heatmap_size=HEATMAP, **kwargs)
    )


ENC_KEYS = ("heatmaps", "heatmap_weights", "displacements")
for tag, cfg in ENC_CASES.items():
    enc = spr(**cfg).encode(kpts.copy(), vis.copy())
    for key in ENC_KEYS + ("displacement_weights",):
        out[f"enc_{tag}_{key}"] = enc[key].astype(np.float32)
enc = spr(**ENC_CASES["kpt_center"]).encode(
    np.zeros((0, K, 2), np.float32), np.zeros((0, K), np.float32)
)
for key in ENC_KEYS + ("displacement_weights",):
    out[f"enc_empty_{key}"] = enc[key].astype(np.float32)

# --- SPR decode ---------------------------------------------------------------
DEC_MAX = 30
scene_b = kpts[[0, 2, 7]] + rng.uniform(-3, 3, size=(3, K, 2)).astype(
    np.float32
)
scene_b[..., 0] = INPUT[0] - scene_b[..., 0]
codec = spr(**ENC_CASES["kpt_center"])
hms, disps = [], []
for scene, v in ((kpts, vis), (scene_b, np.ones(scene_b.shape[:2]))):
    enc = codec.encode(scene.copy(), v.astype(np.float32))
    hm = enc["heatmaps"] * 0.9 + rng.uniform(0, 0.02, enc["heatmaps"].shape)
    dp = enc["displacements"] + rng.normal(0, 0.3, enc["displacements"].shape)
    hms.append(hm.astype(np.float32))
    disps.append(dp.astype(np.float32))
out["dec_heatmaps"] = np.stack(hms)
out["dec_displacements"] = np.stack(disps)

DEC_CASES = {
    "default": dict(sigma=(2, 1), generate_keypoint_heatmaps=True),
    "top4_k3": dict(
        sigma=(2, 1),
        generate_keypoint_heatmaps=True,
        decode_max_instances=4,
        decode_nms_kernel=3,
    ),
    "thr_k7": dict(
        sigma=(2, 1),
        generate_keypoint_heatmaps=True,
        decode_thr=0.3,
        decode_nms_kernel=7,
    ),
    "root_only": dict(sigma=2),
}
for tag, cfg in DEC_CASES.items():
    codec = spr(**cfg)
    m = codec.decode_max_instances
    ks = np.zeros((2, m, K, 2), np.float32)
    rs = np.zeros((2, m), np.float32)
    ss = np.full((2, m, K), np.nan, np.float32)
    count = np.zeros((2,), np.int64)
    for b in range(2):
        hm = torch.from_numpy(out["dec_heatmaps"][b])
        if not codec.generate_keypoint_heatmaps:
            hm = hm[-1:]
        dp = torch.from_numpy(out["dec_displacements"][b])
        keypoints, (root_scores, keypoint_scores) = codec.decode(hm, dp)
        n = len(keypoints)
        count[b] = n
        ks[b, :n] = keypoints.numpy()
        rs[b, :n] = root_scores.numpy()
        if keypoint_scores is not None:
            ss[b, :n] = keypoint_scores.numpy()
    out[f"dec_{tag}_keypoints"] = ks
    out[f"dec_{tag}_root_scores"] = rs
    out[f"dec_{tag}_keypoint_scores"] = ss
    out[f"dec_{tag}_count"] = count

# --- SoftWeightSmoothL1Loss ------------------------------------------------
LOSS_CASES = {
    "plain": (dict(), (2, 6, 4, 5), None),
    "weighted_empty": (
        dict(use_target_weight=True, beta=0.5, loss_weight=3.0),
        (2, 6, 4, 5),
        (2, 6, 4, 5),
    ),
    "dekr": (
        dict(
            use_target_weight=True,
            supervise_empty=False,
            beta=1 / 9,
            loss_weight=0.002,
        ),
        (2, 6, 4, 5),
        (2, 6, 4, 5),
    ),
    "broadcast": (
        dict(use_target_weight=True, supervise_empty=False, beta=2.0),
        (4, 5, 2),
        (4, 5),
    ),
    "no_weight_beta": (dict(beta=0.25, loss_weight=0.5), (3, 4, 2), None),
}
for tag, (cfg, shape, wshape) in LOSS_CASES.items():
    loss = MODELS.build(dict(type="SoftWeightSmoothL1Loss", **cfg))
    output = rng.normal(0, 1.5, shape).astype(np.float32)
    target = rng.normal(0, 1.5, shape).astype(np.float32)
    out[f"loss_{tag}_output"] = output
    out[f"loss_{tag}_target"] = target
    weight = None
    if wshape is not None:
        weight = rng.uniform(0, 1, wshape).astype(np.float32)
        weight[rng.uniform(size=wshape) < 0.4] = 0
        out[f"loss_{tag}_weight"] = weight
        weight = torch.from_numpy(weight)
    value = loss(torch.from_numpy(output), torch.from_numpy(target), weight)
    out[f"loss_{tag}_value"] = np.float32(value.item())

# --- nearby_joints_nms -----------------------------------------------------
base = rng.uniform(0, 100, size=(4, K, 2))
nms_kpts = np.concatenate(
    [
        base,
        base[[0, 0, 1]] + rng.normal(0, 0.8, size=(3, K, 2)),  # duplicates
        base[[2]] + rng.normal(0, 6.0, size=(1, K, 2)),  # loosely close
        base[[3]] * 0.5 + 20,  # unrelated
    ]
).astype(np.float32)
nms_scores = rng.uniform(0.05, 1.0, size=(len(nms_kpts), K)).astype(np.float32)
out["nms_kpts"] = nms_kpts
out["nms_scores"] = nms_scores
NMS_CASES = {
    "default": dict(score_per_joint=True),
    "dist02": dict(dist_thr=0.2, score_per_joint=True),
    "joints1": dict(
        dist_thr=0.1, num_nearby_joints_thr=1, score_per_joint=True
    ),
    "max3": dict(dist_thr=0.2, score_per_joint=True, max_dets=3),
    "instance_scores": dict(dist_thr=0.1, max_dets=4),
}
for tag, cfg in NMS_CASES.items():
    if cfg.get("score_per_joint"):
        db = [dict(keypoints=k, score=s) for k, s in zip(nms_kpts, nms_scores)]
    else:
        db = [
            dict(keypoints=k, score=s.mean())
            for k, s in zip(nms_kpts, nms_scores)
        ]
    keep = nearby_joints_nms(db, **cfg)
    out[f"nms_{tag}_keep"] = np.asarray(keep, np.int64)

np.savez_compressed("tests/fixtures/mmpose_spr.npz", **out)
print(
    "wrote tests/fixtures/mmpose_spr.npz with",
    len(out),
    "arrays; decode counts:",
    {t: out[f"dec_{t}_count"].tolist() for t in DEC_CASES},
    "nms:",
    {t: out[f"nms_{t}_keep"].tolist() for t in NMS_CASES},
)

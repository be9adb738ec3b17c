"""Generates tests/fixtures/mmpose_lifting.npz with the real MMPose 1.3.2.

The 2D-to-3D lifting codecs ``ImagePoseLifting`` and ``VideoPoseLifting``
(encode for the option combinations of MMPose's codec tests and configs,
decode per sample as MMPose's heads call it) and the losses ``MPJPELoss``
(values and gradients) and ``MSELoss`` on lifting-shaped inputs.

Run with the MMPose reference environment from the repository root:

    $REF/bin/python tools/make_mmpose_lifting_fixtures.py ../shared/reference

Keys are ``<case>:<name>``; ``<case>:cfg`` holds the codec config as JSON.
``keypoint_labels`` are stored in MMPose's layout ((K * C, T) with
``reshape_keypoints``); the tests convert.
"""

import json
import pickle
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.codecs  # noqa: E402,F401  (registers the codecs)
import mmpose.models  # noqa: E402,F401  (registers the losses)
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.registry import KEYPOINT_CODECS  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

init_default_scope("mmpose")
rng = np.random.default_rng(0)
out = {}
ROOT = Path(__file__).resolve().parents[1]
K = 6


def f32(x):
    return np.asarray(x, dtype=np.float32)


def store(case, name, value):
    if isinstance(value, bool | int | float):
        value = np.asarray(value)
    out[f"{case}:{name}"] = np.asarray(value)


def sample(frames=1, target_frames=1, k=K):
    kpts = f32(rng.uniform(-20, 1020, size=(frames, k, 2)))
    kpts[0, 1] = [-35.0, 1100.0]  # outside the image
    vis = f32(rng.uniform(size=(frames, k)) > 0.3)
    vis[0, 1] = 0.0
    target = f32(rng.normal(size=(target_frames, k, 3)) * 0.5)
    target[..., 2] += 5.0  # depth away from 0 (1 / z trajectory weights)
    tvis = f32(rng.uniform(size=(target_frames, k)))
    tvis[0, 2] = 0.5  # not > 0.5
    tvis[0, 3] = 0.0
    return kpts, vis, target, tvis


def encode_case(case, cfg, kpts, vis, target, tvis, camera=None):
    codec = KEYPOINT_CODECS.build(dict(cfg))
    store(case, "cfg", json.dumps(cfg))
    store(case, "keypoints", kpts)
    if vis is not None:
        store(case, "keypoints_visible", vis)
    store(case, "lifting_target", target)
    if tvis is not None:
        store(case, "lifting_target_visible", tvis)
    args = [kpts, vis, target, tvis]
    if camera is not None:
        args.append(camera)
    enc = codec.encode(*args)
    for key, value in enc.items():
        if key == "camera_param":
            store(case, "camera_param_f", value["f"])
            store(case, "camera_param_c", value["c"])
        else:
            store(case, f"enc_{key}", value)


def decode_case(case, cfg, encoded, roots):
    """MMPose's per-sample decode as ``BaseHead.decode`` calls it."""
    codec = KEYPOINT_CODECS.build(dict(cfg))
    store(case, "cfg", json.dumps(cfg))
    store(case, "encoded", encoded)
    kpts, scores = [], []
    for i in range(len(encoded)):
        root = None if roots is None else roots[i : i + 1]
        k_, s_ = codec.decode(encoded[i : i + 1], target_root=root)
        kpts.append(k_)
        scores.append(s_)
    if roots is not None:
        store(case, "target_root", roots)
    store(case, "keypoints", np.concatenate(kpts))
    store(case, "scores", np.concatenate(scores))


# --- ImagePoseLifting ---------------------------------------------------------
IMG = dict(type="ImagePoseLifting", num_keypoints=K)
kmean = f32(rng.uniform(300, 600, size=(K, 2)))
kstd = f32(rng.uniform(50, 150, size=(K, 2)))
tmean = f32(rng.normal(size=(K, 3)) * 0.1)
tstd = f32(rng.uniform(0.05, 0.3, size=(K, 3)))
image_cases = {
    "img_default": dict(IMG, root_index=0),
    "img_remove_root": dict(
        IMG, root_index=0, remove_root=True, save_index=True
    ),
    "img_root2": dict(IMG, root_index=2),
    "img_roots": dict(IMG, root_index=[1, 3, 4], remove_root=True),
    "img_concat_vis": dict(IMG, concat_vis=True),
    "img_no_reshape": dict(IMG, reshape_keypoints=False, concat_vis=True),
    "img_norm": dict(
        IMG,
        keypoints_mean=kmean.tolist(),
        keypoints_std=kstd.tolist(),
        target_mean=tmean.tolist(),
        target_std=tstd.tolist(),
    ),
    "img_norm_remove_root": dict(
        IMG,
        remove_root=True,
        keypoints_mean=kmean.tolist(),
        keypoints_std=kstd.tolist(),
        target_mean=tmean[1:].tolist(),
        target_std=tstd[1:].tolist(),
    ),
}
for case, cfg in image_cases.items():
    encode_case(case, cfg, *sample())
# no target visibility: MMPose's 1 / lifting_target[:, 2] trajectory weights
kpts, vis, target, _ = sample()
encode_case("img_no_tvis", dict(IMG), kpts, vis, target, None)
encode_case(
    "img_no_tvis_remove_root",
    dict(IMG, remove_root=True),
    kpts,
    vis,
    target,
    None,
)
# no keypoint visibility, three input frames
kpts, _, target, tvis = sample(frames=3)
encode_case("img_no_vis", dict(IMG, concat_vis=True), kpts, None, target, tvis)
# a (K, 3) target with (K,) visibility
kpts, vis, target, tvis = sample()
encode_case(
    "img_target_2d", dict(IMG, root_index=1), kpts, vis, target[0], tvis[0]
)

B = 3
enc17 = f32(rng.normal(size=(B, K, 3)))
enc16 = f32(rng.normal(size=(B, K - 1, 3)))
roots = f32(rng.normal(size=(B, 1, 3)))
decode_case("imgdec_default", dict(IMG), enc17, roots)
decode_case("imgdec_no_root", dict(IMG), enc17, None)
decode_case("imgdec_empty_root", dict(IMG), enc17, np.zeros((B, 0), "f4"))
decode_case("imgdec_remove_root", dict(IMG, remove_root=True), enc16, roots)
decode_case(
    "imgdec_remove_root3",
    dict(IMG, root_index=3, remove_root=True),
    enc16,
    roots,
)
decode_case("imgdec_norm", image_cases["img_norm"], enc17, roots)
decode_case(
    "imgdec_norm_remove_root", image_cases["img_norm_remove_root"], enc16, roots
)
decode_case(
    "imgdec_norm_no_root", image_cases["img_norm_remove_root"], enc16, None
)

# --- VideoPoseLifting ---------------------------------------------------------
with open(ROOT.parent / "shared/data/h36m/cameras.pkl", "rb") as f:
    cameras = pickle.load(f)
camera = dict(cameras[("S1", "54138969")])
store("camera", "w", camera["w"])
store("camera", "h", camera["h"])
store("camera", "f", camera["f"])
store("camera", "c", camera["c"])
VID = dict(type="VideoPoseLifting", num_keypoints=K)
video_cases = {
    "vid_default": dict(VID),
    "vid_no_zero_center": dict(VID, zero_center=False, remove_root=True),
    "vid_remove_root": dict(VID, remove_root=True, save_index=True),
    "vid_normalize_camera": dict(VID, normalize_camera=True),
    "vid_concat_vis": dict(VID, concat_vis=True),
    "vid_roots": dict(VID, root_index=[0, 2], remove_root=True),
    "vid_no_reshape": dict(VID, reshape_keypoints=False),
}
for case, cfg in video_cases.items():
    encode_case(case, cfg, *sample(frames=5), camera=camera)
kpts, vis, target, _ = sample(frames=5)
encode_case(
    "vid_no_tvis",
    dict(VID, remove_root=True),
    kpts,
    vis,
    target,
    None,
    camera=camera,
)
kpts, _, target, tvis = sample(frames=4)
encode_case(
    "vid_no_vis",
    dict(VID, concat_vis=True),
    kpts,
    None,
    target,
    tvis,
    camera=camera,
)
# MMPose's multiple_target: T target frames
kpts, vis, target, tvis = sample(frames=4, target_frames=4)
encode_case(
    "vid_multi_target",
    dict(VID, root_index=2, remove_root=True, save_index=True),
    kpts,
    vis,
    target,
    tvis,
    camera=camera,
)

decode_case("viddec_default", dict(VID), enc17, roots)
decode_case("viddec_no_root", dict(VID, remove_root=True), enc16, None)
decode_case("viddec_remove_root", dict(VID, remove_root=True), enc16, roots)
decode_case(
    "viddec_remove_root4",
    dict(VID, root_index=4, remove_root=True),
    enc16,
    roots,
)
decode_case(
    "viddec_roots", dict(VID, root_index=[0, 1], remove_root=True), enc17, roots
)

# --- MPJPELoss / MSELoss ------------------------------------------------------
pred = f32(rng.normal(size=(4, K, 3)))
gt = f32(rng.normal(size=(4, K, 3)))
gt[0, :2] = pred[0, :2]  # zero differences: finite (zero) gradients
w = f32(rng.uniform(size=(4, K)) > 0.3)
w[1, 0] = 0.5
out["loss_pred"] = pred
out["loss_target"] = gt
out["loss_weight"] = w
for utw in (0, 1):
    for name, cfg in (
        (
            "mpjpe",
            dict(
                type="MPJPELoss", use_target_weight=bool(utw), loss_weight=0.7
            ),
        ),
        (
            "mse",
            dict(type="MSELoss", use_target_weight=bool(utw), loss_weight=0.7),
        ),
    ):
        loss = MODELS.build(cfg)
        p = torch.from_numpy(pred).requires_grad_(True)
        value = loss(
            p,
            torch.from_numpy(gt),
            torch.from_numpy(w).unsqueeze(-1) if utw else None,
        )
        value.backward()
        out[f"{name}_{utw}"] = f32(value.detach().numpy())
        out[f"{name}_{utw}_grad"] = f32(p.grad.numpy())

path = ROOT / "tests/fixtures/mmpose_lifting.npz"
np.savez_compressed(path, **out)
print(path, path.stat().st_size, "bytes,", len(out), "arrays")

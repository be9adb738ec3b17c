"""Generates tests/fixtures/mmpose_heatmap.npz with the real MMPose 1.3.2.

UDPHeatmap (gaussian and combined), MegviiHeatmap, OpenCV's GaussianBlur,
KeypointOHKMMSELoss, CombinedTargetMSELoss, AdaptiveWingLoss and
``flip_heatmaps(flip_mode='udp_combined')``. Run with the MMPose reference
environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_heatmap_fixtures.py ../shared/reference

Everything is channels-first as MMPose produces it; the tests transpose.
"""

import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.codecs  # noqa: E402,F401  (registers the codecs)
import mmpose.models  # noqa: E402,F401  (registers models and losses)
from mmpose.models.utils.tta import flip_heatmaps  # noqa: E402
from mmpose.registry import KEYPOINT_CODECS  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

rng = np.random.default_rng(0)
out = {}
INPUT, HEATMAP, K = (64, 80), (16, 20), 6


def codec(type_, **kwargs):
    return KEYPOINT_CODECS.build(
        dict(type=type_, input_size=INPUT, heatmap_size=HEATMAP, **kwargs)
    )


def encode_all(c, kpts, vis):
    hms, ws = [], []
    for k_, v_ in zip(kpts, vis):
        enc = c.encode(k_.copy(), v_.copy())
        hms.append(enc["heatmaps"])
        ws.append(enc["keypoint_weights"])
    return np.stack(hms), np.stack(ws)


# --- encode inputs: border, outside, invisible, negative keypoints --------
kpts = rng.uniform(-8, 72, size=(3, 1, K, 2)).astype(np.float32)
kpts[0, 0, 0] = [0.0, 0.0]  # on the border
kpts[0, 0, 1] = [63.0, 79.0]  # opposite border (UDP: last pixel centre)
kpts[0, 0, 2] = [-30.0, 10.0]  # far left: window outside -> weight 0
kpts[0, 0, 3] = [10.0, 130.0]  # far below
kpts[0, 0, 4] = [-3.1, -2.2]  # slightly outside: trunc toward zero
kpts[0, 0, 5] = [64.5, 40.2]  # just right of the image
kpts[1, 0, 0] = [-0.5, 3.0]  # Megvii: int(-0.125) == 0 -> inside
kpts[1, 0, 1] = [31.5, 39.9]  # about x.5 after UDP scaling
vis = (rng.uniform(size=(3, 1, K)) > 0.2).astype(np.float32)
vis[0, 0, :6] = 1.0
vis[1, 0, :2] = 1.0
vis[2, 0, 0] = 0.0
vis[2, 0, 1] = 2.0  # weights keep the visibility value
out["enc_keypoints"] = kpts
out["enc_visible"] = vis

for tag, sigma in (("s2", 2.0), ("s15", 1.5), ("s3", 3.0)):
    hm, w = encode_all(codec("UDPHeatmap", sigma=sigma), kpts, vis)
    out[f"udp_gauss_{tag}_heatmaps"] = hm
    out[f"udp_gauss_{tag}_weights"] = w
for tag, rf in (("default", 0.0546875), ("r15", 0.15)):
    hm, w = encode_all(
        codec("UDPHeatmap", heatmap_type="combined", radius_factor=rf),
        kpts,
        vis,
    )
    out[f"udp_comb_{tag}_heatmaps"] = hm
    out[f"udp_comb_{tag}_weights"] = w
for ks in (11, 5, 3, 9, 23):
    hm, w = encode_all(codec("MegviiHeatmap", kernel_size=ks), kpts, vis)
    out[f"megvii_k{ks}_heatmaps"] = hm
    out[f"megvii_k{ks}_weights"] = w

# --- decode: smooth, realistic maps (peaks + smooth perturbation) ----------
# Pixel noise makes DARK's Hessian ill-conditioned (the result then depends
# on float32 rounding inside OpenCV); network outputs are smooth.
dec_kpts = rng.uniform(4, 60, size=(2, 1, K, 2)).astype(np.float32)
dec_kpts[0, 0, 1] = [1.0, 40.0]  # maximum near the left border
dec_kpts[1, 0, 2] = [62.5, 78.0]  # near the bottom-right corner
shift = rng.uniform(-6, 6, size=(2, 1, K, 2)).astype(np.float32)
ones = np.ones((1, K), np.float32)
udp2 = codec("UDPHeatmap", sigma=2.0)
udp4 = codec("UDPHeatmap", sigma=4.0)
sharp = np.stack([udp2.encode(k_, ones)["heatmaps"] for k_ in dec_kpts])
wide = np.stack(
    [udp4.encode(k_ + s_, ones)["heatmaps"] for k_, s_ in zip(dec_kpts, shift)]
)
gauss = 0.8 * sharp + 0.3 * wide + 0.01
gauss[0, 0] = -0.5 * gauss[0, 0]  # no positive maximum (first keypoint)
gauss[1, 3] = gauss[1, 3] - 2.0  # no positive maximum (middle keypoint)
gauss = gauss.astype(np.float32)
out["dec_udp_gauss_heatmaps"] = gauss
for tag, bks in (("b11", 11), ("b7", 7)):
    c = codec("UDPHeatmap", sigma=2.0, blur_kernel_size=bks)
    kk, ss = zip(*[c.decode(h.copy()) for h in gauss])
    out[f"dec_udp_gauss_{tag}_keypoints"] = np.concatenate(kk)
    out[f"dec_udp_gauss_{tag}_scores"] = np.concatenate(ss)


def combined_inputs(heatmap_size, radius_factor):
    c = KEYPOINT_CODECS.build(
        dict(
            type="UDPHeatmap",
            input_size=INPUT,
            heatmap_size=heatmap_size,
            heatmap_type="combined",
            radius_factor=radius_factor,
        )
    )
    g = KEYPOINT_CODECS.build(
        dict(
            type="UDPHeatmap",
            input_size=INPUT,
            heatmap_size=heatmap_size,
            sigma=1.5,
        )
    )
    maps = []
    for i, k_ in enumerate(dec_kpts):
        enc = c.encode(k_, ones)["heatmaps"].reshape(K, 3, *heatmap_size[::-1])
        bump = g.encode(k_ + 0.3 * shift[i], ones)["heatmaps"]
        W, H = heatmap_size
        yy, xx = np.mgrid[:H, :W]
        wave = np.sin(0.3 * xx + 0.2 * yy + i)[None]
        enc[:, 0] = 0.7 * enc[:, 0] + 0.5 * bump + 0.02 * wave
        enc[:, 1] += 0.05 * wave
        enc[:, 2] -= 0.04 * wave
        maps.append(enc.reshape(3 * K, H, W))
    maps = np.stack(maps).astype(np.float32)
    maps[0, 0] = -1.0 - np.abs(maps[0, 0])  # first keypoint: no maximum
    maps[1, 3 * 4] = -0.5  # keypoint 4: no maximum
    kk, ss = zip(*[c.decode(m.copy()) for m in maps])
    return maps, np.concatenate(kk), np.concatenate(ss)


for tag, size, rf in (
    ("default", HEATMAP, 0.0546875),
    ("small", (8, 10), 0.15),  # blur kernel (23) larger than the map
):
    maps, kk, ss = combined_inputs(size, rf)
    out[f"dec_udp_comb_{tag}_heatmaps"] = maps
    out[f"dec_udp_comb_{tag}_keypoints"] = kk
    out[f"dec_udp_comb_{tag}_scores"] = ss

mg11 = codec("MegviiHeatmap", kernel_size=11)
mg17 = codec("MegviiHeatmap", kernel_size=17)
mega = np.stack([mg11.encode(k_, ones)["heatmaps"] for k_ in dec_kpts])
megb = np.stack(
    [mg17.encode(k_ + s_, ones)["heatmaps"] for k_, s_ in zip(dec_kpts, shift)]
)
# a gentle ramp breaks exact ties between neighbours (sign(0) is fragile)
ramp = 0.02 * np.arange(HEATMAP[0]) + 0.013 * np.arange(HEATMAP[1])[:, None]
mheat = (0.8 * mega + 0.3 * megb + 1.0 + ramp).astype(np.float32)
mheat[1, 3] = -mheat[1, 3]  # no positive maximum
mheat[0, 5] = 1.0
mheat[0, 5, 7, 1] = 200.0  # x == 1: not refined
mheat[0, 5, 7, 2] = 150.0
out["dec_megvii_heatmaps"] = mheat
for ks in (11, 9, 5):
    c = codec("MegviiHeatmap", kernel_size=ks)
    kk, ss = zip(*[c.decode(h.copy()) for h in mheat])
    out[f"dec_megvii_k{ks}_keypoints"] = np.concatenate(kk)
    out[f"dec_megvii_k{ks}_scores"] = np.concatenate(ss)

# --- cv2.GaussianBlur itself (BORDER_REFLECT_101), kernels beyond the map --
blur_in = rng.uniform(size=(5, 7)).astype(np.float32)
out["cv_blur_input"] = blur_in
for ks in (3, 5, 7, 9, 11, 23):
    out[f"cv_blur_k{ks}"] = cv2.GaussianBlur(blur_in, (ks, ks), 0)

# --- losses -----------------------------------------------------------------
B, KL, H, W = 3, 10, 8, 6
lo = rng.uniform(size=(B, KL, H, W)).astype(np.float32)
lt = rng.uniform(size=(B, KL, H, W)).astype(np.float32)
lw = (rng.uniform(size=(B, KL)) > 0.3).astype(np.float32)
lw[0, 0] = 0.5
out.update(ohkm_output=lo, ohkm_target=lt, ohkm_weights=lw)
t = [torch.tensor(a) for a in (lo, lt, lw)]
for topk in (1, 4, 10):
    for utw in (False, True):
        loss = MODELS.build(
            dict(
                type="KeypointOHKMMSELoss",
                use_target_weight=utw,
                topk=topk,
                loss_weight=0.7,
            )
        )
        out[f"ohkm_t{topk}_{int(utw)}"] = loss(*t).numpy()

KC = 4
for bsz in (2, 1):
    co = rng.normal(size=(bsz, 3 * KC, H, W)).astype(np.float32)
    ct = rng.normal(size=(bsz, 3 * KC, H, W)).astype(np.float32)
    ct[:, 0::3] = (rng.uniform(size=(bsz, KC, H, W)) > 0.6).astype(np.float32)
    cw = (rng.uniform(size=(bsz, KC)) > 0.3).astype(np.float32)
    cw[0, 0] = 0.5
    out.update(
        {f"comb_b{bsz}_output": co, f"comb_b{bsz}_target": ct}
        | {f"comb_b{bsz}_weights": cw}
    )
    for utw in (False, True):
        loss = MODELS.build(
            dict(
                type="CombinedTargetMSELoss",
                use_target_weight=utw,
                loss_weight=0.3,
            )
        )
        value = loss(torch.tensor(co), torch.tensor(ct), torch.tensor(cw))
        out[f"comb_b{bsz}_{int(utw)}"] = value.numpy()

at = np.clip(
    rng.uniform(-0.2, 1.0, size=(2, KC, H, W)).astype(np.float32), 0, 1
)
ao = (at + rng.normal(scale=0.6, size=at.shape)).astype(np.float32)
ao[0, 0, 0, :3] = at[0, 0, 0, :3]  # delta == 0
aw = (rng.uniform(size=(2, KC)) > 0.3).astype(np.float32)
aw[1, 1] = 0.25
aw4 = rng.uniform(size=at.shape).astype(np.float32)
out.update(awing_output=ao, awing_target=at, awing_weights=aw)
out["awing_weights4"] = aw4
for tag, cfg in (
    ("default", dict()),
    ("custom", dict(alpha=2.5, omega=10, epsilon=2, theta=0.3)),
):
    for utw in (False, True):
        loss = MODELS.build(
            dict(
                type="AdaptiveWingLoss",
                use_target_weight=utw,
                loss_weight=1.5,
                **cfg,
            )
        )
        args = [torch.tensor(ao), torch.tensor(at), torch.tensor(aw)]
        out[f"awing_{tag}_{int(utw)}"] = loss(*args).numpy()
        if utw:
            args[2] = torch.tensor(aw4)
            out[f"awing_{tag}_pixel"] = loss(*args).numpy()

# --- flip_heatmaps(flip_mode="udp_combined") --------------------------------
fl = rng.normal(size=(2, 3 * KC, 6, 5)).astype(np.float32)
out["flip_input"] = fl
out["flip_indices"] = np.array([1, 0, 2, 3])
for shift_ in (False, True):
    flipped = flip_heatmaps(
        torch.tensor(fl),
        flip_indices=[1, 0, 2, 3],
        flip_mode="udp_combined",
        shift_heatmap=shift_,
    )
    out[f"flip_udp_combined_{int(shift_)}"] = flipped.numpy()

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
path.mkdir(parents=True, exist_ok=True)
np.savez_compressed(path / "mmpose_heatmap.npz", **out)
print("wrote", path / "mmpose_heatmap.npz", len(out), "arrays")

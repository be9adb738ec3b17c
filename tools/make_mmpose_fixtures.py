"""Generates tests/fixtures/mmpose_foundation.npz with the real MMPose 1.3.2.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_fixtures.py ../shared/reference

Everything is channels-first as MMPose produces it; the tests transpose.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.codecs  # noqa: E402,F401  (registers the codecs)
import mmpose.models  # noqa: E402,F401  (registers models and losses)
from mmpose.evaluation.functional import pose_pck_accuracy  # noqa: E402
from mmpose.models.utils.tta import flip_heatmaps  # noqa: E402
from mmpose.registry import KEYPOINT_CODECS  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

rng = np.random.default_rng(0)
out = {}
INPUT, HEATMAP, K = (64, 80), (16, 20), 17

# --- MSRAHeatmap encode / decode -------------------------------------------
kpts = rng.uniform(-8, 72, size=(4, 1, K, 2)).astype(np.float32)
kpts[0, 0, 0] = [0.2, 0.3]
kpts[0, 0, 1] = [63.9, 79.9]
kpts[0, 0, 2] = [-30.0, 10.0]  # window fully outside -> weight 0
kpts[0, 0, 3] = [10.0, 110.0]  # outside
kpts[0, 0, 4] = [1.875, 2.125]  # exact .5 boundaries after scaling
vis = (rng.uniform(size=(4, 1, K)) > 0.15).astype(np.float32)
out["enc_keypoints"] = kpts
out["enc_visible"] = vis
for tag, cfg in {
    "msra": dict(sigma=2),
    "msra_s15": dict(sigma=1.5),
    "dark": dict(sigma=2, unbiased=True),
}.items():
    codec = KEYPOINT_CODECS.build(
        dict(type="MSRAHeatmap", input_size=INPUT, heatmap_size=HEATMAP, **cfg)
    )
    hms, ws = [], []
    for k_, v_ in zip(kpts, vis):
        enc = codec.encode(k_, v_)
        hms.append(enc["heatmaps"])
        ws.append(enc["keypoint_weights"])
    out[f"enc_{tag}_heatmaps"] = np.stack(hms)
    out[f"enc_{tag}_weights"] = np.stack(ws)

# Decode: Gaussian targets + noise, plus an all-zero and a border case.
base = out["enc_msra_heatmaps"][:2].copy()
# Smooth perturbations, like real network outputs: a weaker, wider Gaussian
# at a shifted location plus an offset. (Pixel-wise noise makes DARK's
# Hessian ill-conditioned: the result then depends on float32 rounding inside
# OpenCV's blur, which no other implementation reproduces bit for bit.)
wide_codec = KEYPOINT_CODECS.build(
    dict(type="MSRAHeatmap", input_size=INPUT, heatmap_size=HEATMAP, sigma=4)
)
shift = rng.uniform(-6, 6, size=(2, 1, K, 2)).astype(np.float32)
wide = np.stack(
    [wide_codec.encode(kpts[i] + shift[i])["heatmaps"] for i in range(2)]
)
noisy = 0.8 * base + 0.3 * wide + 0.01
noisy[0, 5] = 0.0  # all-zero channel -> (-1, -1)
noisy[1, 6] = 0.0
noisy[1, 6, 0, 0] = 1.0  # maximum at a corner
noisy[1, 7] = 0.0
noisy[1, 7, 10, 1] = 1.0  # x == 1 (MMPose's `1 < x` quirk)
noisy[1, 7, 10, 2] = 0.5
out["dec_heatmaps"] = noisy.astype(np.float32)
for tag, cfg in {
    "msra": dict(sigma=2),
    "dark": dict(sigma=2, unbiased=True),
    "dark7": dict(sigma=2, unbiased=True, blur_kernel_size=7),
}.items():
    codec = KEYPOINT_CODECS.build(
        dict(type="MSRAHeatmap", input_size=INPUT, heatmap_size=HEATMAP, **cfg)
    )
    ks, ss = [], []
    for hm in noisy:
        k_, s_ = codec.decode(hm.copy())
        ks.append(k_[0])
        ss.append(s_[0])
    out[f"dec_{tag}_keypoints"] = np.stack(ks).astype(np.float32)
    out[f"dec_{tag}_scores"] = np.stack(ss).astype(np.float32)
# DARK decode of smooth (noise-free) sub-pixel targets
smooth = out["enc_dark_heatmaps"][:2].copy()  # the test slices it too
codec = KEYPOINT_CODECS.build(
    dict(
        type="MSRAHeatmap",
        input_size=INPUT,
        heatmap_size=HEATMAP,
        sigma=2,
        unbiased=True,
    )
)
out["dec_smooth_keypoints"] = np.stack(
    [codec.decode(h.copy())[0][0] for h in smooth]
).astype(np.float32)

# --- KeypointMSELoss -------------------------------------------------------
output = rng.normal(size=(3, K, 8, 6)).astype(np.float32)
target = np.abs(rng.normal(size=(3, K, 8, 6))).astype(np.float32)
target[0, 3] = 0.0  # empty channel
weights = (rng.uniform(size=(3, K)) > 0.3).astype(np.float32)
out["mse_output"], out["mse_target"], out["mse_weights"] = (
    output,
    target,
    weights,
)
for utw in (False, True):
    for sec in (False, True):
        loss = MODELS.build(
            dict(
                type="KeypointMSELoss",
                use_target_weight=utw,
                skip_empty_channel=sec,
                loss_weight=0.7,
            )
        )
        val = loss(
            torch.tensor(output), torch.tensor(target), torch.tensor(weights)
        )
        out[f"mse_{int(utw)}{int(sec)}"] = np.float32(val.item())

# --- BCELoss ---------------------------------------------------------------
logits = rng.normal(size=(4, K)).astype(np.float32)
labels = (rng.uniform(size=(4, K)) > 0.4).astype(np.float32)
bw = rng.uniform(size=(4, K)).astype(np.float32)
out["bce_logits"], out["bce_labels"], out["bce_weights"] = logits, labels, bw
for sig in (False, True):
    for utw in (False, True):
        loss = MODELS.build(
            dict(type="BCELoss", use_sigmoid=sig, use_target_weight=utw)
        )
        inp = (
            torch.sigmoid(torch.tensor(logits)) if sig else torch.tensor(logits)
        )
        val = loss(inp, torch.tensor(labels), torch.tensor(bw) if utw else None)
        out[f"bce_{int(sig)}{int(utw)}"] = np.float32(val.item())

# --- flip_heatmaps ---------------------------------------------------------
coco_flip = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
hm = rng.normal(size=(1, K, 4, 6)).astype(np.float32)
out["flip_input"] = hm
out["flip_indices"] = np.array(coco_flip)
for shift in (False, True):
    res = flip_heatmaps(torch.tensor(hm), coco_flip, "heatmap", shift)
    out[f"flip_heatmap_{int(shift)}"] = res.numpy()
hm3 = rng.normal(size=(1, 3 * K, 4, 6)).astype(np.float32)
out["flip_udp_input"] = hm3
out["flip_udp"] = flip_heatmaps(
    torch.tensor(hm3), coco_flip, "udp_combined", True
).numpy()
hm2 = rng.normal(size=(1, 2 * K, 4, 6)).astype(np.float32)
out["flip_offset_input"] = hm2
out["flip_offset"] = flip_heatmaps(
    torch.tensor(hm2), coco_flip, "offset", False
).numpy()

# --- acc_pose (pose_pck_accuracy) -------------------------------------------
# predictions: the noisy decode inputs; targets: the clean MSRA targets of
# other samples (so that some keypoints hit and some miss)
pred = out["dec_heatmaps"]
gt = out["enc_msra_heatmaps"][[0, 2]]
mask = out["enc_msra_weights"][[0, 2], 0] > 0
_, acc, _ = pose_pck_accuracy(pred, gt, mask)
out["acc_pose"] = np.float32(acc)

# --- tiny SimpleBaseline forward (eval mode) with flip test ----------------
from mmpose.models.backbones import ResNet  # noqa: E402
from mmpose.models.heads import HeatmapHead  # noqa: E402

torch.manual_seed(0)
backbone = ResNet(depth=18, stem_channels=4, base_channels=2)
backbone.eval()
head = HeatmapHead(
    in_channels=16,
    out_channels=K,
    deconv_out_channels=(8, 8),
    deconv_kernel_sizes=(4, 4),
    conv_out_channels=(8,),
    conv_kernel_sizes=(3,),
)
head.eval()
for module in list(backbone.modules()) + list(head.modules()):
    if isinstance(module, torch.nn.BatchNorm2d):
        with torch.no_grad():
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.uniform_(0.5, 1.5)
            module.bias.uniform_(-0.2, 0.2)
    if isinstance(module, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
        with torch.no_grad():
            module.weight.normal_(0, 0.3)
images = rng.normal(size=(1, 3, 64, 48)).astype(np.float32)
with torch.no_grad():
    feats = backbone(torch.tensor(images))
    heat = head(feats)
out["net_images"] = images
out["net_feat"] = feats[-1].numpy()
out["net_heatmaps"] = heat.numpy()
for prefix, module in (("backbone.", backbone), ("head.", head)):
    for name, value in module.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        out["w:" + prefix + name] = value.numpy()

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
path.mkdir(parents=True, exist_ok=True)
np.savez_compressed(path / "mmpose_foundation.npz", **out)
print("wrote", path / "mmpose_foundation.npz", len(out), "arrays")

"""Generates tests/fixtures/mmpose_ae.npz with the real MMPose 1.3.2.

AssociativeEmbedding encoding (plain and UDP, several instances with
invisible and out-of-image keypoints) and decoding (grouping, refinement,
missing-keypoint filling) of tiny synthetic heatmaps and tag maps,
``batch_heatmap_nms`` and AssociativeEmbeddingLoss. Run with the MMPose
reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_ae_fixtures.py ../shared/reference

Arrays are channels-first as MMPose produces them; the tests transpose.
Decoded instances are padded with zeros to ``dec_<case>_keypoints``'s M and
counted in ``dec_<case>_count``.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.codecs  # noqa: E402,F401  (registers the codecs)
import mmpose.models  # noqa: E402,F401  (registers the losses)
from mmpose.codecs.utils import batch_heatmap_nms  # noqa: E402
from mmpose.registry import KEYPOINT_CODECS  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

rng = np.random.default_rng(0)
torch.manual_seed(0)
out = {}

# --- encode ---------------------------------------------------------------
ENC_INPUT, ENC_HEATMAP, K = (48, 64), (12, 16), 5
kpts = rng.uniform(-6, 70, size=(2, 3, K, 2)).astype(np.float32)
kpts[0, 0, 0] = [0.0, 0.0]  # corner
kpts[0, 0, 1] = [-1.5, 10.0]  # left of the image: int(-0.375+0.5) == 0
kpts[0, 0, 2] = [-3.0, 10.0]  # further left: index invalid
kpts[0, 0, 3] = [47.9, 63.9]  # last pixel
kpts[0, 0, 4] = [120.0, -40.0]  # far away: window outside, weight 0
kpts[0, 1, 0] = [46.0, 62.0]  # rounds to x == W: invalid index
kpts[1, 2] = kpts[1, 1] + 1.0  # overlapping instances
vis = (rng.uniform(size=(2, 3, K)) > 0.25).astype(np.float32)
vis[0, 0] = 1.0
vis[0, 1, 0] = 1.0
vis[1, 0, 1] = 2.0  # weights keep the visibility value
vis[1, 1, 2] = 0.6
out["enc_keypoints"] = kpts
out["enc_visible"] = vis
ENC_CASES = {
    "default": dict(),
    "s2": dict(sigma=2.0),
    "udp": dict(sigma=1.5, use_udp=True),
}
for tag, kwargs in ENC_CASES.items():
    c = KEYPOINT_CODECS.build(
        dict(
            type="AssociativeEmbedding",
            input_size=ENC_INPUT,
            heatmap_size=ENC_HEATMAP,
            **kwargs,
        )
    )
    hms, idx, ws = [], [], []
    for k_, v_ in zip(kpts, vis):
        enc = c.encode(k_.copy(), v_.copy())
        hms.append(enc["heatmaps"])
        idx.append(enc["keypoint_indices"])
        ws.append(enc["keypoint_weights"])
    out[f"enc_{tag}_heatmaps"] = np.stack(hms).astype(np.float32)
    out[f"enc_{tag}_indices"] = np.stack(idx).astype(np.int64)
    out[f"enc_{tag}_weights"] = np.stack(ws).astype(np.float32)

# --- heatmap NMS ------------------------------------------------------------
nms_in = rng.uniform(size=(2, 3, 9, 11)).astype(np.float32)
nms_in[0, 0, 2, 2] = nms_in[0, 0, 2, 3] = 2.0  # tie: both kept
out["nms_input"] = nms_in
for ks in (3, 5):
    out[f"nms_k{ks}"] = batch_heatmap_nms(torch.from_numpy(nms_in), ks).numpy()

# --- decode -------------------------------------------------------------------
DEC_INPUT, DEC_HEATMAP = (96, 80), (24, 20)
W, H = DEC_HEATMAP
B, N = 2, 4
gt = rng.uniform(1, 23, size=(B, N, K, 2)).astype(np.float32)
gt[..., 1] = np.clip(gt[..., 1], 1, 19)
gt_vis = (rng.uniform(size=(B, N, K)) > 0.2).astype(np.float32)
gt_vis[:, :, 0] = 1.0
inst_tags = np.array([[-3.0, 0.0, 2.6, 5.5], [1.0, 4.0, -2.2, 7.5]])


def synth_maps(tag_dim):
    """Heatmaps from UDP-encoded GT (sub-pixel peaks) plus noise, weaker
    peaks per instance, spurious blobs; tags: each pixel gets the tag of
    the instance with the nearest keypoint of that type, plus noise."""
    enc = KEYPOINT_CODECS.build(
        dict(
            type="AssociativeEmbedding",
            input_size=DEC_HEATMAP,
            heatmap_size=DEC_HEATMAP,
            sigma=1.2,
            use_udp=True,
        )
    )
    heatmaps = np.zeros((B, K, H, W), np.float32)
    tags = np.zeros((B, tag_dim * K, H, W), np.float32)
    yy, xx = np.mgrid[:H, :W]
    for b in range(B):
        for n in range(N):
            hm = enc.encode(gt[b, n : n + 1], gt_vis[b, n : n + 1])["heatmaps"]
            heatmaps[b] = np.maximum(heatmaps[b], hm * (1.0 - 0.12 * n))
        for k in range(K):
            d = (xx[None] - gt[b, :, k, 0, None, None]) ** 2 + (
                yy[None] - gt[b, :, k, 1, None, None]
            ) ** 2
            d = np.where(gt_vis[b, :, k, None, None] > 0, d, 1e9)
            nearest = np.argmin(d, axis=0)
            for l_ in range(tag_dim):
                tags[b, l_ * K + k] = inst_tags[b][nearest] + 0.3 * l_
        # spurious peaks
        for _ in range(3):
            k = rng.integers(K)
            x, y = rng.integers(2, W - 2), rng.integers(2, H - 2)
            heatmaps[b, k, y, x] = max(heatmaps[b, k, y, x], 0.3)
    heatmaps += rng.uniform(0, 0.05, size=heatmaps.shape).astype(np.float32)
    tags += rng.normal(0, 0.15, size=tags.shape).astype(np.float32)
    return heatmaps, tags


ORDER = [0, 1, 2, 4, 3]
DEC_CASES = {
    "plain": (1, dict(decode_center_shift=0.5, decode_topk=6)),
    "udp": (1, dict(use_udp=True, decode_gaussian_kernel=3, decode_topk=6)),
    "udp_k5": (
        1,
        dict(use_udp=True, decode_gaussian_kernel=5, decode_topk=8),
    ),
    "flip_max2": (
        2,
        dict(decode_max_instances=2, decode_nms_kernel=3, decode_topk=5),
    ),
    "thr": (
        1,
        dict(decode_tag_thr=0.4, decode_keypoint_thr=0.2, decode_topk=4),
    ),
}
maps = {1: synth_maps(1), 2: synth_maps(2)}
for l_, (hm, tg) in maps.items():
    out[f"dec_heatmaps_l{l_}"] = hm
    out[f"dec_tags_l{l_}"] = tg
for tag, (l_, kwargs) in DEC_CASES.items():
    c = KEYPOINT_CODECS.build(
        dict(
            type="AssociativeEmbedding",
            input_size=DEC_INPUT,
            heatmap_size=DEC_HEATMAP,
            sigma=2.0,
            decode_keypoint_order=ORDER,
            **kwargs,
        )
    )
    hm, tg = maps[l_]
    kp, sc, inst = c.batch_decode(
        torch.from_numpy(hm.copy()), torch.from_numpy(tg.copy())
    )
    m = max(len(x) for x in kp)
    keypoints = np.zeros((B, m, K, 2), np.float32)
    scores = np.zeros((B, m, K), np.float32)
    inst_scores = np.zeros((B, m), np.float32)
    for b in range(B):
        n = len(kp[b])
        keypoints[b, :n] = kp[b]
        scores[b, :n] = sc[b]
        inst_scores[b, :n] = inst[b]
    out[f"dec_{tag}_keypoints"] = keypoints
    out[f"dec_{tag}_scores"] = scores
    out[f"dec_{tag}_instance_scores"] = inst_scores
    out[f"dec_{tag}_count"] = np.array([len(x) for x in kp])
    print(tag, "instances per image:", [len(x) for x in kp])

# --- AssociativeEmbeddingLoss -------------------------------------------------
LH, LW, LM = 6, 7, 4
loss_indices = np.zeros((4, LM, K, 2), np.int64)
counts = [3, 4, 1, 2]  # instance slots used per image
for b, n in enumerate(counts):
    loss_indices[b, :n, :, 0] = rng.integers(0, LH * LW, size=(n, K))
    loss_indices[b, :n, :, 1] = rng.uniform(size=(n, K)) > 0.3
loss_indices[0, 1, :, 1] = 0  # an instance with no valid keypoint
loss_indices[0, 0, :, 1] = 1
loss_indices[1, :, 0, 1] = 1
loss_indices[3, :2, :, 1] = 0  # an image with no valid instance
loss_indices[1, 2, 3, 0] = loss_indices[1, 2, 2, 0]  # shared pixel
out["loss_indices"] = loss_indices
out["loss_counts"] = np.array(counts)
LOSS_CASES = {
    "default": (1, dict()),
    "l2": (2, dict(loss_weight=0.7, push_loss_factor=1.3)),
}
for tag, (l_, kwargs) in LOSS_CASES.items():
    tags = rng.normal(0, 1.0, size=(4, l_ * K, LH, LW)).astype(np.float32)
    loss = MODELS.build(dict(type="AssociativeEmbeddingLoss", **kwargs))
    ids = [torch.from_numpy(loss_indices[b, :n]) for b, n in enumerate(counts)]
    pull, push = loss(torch.from_numpy(tags), ids)
    out[f"loss_{tag}_tags"] = tags
    out[f"loss_{tag}_pull"] = np.float32(pull.item())
    out[f"loss_{tag}_push"] = np.float32(push.item())
    print(tag, "pull", pull.item(), "push", push.item())

dest = Path(__file__).resolve().parents[1] / "tests/fixtures/mmpose_ae.npz"
np.savez_compressed(dest, **out)
print(dest, dest.stat().st_size, "bytes")

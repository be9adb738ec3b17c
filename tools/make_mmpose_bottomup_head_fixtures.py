"""Generates tests/fixtures/mmpose_bottomup_heads.npz with the real MMPose.

The bottom-up heads of MMPose 1.3.2: ``AssociativeEmbeddingHead`` and
``DEKRHead`` (with its ``AdaptiveActivationBlock`` and ``RescoreNet``), and
MMCV's deformable convolution. The reference environment has no compiled
``mmcv.ops``, so ``DeformConv2d`` is replaced by :class:`RefDeformConv2d`,
a PyTorch transcription of MMCV's im2col kernel (``deformable_im2col`` +
``deformable_im2col_bilinear``: taps ``(dy, dx)`` per deformable group,
bilinear sampling whose out-of-map corners count as zero, samples with
``h <= -1``, ``w <= -1``, ``h >= H`` or ``w >= W`` zero), itself checked
against a scalar loop over the kernel's indices.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_bottomup_head_fixtures.py \
        ../shared/reference

Keys (arrays channels-first, as MMPose gives them; the tests transpose):

- ``dcn_<tag>_{x,offset,weight,out}`` and ``dcn_<tag>_cfg`` (JSON): the
  deformable convolution on random inputs (offsets pushing taps outside).
- ``ae_cfg`` (JSON head config), ``w:ae.<name>``: a tiny AE head's state
  (int8 ``q``, value ``q / 64``, exact in float32);
  ``ae_feat``, ``ae_heatmaps``, ``ae_tags``: its forward; ``ae_flip_*``:
  the merged heatmaps / tags its flip test passes to the decoder
  (``restore_heatmap_size``, ``shift_heatmap``); ``ae_loss_*``: targets
  and losses (one instance per image: MMPose's loss fails otherwise).
- ``dekr_cfg``, ``w:dekr.<name>``, ``dekr_feat``, ``dekr_heatmaps``,
  ``dekr_displacements``: a tiny DEKR head (with a rescore net);
  ``dekr_flip_*``: the merged maps of its flip test; ``dekr_loss_*``:
  targets and losses; ``dekr_rescore_*``: the rescore net on poses;
  ``dekr_pred_*``: MMPose's full predict (decode, rescore, NMS).
- ``params_ae_w32`` / ``params_dekr_w32``: trainable parameter counts of
  the models of MMPose's AE / DEKR HRNet-W32 512x512 COCO configs.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.codecs  # noqa: E402,F401
import mmpose.models  # noqa: E402,F401
import mmpose.models.heads.hybrid_heads.dekr_head as dekr_module  # noqa: E402
from fixture_common import trainable  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402
from mmpose.structures import PoseDataSample  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}
CONFIGS = Path(mmpose.__file__).parent / ".mim" / "configs"


# --- MMCV's deformable convolution ------------------------------------------


def _bilinear_scalar(img, h, w):
    height, width = img.shape
    h_low, w_low = int(np.floor(h)), int(np.floor(w))
    h_high, w_high = h_low + 1, w_low + 1
    lh, lw = h - h_low, w - w_low
    hh, hw = 1 - lh, 1 - lw
    v1 = img[h_low, w_low] if h_low >= 0 and w_low >= 0 else 0.0
    v2 = img[h_low, w_high] if h_low >= 0 and w_high <= width - 1 else 0.0
    v3 = img[h_high, w_low] if h_high <= height - 1 and w_low >= 0 else 0.0
    v4 = (
        img[h_high, w_high]
        if h_high <= height - 1 and w_high <= width - 1
        else 0.0
    )
    return hh * hw * v1 + hh * lw * v2 + lh * hw * v3 + lh * lw * v4


def deform_conv_scalar(x, offset, weight, stride, pad, dil, groups, dgroups):
    """MMCV's CPU kernel as a scalar loop (float64), for tiny inputs."""
    b_, c_, height, width = x.shape
    o_, cg, kh, kw = weight.shape
    ho_, wo_ = offset.shape[2:]
    per_group = c_ // dgroups
    cols = np.zeros((b_, c_, kh, kw, ho_, wo_))
    for b in range(b_):
        for c in range(c_):
            base = (c // per_group) * 2 * kh * kw
            for i in range(kh):
                for j in range(kw):
                    t = i * kw + j
                    for ho in range(ho_):
                        for wo in range(wo_):
                            dy = offset[b, base + 2 * t, ho, wo]
                            dx = offset[b, base + 2 * t + 1, ho, wo]
                            h = ho * stride - pad + i * dil + dy
                            w = wo * stride - pad + j * dil + dx
                            if -1 < h < height and -1 < w < width:
                                cols[b, c, i, j, ho, wo] = _bilinear_scalar(
                                    x[b, c], h, w
                                )
    result = np.zeros((b_, o_, ho_, wo_))
    per_out = o_ // groups
    for o in range(o_):
        g = o // per_out
        result[:, o] = np.einsum(
            "bcijhw,cij->bhw", cols[:, g * cg : (g + 1) * cg], weight[o]
        )
    return result


class RefDeformConv2d(nn.Module):
    """MMCV's ``DeformConv2d`` (no bias) in plain PyTorch."""

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        deform_groups=1,
        bias=False,
    ):
        super().__init__()
        assert not bias
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = (kernel_size, kernel_size)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups, self.deform_groups = groups, deform_groups
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels // groups, *self.kernel_size)
        )
        nn.init.kaiming_uniform_(self.weight, nonlinearity="relu")

    def forward(self, x, offset):
        b, c, h, w = x.shape
        kh, kw = self.kernel_size
        taps, dg = kh * kw, self.deform_groups
        ho, wo = offset.shape[2:]
        off = offset.view(b, dg, taps, 2, ho, wo).to(torch.float64)
        ii = torch.arange(kh).repeat_interleave(kw).to(torch.float64)
        jj = torch.arange(kw).repeat(kh).to(torch.float64)
        ys = torch.arange(ho, dtype=torch.float64) * self.stride - self.padding
        xs = torch.arange(wo, dtype=torch.float64) * self.stride - self.padding
        py = ys[None, :, None] + ii[:, None, None] * self.dilation
        px = xs[None, None, :] + jj[:, None, None] * self.dilation
        py = off[:, :, :, 0] + py  # (b, dg, taps, ho, wo)
        px = off[:, :, :, 1] + px
        inside = (py > -1) & (px > -1) & (py < h) & (px < w)
        y0, x0 = torch.floor(py), torch.floor(px)
        ly, lx = py - y0, px - x0
        xg = x.to(torch.float64).view(b, dg, c // dg, h * w)
        total = 0
        for cy, cx, wgt in (
            (y0, x0, (1 - ly) * (1 - lx)),
            (y0, x0 + 1, (1 - ly) * lx),
            (y0 + 1, x0, ly * (1 - lx)),
            (y0 + 1, x0 + 1, ly * lx),
        ):
            ok = inside & (cy >= 0) & (cx >= 0) & (cy <= h - 1) & (cx <= w - 1)
            idx = (cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)).long()
            idx = idx.view(b, dg, 1, -1).expand(-1, -1, c // dg, -1)
            val = torch.gather(xg, 3, idx).view(b, dg, c // dg, taps, ho, wo)
            total = total + val * (wgt * ok)[:, :, None]
        cols = total.reshape(b, c, taps, ho * wo)  # channel c = g * Cg + cg
        g = self.groups
        cols = cols.view(b, g, (c // g) * taps, ho * wo)
        weight = self.weight.to(torch.float64).view(
            g, self.out_channels // g, (c // g) * taps
        )
        res = torch.einsum("gok,bgkn->bgon", weight, cols)
        return res.reshape(b, self.out_channels, ho, wo).to(x.dtype)


dekr_module.DeformConv2d = RefDeformConv2d
dekr_module.has_mmcv_full = True

DCN_CASES = {
    "basic": dict(c=4, h=5, w=6, o=6, k=3, s=1, p=1, d=1, g=1, dg=1, b=2),
    "groups": dict(c=6, h=5, w=5, o=4, k=3, s=2, p=1, d=1, g=2, dg=3, b=1),
    "dilated": dict(c=6, h=6, w=5, o=6, k=3, s=1, p=2, d=2, g=3, dg=3, b=1),
    "k2": dict(c=4, h=4, w=4, o=2, k=2, s=1, p=0, d=1, g=1, dg=2, b=1),
}
for tag, cfg in DCN_CASES.items():
    c, k = cfg["c"], cfg["k"]
    ho = (cfg["h"] + 2 * cfg["p"] - cfg["d"] * (k - 1) - 1) // cfg["s"] + 1
    wo = (cfg["w"] + 2 * cfg["p"] - cfg["d"] * (k - 1) - 1) // cfg["s"] + 1
    x = rng.normal(size=(cfg["b"], c, cfg["h"], cfg["w"])).astype(np.float32)
    off = rng.normal(0, 2, size=(cfg["b"], cfg["dg"] * 2 * k * k, ho, wo))
    off = off.astype(np.float32)
    off[0, 0, 0, 0] = -1.0  # exactly on the -1 border
    off[0, 1, 0, 1] = 0.5
    module = RefDeformConv2d(
        c, cfg["o"], k, cfg["s"], cfg["p"], cfg["d"], cfg["g"], cfg["dg"]
    )
    with torch.no_grad():
        y = module(torch.from_numpy(x), torch.from_numpy(off)).numpy()
    weight = module.weight.detach().numpy()
    ref = deform_conv_scalar(
        x, off, weight, cfg["s"], cfg["p"], cfg["d"], cfg["g"], cfg["dg"]
    )
    assert np.abs(ref - y).max() < 1e-5, (tag, np.abs(ref - y).max())
    out[f"dcn_{tag}_cfg"] = json.dumps(cfg)
    out[f"dcn_{tag}_x"] = x
    out[f"dcn_{tag}_offset"] = off
    out[f"dcn_{tag}_weight"] = weight
    out[f"dcn_{tag}_out"] = ref.astype(np.float32)


# --- helpers ----------------------------------------------------------------


STATE_SCALE = 2.0**-6  # state values are int8 multiples of this


def randomize(module, std=0.3):
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.normal_(0, std)
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)


def quantize(module):
    """Rounds the state to int8 multiples of ``STATE_SCALE`` (exact in
    float32; stored as int8)."""
    with torch.no_grad():
        for name, value in module.state_dict().items():
            if not name.endswith("num_batches_tracked"):
                q = torch.round(value / STATE_SCALE).clamp(-127, 127)
                value.copy_(q * STATE_SCALE)


def save_state(prefix, module):
    for name, value in module.state_dict().items():
        if not name.endswith("num_batches_tracked"):
            q = np.round(value.numpy() / STATE_SCALE)
            out[f"w:{prefix}.{name}"] = q.astype(np.int8)


FLIP = [0, 2, 1]
K = 3

# --- AssociativeEmbeddingHead -----------------------------------------------
ae_cfg = dict(
    type="AssociativeEmbeddingHead",
    in_channels=6,
    num_keypoints=K,
    tag_dim=2,
    deconv_out_channels=(8,),
    deconv_kernel_sizes=(4,),
    conv_out_channels=(8,),
    conv_kernel_sizes=(3,),
    keypoint_loss=dict(type="KeypointMSELoss", use_target_weight=True),
    tag_loss=dict(type="AssociativeEmbeddingLoss", loss_weight=0.5),
    decoder=dict(
        type="AssociativeEmbedding",
        input_size=(20, 16),
        heatmap_size=(20, 16),
        decode_max_instances=4,
        decode_topk=5,
    ),
)
ae = MODELS.build(ae_cfg).eval()
randomize(ae)
quantize(ae)
out["ae_cfg"] = json.dumps(ae_cfg)
save_state("ae", ae)
feat = torch.randn(2, 6, 4, 5)
out["ae_feat"] = feat.numpy()
with torch.no_grad():
    heatmaps, tags = ae.forward((feat,))
out["ae_heatmaps"] = heatmaps.numpy()
out["ae_tags"] = tags.numpy()

captured = {}


def capture(outputs):
    captured["outputs"] = [o.detach().numpy() for o in outputs]
    return []


ae.decode = capture
samples = []
for _ in range(2):
    s = PoseDataSample()
    s.set_metainfo(dict(flip_indices=FLIP, img_shape=(16, 20)))
    samples.append(s)
feat_flip = torch.randn(2, 6, 4, 5)
out["ae_feat_flip"] = feat_flip.numpy()
with torch.no_grad():
    ae.predict(
        [(feat,), (feat_flip,)],
        samples,
        test_cfg=dict(
            flip_test=True, shift_heatmap=True, restore_heatmap_size=True
        ),
    )
out["ae_flip_heatmaps"], out["ae_flip_tags"] = captured["outputs"]

# Loss: one instance per image (MMPose concatenates instance weights).
loss_samples = []
gt_heatmaps = rng.uniform(0, 1, size=(2, K, 8, 10)).astype(np.float32)
indices = np.stack(
    [rng.integers(0, 80, size=(2, 1, K)), rng.integers(0, 2, size=(2, 1, K))],
    axis=-1,
).astype(np.int64)
weights = rng.uniform(0, 1, size=(2, 1, K)).astype(np.float32)
weights[0, 0, 1] = 0.0
mask = (rng.uniform(size=(2, 1, 8, 10)) > 0.2).astype(np.float32)
for b in range(2):
    s = PoseDataSample()
    s.gt_fields = PixelData(
        heatmaps=torch.from_numpy(gt_heatmaps[b]),
        heatmap_mask=torch.from_numpy(mask[b]),
    )
    s.gt_instance_labels = InstanceData(
        keypoint_indices=torch.from_numpy(indices[b]),
        keypoint_weights=torch.from_numpy(weights[b]),
    )
    loss_samples.append(s)
with torch.no_grad():
    losses = ae.loss((feat,), loss_samples)
out["ae_loss_heatmaps"] = gt_heatmaps
out["ae_loss_indices"] = indices
out["ae_loss_weights"] = weights
out["ae_loss_mask"] = mask[:, 0]
for name in ("loss_kpt", "loss_pull", "loss_push"):
    out[f"ae_{name}"] = np.float32(losses[name].item())

# --- DEKRHead ---------------------------------------------------------------
SKELETON = [[0, 1], [1, 2], [0, 2]]
dekr_cfg = dict(
    type="DEKRHead",
    in_channels=6,
    num_keypoints=K,
    num_heatmap_filters=4,
    num_displacement_filters_per_keypoint=2,
    heatmap_loss=dict(type="KeypointMSELoss", use_target_weight=True),
    displacement_loss=dict(
        type="SoftWeightSmoothL1Loss",
        use_target_weight=True,
        supervise_empty=False,
        beta=1 / 9,
        loss_weight=0.002,
    ),
    decoder=dict(
        type="SPR",
        input_size=(28, 24),
        heatmap_size=(7, 6),
        sigma=(4, 2),
        minimal_diagonal_length=32**0.5,
        generate_keypoint_heatmaps=True,
        decode_max_instances=5,
    ),
    rescore_cfg=dict(in_channels=3 * len(SKELETON) + K, norm_indexes=(0, 1)),
)
dekr = MODELS.build(dekr_cfg).eval()
randomize(dekr)
with torch.no_grad():  # moderate offsets: taps within a few pixels
    for blk in (
        dekr.displacement_conv_layers[1],
        dekr.displacement_conv_layers[2],
    ):
        blk.transform_matrix_conv.weight.mul_(0.5)
        blk.transform_matrix_conv.bias.normal_(0, 1.0)
quantize(dekr)
out["dekr_cfg"] = json.dumps(dekr_cfg)
save_state("dekr", dekr)
feat = torch.randn(1, 6, 6, 7)
feat_flip = torch.randn(1, 6, 6, 7)
out["dekr_feat"] = feat.numpy()
out["dekr_feat_flip"] = feat_flip.numpy()
with torch.no_grad():
    heatmaps, displacements = dekr.forward((feat,))
out["dekr_heatmaps"] = heatmaps.numpy()
out["dekr_displacements"] = displacements.numpy()

sample = PoseDataSample()
sample.set_metainfo(
    dict(flip_indices=FLIP, input_size=(28, 24), skeleton_links=SKELETON)
)
orig_decode = dekr.decode


def capture_dekr(heatmaps, displacements, test_cfg, metainfo):
    captured["dekr"] = (heatmaps[0].numpy(), displacements[0].numpy())
    return orig_decode(heatmaps, displacements, test_cfg, metainfo)


dekr.decode = capture_dekr
test_cfg = dict(flip_test=True, shift_heatmap=True, nms_dist_thr=0.05)
with torch.no_grad():
    preds = dekr.predict([(feat,), (feat_flip,)], [sample], test_cfg=test_cfg)
out["dekr_flip_heatmaps"], out["dekr_flip_displacements"] = captured["dekr"]
out["dekr_pred_keypoints"] = np.asarray(preds[0].keypoints, np.float32)
out["dekr_pred_scores"] = np.asarray(preds[0].keypoint_scores, np.float32)
out["dekr_skeleton"] = np.array(SKELETON)
# The same without NMS and rescoring, for the decode-only path.
dekr.rescore_net, rescore = None, dekr.rescore_net
with torch.no_grad():
    preds = dekr.predict(
        [(feat,), (feat_flip,)],
        [sample],
        test_cfg=dict(test_cfg, nms_dist_thr=0),
    )
dekr.rescore_net = rescore
out["dekr_pred_plain_keypoints"] = np.asarray(preds[0].keypoints, np.float32)
out["dekr_pred_plain_scores"] = np.asarray(preds[0].keypoint_scores, np.float32)

# Rescore net alone.
kpts = torch.from_numpy(rng.uniform(0, 28, size=(4, K, 2)).astype(np.float32))
kpts[3] = kpts[3, :1]  # a collapsed pose: the norm is clamped to 1
scores = torch.from_numpy(rng.uniform(0, 1, size=(4, K)).astype(np.float32))
with torch.no_grad():
    out["dekr_rescore_out"] = rescore(kpts, scores, SKELETON).numpy()
out["dekr_rescore_keypoints"] = kpts.numpy()
out["dekr_rescore_scores"] = scores.numpy()

# Loss.
hm_t = rng.uniform(0, 1, size=(2, K + 1, 6, 7)).astype(np.float32)
hm_w = rng.uniform(0, 1, size=(2, K + 1, 6, 7)).astype(np.float32)
dp_t = rng.normal(0, 2, size=(2, 2 * K, 6, 7)).astype(np.float32)
dp_w = (rng.uniform(size=(2, 2 * K, 6, 7)) > 0.5).astype(np.float32)
hm_mask = (rng.uniform(size=(2, 1, 6, 7)) > 0.2).astype(np.float32)
feat2 = torch.randn(2, 6, 6, 7)
loss_samples = []
for b in range(2):
    s = PoseDataSample()
    s.gt_fields = PixelData(
        heatmaps=torch.from_numpy(hm_t[b]),
        heatmap_weights=torch.from_numpy(hm_w[b]),
        displacements=torch.from_numpy(dp_t[b]),
        displacement_weights=torch.from_numpy(dp_w[b]),
        heatmap_mask=torch.from_numpy(hm_mask[b]),
    )
    loss_samples.append(s)
with torch.no_grad():
    losses = dekr.loss((feat2,), loss_samples)
out["dekr_loss_feat"] = feat2.numpy()
out["dekr_loss_heatmaps"] = hm_t
out["dekr_loss_heatmap_weights"] = hm_w
out["dekr_loss_displacements"] = dp_t
out["dekr_loss_displacement_weights"] = dp_w
out["dekr_loss_mask"] = hm_mask[:, 0]
out["dekr_loss_heatmap"] = np.float32(losses["loss/heatmap"].item())
out["dekr_loss_displacement"] = np.float32(losses["loss/displacement"].item())

# --- parameter counts of the full configs -----------------------------------
for tag, path in (
    (
        "ae_w32",
        "associative_embedding/coco/ae_hrnet-w32_8xb24-300e_coco-512x512.py",
    ),
    ("dekr_w32", "dekr/coco/dekr_hrnet-w32_8xb10-140e_coco-512x512.py"),
):
    cfg = Config.fromfile(str(CONFIGS / "body_2d_keypoint" / path))
    model_cfg = cfg.model.copy()
    model_cfg["backbone"]["init_cfg"] = None
    if "rescore_cfg" in model_cfg["head"]:
        model_cfg["head"]["rescore_cfg"]["init_cfg"] = None
    model = MODELS.build(model_cfg)
    out[f"params_{tag}"] = np.int64(trainable(model))
    print(tag, trainable(model))

dest = Path(__file__).resolve().parents[1] / "tests/fixtures"
np.savez_compressed(dest / "mmpose_bottomup_heads.npz", **out)
print("wrote", dest / "mmpose_bottomup_heads.npz")

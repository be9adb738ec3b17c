"""Generates tests/fixtures/mmpose_simcc.npz with the real MMPose 1.3.2.

The SimCC family: SimCCLabel encode / decode (DARK, visibility),
KLDiscretLoss, simcc_pck_accuracy, RTMCCBlock, RTMCCHead and SimCCHead
(forward, loss, predict with flip test) and the trainable parameter counts
of the RTMPose-t/s/m/l and SimCC-ResNet-50 heads.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_simcc_fixtures.py ../shared/reference

Keys: ``enc_<tag>_{x,y,w}``, ``dec_<tag>_{keypoints,scores,visibility}``,
``kl_<tag>``, ``gau_<tag>_{in,k,v,out}`` with weights ``w:gau_<tag>.<name>``,
``rtmcc_*`` / ``simcc_*`` with weights ``w:rtmcc.<name>`` /
``w:simcc_<tag>.<name>``, ``params_<model>``. Everything is as MMPose
produces it (channels-first feature maps); the tests transpose.
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
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402
from mmpose.evaluation.functional import simcc_pck_accuracy  # noqa: E402
from mmpose.models.utils.rtmcc_block import RTMCCBlock  # noqa: E402
from mmpose.registry import KEYPOINT_CODECS  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402
from mmpose.structures import PoseDataSample  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}
K = 6
FLIP = [0, 2, 1, 4, 3, 5]


def save_state(prefix, module):
    for name, value in module.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        out[f"w:{prefix}.{name}"] = value.numpy()


def randomize(module, std=0.3):
    """Moderate random weights so that argmaxes are well separated."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith(".g") or name.endswith("res_scale.scale"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0, std)
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)


# --- SimCCLabel encode -------------------------------------------------------
INPUT = (32, 40)
kpts = rng.uniform(-6, 46, size=(2, K, 2)).astype(np.float32)
kpts[0, 0] = [10.25, 20.75]  # bins 20.5 / 41.5: round half to even
kpts[0, 1] = [31.9, 39.9]  # last bins
kpts[0, 2] = [-5.0, 10.0]  # outside, but within 3 sigma for sigma 6
kpts[0, 3] = [60.0, 10.0]  # far outside on x
kpts[0, 4] = [12.0, -40.0]  # far outside on y
kpts[1, 0] = [np.nan, 3.0]  # NaN, visible
kpts[1, 1] = [32.0, 40.0]  # exactly at the input border
vis = np.ones((2, K), np.float32)
vis[1, 2] = 0.0
vis[1, 3] = 0.3  # below 0.5: no label, keeps its weight
vis[0, 5] = 0.0
out["enc_keypoints"] = kpts
out["enc_visible"] = vis
ENC_CASES = {
    "g6": dict(sigma=6.0),
    "g_pair": dict(sigma=(4.9, 5.66), normalize=False),
    "g2_r15": dict(sigma=2.0, simcc_split_ratio=1.5),
    "g3_r25": dict(sigma=3.0, simcc_split_ratio=2.5, input_size=(33, 41)),
    "std": dict(smoothing_type="standard"),
    "std_ls": dict(smoothing_type="standard", label_smooth_weight=0.1),
    "std_r3": dict(smoothing_type="standard", simcc_split_ratio=3.0),
}
for tag, cfg in ENC_CASES.items():
    cfg = dict(cfg)
    codec = KEYPOINT_CODECS.build(
        dict(type="SimCCLabel", input_size=cfg.pop("input_size", INPUT), **cfg)
    )
    with np.errstate(invalid="ignore"):
        enc = codec.encode(kpts.copy(), vis.copy())
    out[f"enc_{tag}_x"] = enc["keypoint_x_labels"]
    out[f"enc_{tag}_y"] = enc["keypoint_y_labels"]
    out[f"enc_{tag}_w"] = enc["keypoint_weights"]

# --- SimCCLabel decode -------------------------------------------------------
# Smooth vectors (a Gaussian target, a weaker wider one elsewhere, an
# offset): DARK on pixel-wise noise is ill-conditioned.
dec_kpts = rng.uniform(2, 30, size=(2, K, 2)).astype(np.float32)
shift = rng.uniform(-4, 4, size=(2, K, 2)).astype(np.float32)
narrow = KEYPOINT_CODECS.build(
    dict(type="SimCCLabel", input_size=INPUT, sigma=(3.0, 3.5))
)
wide = KEYPOINT_CODECS.build(
    dict(type="SimCCLabel", input_size=INPUT, sigma=8.0)
)
a = narrow.encode(dec_kpts)
b = wide.encode(dec_kpts + shift)
sx = 0.8 * a["keypoint_x_labels"] + 0.5 * b["keypoint_x_labels"] + 0.01
sy = 0.8 * a["keypoint_y_labels"] + 0.5 * b["keypoint_y_labels"] + 0.01
sx[0, 3] = -0.5  # all negative -> (-1, -1), DARK reads the wrapped bin
sy[0, 3] = -0.2
sx[1, 4] = 0.0  # flat zero x
sx[1, 5] = 0.0
sx[1, 5, 0] = 0.3  # maximum at the first bin
sy[1, 5] = 0.0
sy[1, 5, -1] = 0.2  # maximum at the last bin
out["dec_simcc_x"] = sx.astype(np.float32)
out["dec_simcc_y"] = sy.astype(np.float32)
DEC_CASES = {
    "plain": dict(sigma=(3.0, 3.5)),
    "dark": dict(sigma=(3.0, 3.5), use_dark=True),
    "dark6": dict(sigma=6.0, use_dark=True),
    "vis": dict(sigma=(3.0, 3.5), decode_visibility=True),
    "vis_beta": dict(sigma=2.0, decode_visibility=True, decode_beta=20.0),
    "dark_vis": dict(sigma=(3.0, 3.5), use_dark=True, decode_visibility=True),
}
for tag, cfg in DEC_CASES.items():
    codec = KEYPOINT_CODECS.build(
        dict(type="SimCCLabel", input_size=INPUT, **cfg)
    )
    ks, ss, vs = [], [], []
    for i in range(2):
        # copies: MMPose's DARK rewrites its inputs in place
        k_, s_ = codec.decode(sx[i : i + 1].copy(), sy[i : i + 1].copy())
        ks.append(k_[0])
        if isinstance(s_, tuple):
            s_, v_ = s_
            vs.append(v_[0])
        ss.append(s_[0])
    out[f"dec_{tag}_keypoints"] = np.stack(ks).astype(np.float32)
    out[f"dec_{tag}_scores"] = np.stack(ss).astype(np.float32)
    if vs:
        out[f"dec_{tag}_visibility"] = np.stack(vs).astype(np.float32)

# --- simcc_pck_accuracy ------------------------------------------------------
acc_mask = out["enc_g6_w"] > 0
acc_mask[:, 1] = False  # a keypoint without any valid sample
out["acc_mask"] = acc_mask
_, acc, _ = simcc_pck_accuracy(
    (sx, sy), (out["enc_g6_x"], out["enc_g6_y"]), 2.0, acc_mask
)
out["acc_pose"] = np.float32(acc)

# --- KLDiscretLoss -----------------------------------------------------------
kl_pred_x = rng.normal(size=(3, 5, 16)).astype(np.float32)
kl_pred_y = rng.normal(size=(3, 5, 20)).astype(np.float32)
kl_gt_x = np.abs(rng.normal(size=(3, 5, 16))).astype(np.float32)
kl_gt_y = np.abs(rng.normal(size=(3, 5, 20))).astype(np.float32)
kl_gt_x[0, 0] = 0.0  # zero labels (xlogy(0, 0) = 0)
kl_gt_y[0, 0] = 0.0
kl_gt_x[1, 2, :8] = 0.0
kl_w = rng.uniform(size=(3, 5)).astype(np.float32)
kl_w[2, 1] = 0.0
out.update(
    kl_pred_x=kl_pred_x,
    kl_pred_y=kl_pred_y,
    kl_gt_x=kl_gt_x,
    kl_gt_y=kl_gt_y,
    kl_weights=kl_w,
)
KL_CASES = {
    "default": dict(),
    "rtmpose": dict(beta=10.0, label_softmax=True),
    "label_beta": dict(label_softmax=True, label_beta=2.0, beta=0.5),
    "no_weight": dict(use_target_weight=False),
    "mask": dict(mask=[1, 3], mask_weight=0.5, beta=2.0),
}
for tag, cfg in KL_CASES.items():
    loss = MODELS.build(dict(type="KLDiscretLoss", **cfg))
    val = loss(
        (torch.tensor(kl_pred_x), torch.tensor(kl_pred_y)),
        (torch.tensor(kl_gt_x), torch.tensor(kl_gt_y)),
        torch.tensor(kl_w),
    )
    out[f"kl_{tag}"] = np.float32(val.item())

# --- RTMCCBlock --------------------------------------------------------------
GAU_CASES = {
    "self_rel": dict(
        num_token=5, in_token_dims=8, out_token_dims=8, s=8, act_fn="SiLU"
    ),
    "self_rope_bias": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=8,
        s=8,
        act_fn="ReLU",
        use_rel_bias=False,
        pos_enc=True,
        bias=True,
    ),
    "self_proj": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=6,
        s=8,
        expansion_factor=3,
        pos_enc=True,
    ),
    "self_short": dict(num_token=7, in_token_dims=8, out_token_dims=8, s=4),
    "cross_rel": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=8,
        s=8,
        attn_type="cross-attn",
        pos_enc=True,
        bias=True,
    ),
    "cross_plain": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=6,
        s=8,
        attn_type="cross-attn",
        use_rel_bias=False,
        act_fn="ReLU",
    ),
}
for tag, cfg in GAU_CASES.items():
    gau = RTMCCBlock(**cfg)
    randomize(gau, std=0.4)
    gau.eval()
    n = 4 if tag == "self_short" else 5  # fewer tokens than num_token
    x = rng.normal(size=(2, n, 8)).astype(np.float32)
    out[f"gau_{tag}_in"] = x
    if cfg.get("attn_type") == "cross-attn":
        k = rng.normal(size=(2, 7, 8)).astype(np.float32)
        v = rng.normal(size=(2, 7, 8)).astype(np.float32)
        out[f"gau_{tag}_k"], out[f"gau_{tag}_v"] = k, v
        inputs = (torch.tensor(x), torch.tensor(k), torch.tensor(v))
    else:
        inputs = torch.tensor(x)
    with torch.no_grad():
        out[f"gau_{tag}_out"] = gau(inputs).numpy()
    save_state(f"gau_{tag}", gau)


def samples(codec, keypoints, visible):
    result = []
    for k_, v_ in zip(keypoints, visible):
        enc = codec.encode(k_[None], v_[None])
        ds = PoseDataSample(metainfo=dict(flip_indices=FLIP))
        ds.gt_instance_labels = InstanceData(
            keypoint_x_labels=torch.tensor(enc["keypoint_x_labels"]),
            keypoint_y_labels=torch.tensor(enc["keypoint_y_labels"]),
            keypoint_weights=torch.tensor(enc["keypoint_weights"]),
        )
        result.append(ds)
    return result


def run_head(prefix, head, feat_shape, codec_cfg, vis_codec_cfg, kpt_range):
    randomize(head)
    head.eval()
    feats = rng.normal(size=feat_shape).astype(np.float32)
    feats_flip = rng.normal(size=feat_shape).astype(np.float32)
    out[f"{prefix}_feats"] = feats
    out[f"{prefix}_feats_flip"] = feats_flip
    f, ff = (torch.tensor(feats),), (torch.tensor(feats_flip),)
    codec = KEYPOINT_CODECS.build(codec_cfg)
    kp = rng.uniform(*kpt_range, size=(2, K, 2)).astype(np.float32)
    kv = (rng.uniform(size=(2, K)) > 0.2).astype(np.float32)
    out[f"{prefix}_gt_keypoints"], out[f"{prefix}_gt_visible"] = kp, kv
    data_samples = samples(codec, kp, kv)
    with torch.no_grad():
        px, py = head(f)
        out[f"{prefix}_pred_x"], out[f"{prefix}_pred_y"] = (
            px.numpy(),
            py.numpy(),
        )
        losses = head.loss(f, data_samples)
        out[f"{prefix}_loss_kpt"] = np.float32(losses["loss_kpt"].item())
        out[f"{prefix}_acc_pose"] = np.float32(losses["acc_pose"].item())
        preds = head.predict(f, data_samples, dict(flip_test=False))
        out[f"{prefix}_pred_keypoints"] = np.concatenate(
            [p.keypoints for p in preds]
        )
        out[f"{prefix}_pred_scores"] = np.concatenate(
            [p.keypoint_scores for p in preds]
        )
        preds, fields = head.predict(
            [f, ff], data_samples, dict(flip_test=True, output_heatmaps=True)
        )
        out[f"{prefix}_flip_keypoints"] = np.concatenate(
            [p.keypoints for p in preds]
        )
        out[f"{prefix}_flip_scores"] = np.concatenate(
            [p.keypoint_scores for p in preds]
        )
        out[f"{prefix}_flip_x_labels"] = np.concatenate(
            [p.keypoint_x_labels for p in preds]
        )
        # (kept small: the first sample's first two keypoints)
        out[f"{prefix}_flip_heatmaps"] = fields[0].heatmaps.numpy()[:2]
        head.decoder = KEYPOINT_CODECS.build(vis_codec_cfg)
        preds = head.predict([f, ff], data_samples, dict(flip_test=True))
        out[f"{prefix}_vis_keypoints_visible"] = np.concatenate(
            [p.keypoints_visible for p in preds]
        )
        out[f"{prefix}_vis_scores"] = np.concatenate(
            [p.keypoint_scores for p in preds]
        )
        head.decoder = codec
    save_state(prefix, head)


# --- RTMCCHead (tiny, every GAU option on) ------------------------------------
RTM_CODEC = dict(
    type="SimCCLabel", input_size=INPUT, sigma=(2.5, 3.0), normalize=False
)
rtm_head = MODELS.build(
    dict(
        type="RTMCCHead",
        in_channels=8,
        out_channels=K,
        input_size=INPUT,
        in_featuremap_size=(4, 5),
        simcc_split_ratio=2.0,
        final_layer_kernel_size=3,
        gau_cfg=dict(
            hidden_dims=16,
            s=8,
            expansion_factor=2,
            dropout_rate=0.0,
            drop_path=0.0,
            act_fn="SiLU",
            use_rel_bias=True,
            pos_enc=True,
        ),
        loss=dict(
            type="KLDiscretLoss",
            use_target_weight=True,
            beta=10.0,
            label_softmax=True,
        ),
        decoder=RTM_CODEC,
    )
)
run_head(
    "rtmcc",
    rtm_head,
    (2, 8, 5, 4),
    RTM_CODEC,
    dict(RTM_CODEC, decode_visibility=True),
    (-2, 34),
)

# --- SimCCHead (tiny): deconv + conv + final; no deconv; no final -----------
S_INPUT = (16, 24)
S_CODEC = dict(type="SimCCLabel", input_size=S_INPUT, sigma=2.0)
simcc_head = MODELS.build(
    dict(
        type="SimCCHead",
        in_channels=8,
        out_channels=K,
        input_size=S_INPUT,
        in_featuremap_size=(2, 3),
        deconv_out_channels=(8,),
        deconv_kernel_sizes=(4,),
        conv_out_channels=(8,),
        conv_kernel_sizes=(3,),
        decoder=S_CODEC,
    )
)
run_head(
    "simcc",
    simcc_head,
    (2, 8, 3, 2),
    S_CODEC,
    dict(S_CODEC, decode_visibility=True),
    (0, 16),
)
for tag, cfg in {
    "nodeconv": dict(
        deconv_out_channels=None, final_layer=dict(kernel_size=3, padding=1)
    ),
    "nofinal": dict(
        deconv_out_channels=(4,), deconv_kernel_sizes=(4,), final_layer=None
    ),
}.items():
    head = MODELS.build(
        dict(
            type="SimCCHead",
            in_channels=8,
            out_channels=K,
            input_size=S_INPUT,
            in_featuremap_size=(2, 3),
            **cfg,
        )
    )
    randomize(head)
    head.eval()
    with torch.no_grad():
        px, py = head((torch.tensor(out["simcc_feats"]),))
    out[f"simcc_{tag}_pred_x"], out[f"simcc_{tag}_pred_y"] = (
        px.numpy(),
        py.numpy(),
    )
    save_state(f"simcc_{tag}", head)

# --- trainable parameter counts of full-size heads ---------------------------
CONFIGS = Path(mmpose.__file__).parent / ".mim" / "configs" / "body_2d_keypoint"
for name, rel in {
    "rtmpose_t": "rtmpose/coco/rtmpose-t_8xb256-420e_coco-256x192.py",
    "rtmpose_s": "rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py",
    "rtmpose_m": "rtmpose/coco/rtmpose-m_8xb256-420e_coco-256x192.py",
    "rtmpose_l": "rtmpose/coco/rtmpose-l_8xb256-420e_coco-256x192.py",
    "simcc_res50": "simcc/coco/simcc_res50_8xb64-210e_coco-256x192.py",
}.items():
    head = MODELS.build(Config.fromfile(str(CONFIGS / rel)).model.head)
    count = sum(p.numel() for p in head.parameters() if p.requires_grad)
    out[f"params_{name}"] = np.int64(count)

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
path.mkdir(parents=True, exist_ok=True)
np.savez_compressed(path / "mmpose_simcc.npz", **out)
print("wrote", path / "mmpose_simcc.npz", len(out), "arrays")

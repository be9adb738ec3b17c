"""Generates tests/fixtures/mmpose_regression.npz with the real MMPose 1.3.2.

The regression family: RegressionLabel / IntegralRegressionLabel codecs,
the regression losses (RLELoss with its RealNVP flow, SmoothL1Loss, L1Loss,
MSELoss, WingLoss, SoftWingLoss, JSDiscretLoss, MultipleLossWrapper) and the
RegressionHead / RLEHead / IntegralRegressionHead / DSNTHead heads (forward
with their state dicts, loss, flip-test predict), plus the trainable
parameter counts of the heads of three MMPose configs.

Run with the MMPose reference environment:

    $REF/bin/python tools/make_mmpose_regression_fixtures.py ../shared/reference

Everything is channels-first as MMPose produces it; the tests transpose.
Head weights are stored as ``w:<head>:<state dict key>``.
"""

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose  # noqa: E402
import mmpose.codecs  # noqa: E402,F401  (registers the codecs)
import mmpose.models  # noqa: E402,F401  (registers models and losses)
from mmengine.config import Config  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.registry import KEYPOINT_CODECS  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402
from mmpose.structures import PoseDataSample  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}


def f32(x):
    return np.asarray(x, dtype=np.float32)


def t(x):
    return torch.from_numpy(f32(x))


# --- RegressionLabel ---------------------------------------------------------
INPUT = (48, 64)  # (w, h)
K = 17
kpts = rng.uniform(-10, 70, size=(3, 2, K, 2)).astype(np.float32)
kpts[0, 0, 0] = [0.0, 0.0]  # on the border: valid
kpts[0, 0, 1] = [47.0, 63.0]  # (w - 1, h - 1): valid
kpts[0, 0, 2] = [47.01, 10.0]  # just outside
kpts[0, 0, 3] = [-0.01, 10.0]  # just outside
kpts[0, 0, 4] = [-30.0, 100.0]  # far outside
kpts[0, 0, 5] = [20.3, 30.7]  # inside, invisible below
vis = (rng.uniform(size=(3, 2, K)) > 0.2).astype(np.float32)
vis[0, 0, :5] = 1.0
vis[0, 0, 5] = 0.0
vis[0, 0, 6] = 0.5  # 0.5 is not > 0.5: weight 0
vis[0, 0, 7] = 0.51
vis[0, 0, 8] = 2.0
out["reg_keypoints"] = kpts
out["reg_visible"] = vis
codec = KEYPOINT_CODECS.build(dict(type="RegressionLabel", input_size=INPUT))
labels, weights = [], []
for k_, v_ in zip(kpts, vis):
    enc = codec.encode(k_, v_)
    labels.append(enc["keypoint_labels"])
    weights.append(enc["keypoint_weights"])
out["reg_labels"] = np.stack(labels)
out["reg_weights"] = np.stack(weights)
enc_none = codec.encode(kpts[1])
out["reg_labels_novis"] = enc_none["keypoint_labels"]
out["reg_weights_novis"] = enc_none["keypoint_weights"]

dec2 = rng.uniform(-0.2, 1.2, size=(3, K, 2)).astype(np.float32)
dec4 = rng.uniform(-0.2, 1.2, size=(3, K, 4)).astype(np.float32)
dec4[..., 2:] = rng.uniform(0, 1, size=(3, K, 2))
out["reg_dec2"], out["reg_dec4"] = dec2, dec4
for tag, enc in (("2", dec2), ("4", dec4)):
    ks, ss = zip(*[codec.decode(e[None]) for e in enc])
    out[f"reg_dec{tag}_keypoints"] = f32(np.concatenate(ks))
    out[f"reg_dec{tag}_scores"] = f32(np.concatenate(ss))

# --- IntegralRegressionLabel ------------------------------------------------
IPR_INPUT, IPR_HEATMAP = (64, 80), (16, 20)
ikpts = rng.uniform(-8, 72, size=(4, 1, K, 2)).astype(np.float32)
ikpts[0, 0, 0] = [0.2, 0.3]
ikpts[0, 0, 1] = [63.0, 79.0]
ikpts[0, 0, 2] = [-30.0, 10.0]  # heatmap window fully outside
ikpts[0, 0, 3] = [66.0, 40.0]  # outside the image, partly on the heatmap
ikpts[0, 0, 4] = [1.875, 2.125]
ivis = (rng.uniform(size=(4, 1, K)) > 0.15).astype(np.float32)
ivis[0, 0, :5] = 1.0
out["ipr_keypoints"] = ikpts
out["ipr_visible"] = ivis
for tag, cfg in {
    "norm": dict(sigma=2),
    "raw": dict(sigma=2, normalize=False),
    "dark": dict(sigma=1.5, unbiased=True),
}.items():
    codec_i = KEYPOINT_CODECS.build(
        dict(
            type="IntegralRegressionLabel",
            input_size=IPR_INPUT,
            heatmap_size=IPR_HEATMAP,
            **cfg,
        )
    )
    encs = [codec_i.encode(k_, v_) for k_, v_ in zip(ikpts, ivis)]
    for key in ("heatmaps", "keypoint_labels", "keypoint_weights"):
        out[f"ipr_{tag}_{key}"] = np.stack([e[key] for e in encs])
    ks, ss = zip(*[codec_i.decode(e[None]) for e in dec2])
    out[f"ipr_{tag}_dec_keypoints"] = f32(np.concatenate(ks))
    out[f"ipr_{tag}_dec_scores"] = f32(np.concatenate(ss))

# --- Losses ------------------------------------------------------------------
B, LK = 3, 5
pred = rng.normal(0.5, 0.3, size=(B, LK, 2)).astype(np.float32)
target = rng.normal(0.5, 0.3, size=(B, LK, 2)).astype(np.float32)
lw = (rng.uniform(size=(B, LK)) > 0.3).astype(np.float32)
lw[0, 0] = 0.5
out["loss_pred"], out["loss_target"], out["loss_weights"] = pred, target, lw
big_pred = (pred * 20).astype(np.float32)  # both branches of the wing losses
big_target = (target * 20).astype(np.float32)
out["loss_big_pred"], out["loss_big_target"] = big_pred, big_target


def loss_value(cfg, *args):
    loss = MODELS.build(cfg)
    return f32(loss(*[None if a is None else t(a) for a in args]).detach())


for utw in (0, 1):
    w2 = lw if utw else None
    w3 = lw[..., None] if utw else None
    out[f"smoothl1_{utw}_w2"] = loss_value(
        dict(type="SmoothL1Loss", use_target_weight=bool(utw), loss_weight=0.5),
        pred * 3,
        target * 3,
        w2,
    )
    out[f"smoothl1_{utw}_w3"] = loss_value(
        dict(type="SmoothL1Loss", use_target_weight=bool(utw)),
        pred * 3,
        target * 3,
        w3,
    )
    for red in ("mean", "sum", "none"):
        out[f"l1_{red}_{utw}"] = loss_value(
            dict(
                type="L1Loss",
                reduction=red,
                use_target_weight=bool(utw),
                loss_weight=2.0,
            ),
            pred,
            target,
            w2,
        )
    out[f"mse_{utw}"] = loss_value(
        dict(type="MSELoss", use_target_weight=bool(utw), loss_weight=0.3),
        pred,
        target,
        w3,
    )
    out[f"wing_{utw}"] = loss_value(
        dict(type="WingLoss", use_target_weight=bool(utw)),
        big_pred,
        big_target,
        w3,
    )
    out[f"wing_custom_{utw}"] = loss_value(
        dict(
            type="WingLoss",
            omega=5.0,
            epsilon=1.5,
            use_target_weight=bool(utw),
            loss_weight=0.7,
        ),
        big_pred,
        big_target,
        w3,
    )
    out[f"softwing_{utw}"] = loss_value(
        dict(type="SoftWingLoss", use_target_weight=bool(utw)),
        big_pred,
        big_target,
        w3,
    )
    out[f"softwing_custom_{utw}"] = loss_value(
        dict(
            type="SoftWingLoss",
            omega1=1.0,
            omega2=10.0,
            epsilon=0.3,
            use_target_weight=bool(utw),
            loss_weight=1.5,
        ),
        big_pred,
        big_target,
        w3,
    )

# JSDiscretLoss on softmax predictions and normalised Gaussian targets
HM = (6, 8)  # (W, H)
logits = rng.normal(size=(B, LK, HM[1], HM[0])).astype(np.float32)
pred_hm = torch.softmax(t(logits).reshape(B, LK, -1), -1).reshape(logits.shape)
pred_hm = f32(pred_hm)
gt_codec = KEYPOINT_CODECS.build(
    dict(
        type="IntegralRegressionLabel",
        input_size=(24, 32),
        heatmap_size=HM,
        sigma=1,
    )
)
gt_kpts = rng.uniform(0, 24, size=(B, 1, LK, 2)).astype(np.float32)
gt_vis = np.ones((B, 1, LK), np.float32)
gt_vis[1, 0, 2] = 0  # an all-zero target channel
gt_hm = np.stack(
    [gt_codec.encode(k_, v_)["heatmaps"] for k_, v_ in zip(gt_kpts, gt_vis)]
)
out["js_pred"], out["js_gt"] = pred_hm, f32(gt_hm)
for utw in (0, 1):
    for sa in (0, 1):
        out[f"js_{utw}{sa}"] = loss_value(
            dict(
                type="JSDiscretLoss",
                use_target_weight=bool(utw),
                size_average=bool(sa),
            ),
            pred_hm,
            gt_hm,
            lw if utw else None,
        )
wrapper = MODELS.build(
    dict(
        type="MultipleLossWrapper",
        losses=[
            dict(type="SmoothL1Loss", use_target_weight=True),
            dict(type="JSDiscretLoss", use_target_weight=True),
        ],
    )
)
wl = wrapper([t(pred), t(pred_hm)], [t(target), t(gt_hm)], t(lw))
out["wrapper"] = f32([v.detach() for v in wl])


def flow_weight(index, shape):
    """Deterministic non-trivial flow weights (the tests rebuild them from
    the stored key order instead of storing 54k floats)."""
    size = int(np.prod(shape))
    values = 0.3 * np.sin(np.arange(size) * 0.37 + index * 1.3)
    return values.reshape(shape).astype(np.float32)


def set_flow(flow):
    with torch.no_grad():
        for i, (_, p) in enumerate(flow.named_parameters()):
            p.copy_(torch.from_numpy(flow_weight(i, tuple(p.shape))))


# RLELoss: a flow with non-trivial weights
rle = MODELS.build(dict(type="RLELoss"))
set_flow(rle.flow_model)
out["rle_flow_keys"] = np.array(
    [name for name, _ in rle.flow_model.named_parameters()]
)
sigma_logits = rng.normal(size=(B, LK, 2)).astype(np.float32)
out["rle_sigma"] = sigma_logits
out["rle_error"] = rng.normal(size=(7, 2)).astype(np.float32)
out["rle_log_prob"] = f32(rle.flow_model.log_prob(t(out["rle_error"])).detach())
for utw in (0, 1):
    for sa in (0, 1):
        for res, q in ((1, "laplace"), (1, "gaussian"), (0, "laplace")):
            loss = MODELS.build(
                dict(
                    type="RLELoss",
                    use_target_weight=bool(utw),
                    size_average=bool(sa),
                    residual=bool(res),
                    q_distribution=q,
                )
            )
            loss.load_state_dict(rle.state_dict())
            p_ = t(pred).requires_grad_(True)
            s_ = t(sigma_logits).requires_grad_(True)
            value = loss(p_, s_, t(target), t(lw[..., None]) if utw else None)
            value.backward()
            tag = f"rle_{utw}{sa}{res}{q[0]}"
            out[tag] = f32(value.detach())
            out[tag + "_gpred"] = f32(p_.grad)
            out[tag + "_gsigma"] = f32(s_.grad)
            out[tag + "_gflow"] = f32(loss.flow_model.s[0][0].weight.grad)


# --- Heads -------------------------------------------------------------------
HK, C = 5, 8
FEAT_W, FEAT_H = 3, 4
HEAD_INPUT = (24, 32)
FLIP = [0, 2, 1, 4, 3]
feat = rng.normal(size=(2, C, FEAT_H, FEAT_W)).astype(np.float32)
feat_flip = rng.normal(size=(2, C, FEAT_H, FEAT_W)).astype(np.float32)
out["head_feat"], out["head_feat_flip"] = feat, feat_flip


def randomize(module, std=0.3):
    with torch.no_grad():
        for p in module.parameters():
            if p.requires_grad:  # not the integral heads' linspace grids
                p.copy_(torch.randn_like(p) * std)
        for name, b in module.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 0.1)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) + 0.5)


def samples(batch):
    return [
        PoseDataSample(metainfo=dict(flip_indices=FLIP, input_size=HEAD_INPUT))
        for _ in range(batch)
    ]


def labelled(coords, batch_size):
    """Labels close to the predictions (so PCK is not trivially 0)."""
    noise = rng.normal(scale=0.05, size=coords.shape).astype(np.float32)
    labels = f32(coords[..., :2]) + noise[..., :2]
    weights = (rng.uniform(size=(batch_size, HK)) > 0.25).astype(np.float32)
    return labels, weights


def data_samples(labels, weights, heatmaps=None):
    from mmengine.structures import InstanceData
    from mmengine.structures import PixelData

    out_samples = []
    for i in range(len(labels)):
        s = PoseDataSample(
            metainfo=dict(flip_indices=FLIP, input_size=HEAD_INPUT)
        )
        s.gt_instance_labels = InstanceData(
            keypoint_labels=t(labels[i : i + 1]),
            keypoint_weights=t(weights[i : i + 1]),
        )
        if heatmaps is not None:
            s.gt_fields = PixelData(heatmaps=t(heatmaps[i]))
        out_samples.append(s)
    return out_samples


def store_head(tag, head, feats, feats_flip, test_cfg, heatmaps=None):
    head.eval()
    randomize(head)
    for key, value in head.state_dict().items():
        if key.startswith("loss_module.flow_model."):
            continue  # set_flow's formula, see flow_weight
        out[f"w:{tag}:{key}"] = f32(value)
    if hasattr(head.loss_module, "flow_model"):
        set_flow(head.loss_module.flow_model)
    with torch.no_grad():
        outputs = head.forward(feats)
        coords = outputs[0] if isinstance(outputs, tuple) else outputs
        out[f"{tag}_out"] = f32(coords)
        if isinstance(outputs, tuple):
            out[f"{tag}_heatmaps"] = f32(outputs[1])
        labels, weights = labelled(f32(coords), len(coords))
        out[f"{tag}_labels"], out[f"{tag}_weights"] = labels, weights
        losses = head.loss(feats, data_samples(labels, weights, heatmaps))
        out[f"{tag}_loss_kpt"] = f32(losses["loss_kpt"])
        out[f"{tag}_acc_pose"] = f32(losses["acc_pose"])
        preds = head.predict([feats, feats_flip], samples(2), test_cfg)
        if isinstance(preds, tuple):
            preds, fields = preds
            out[f"{tag}_pred_heatmaps"] = np.stack(
                [f32(f.heatmaps) for f in fields]
            )
        out[f"{tag}_pred_keypoints"] = np.concatenate(
            [f32(p.keypoints) for p in preds]
        )
        out[f"{tag}_pred_scores"] = np.concatenate(
            [f32(p.keypoint_scores) for p in preds]
        )
        plain = head.predict(feats, samples(2), dict(flip_test=False))
        plain = plain[0] if isinstance(plain, tuple) else plain
        out[f"{tag}_plain_keypoints"] = np.concatenate(
            [f32(p.keypoints) for p in plain]
        )


gap = MODELS.build(dict(type="GlobalAveragePooling"))
pooled = gap((t(feat),))
pooled_flip = gap((t(feat_flip),))
reg_decoder = dict(type="RegressionLabel", input_size=HEAD_INPUT)
store_head(
    "head_reg",
    MODELS.build(
        dict(
            type="RegressionHead",
            in_channels=C,
            num_joints=HK,
            decoder=reg_decoder,
        )
    ),
    pooled,
    pooled_flip,
    dict(flip_test=True, shift_coords=True),
)
store_head(
    "head_rle",
    MODELS.build(
        dict(
            type="RLEHead",
            in_channels=C,
            num_joints=HK,
            loss=dict(type="RLELoss", use_target_weight=True),
            decoder=reg_decoder,
        )
    ),
    pooled,
    pooled_flip,
    dict(flip_test=True, shift_coords=False),
)
ipr_decoder = dict(
    type="IntegralRegressionLabel",
    input_size=HEAD_INPUT,
    heatmap_size=(FEAT_W * 2, FEAT_H * 2),
    sigma=1.0,
)
store_head(
    "head_ipr",
    MODELS.build(
        dict(
            type="IntegralRegressionHead",
            in_channels=C,
            in_featuremap_size=(FEAT_W, FEAT_H),
            num_joints=HK,
            deconv_out_channels=(8,),
            deconv_kernel_sizes=(4,),
            conv_out_channels=(8,),
            conv_kernel_sizes=(3,),
            decoder=ipr_decoder,
        )
    ),
    (t(feat),),
    (t(feat_flip),),
    dict(
        flip_test=True,
        shift_coords=True,
        shift_heatmap=True,
        output_heatmaps=True,
    ),
)
store_head(
    "head_ipr_debias",
    MODELS.build(
        dict(
            type="IntegralRegressionHead",
            in_channels=C,
            in_featuremap_size=(FEAT_W, FEAT_H),
            num_joints=HK,
            debias=True,
            beta=2.0,
            deconv_out_channels=None,
            decoder=dict(ipr_decoder, heatmap_size=(FEAT_W, FEAT_H)),
        )
    ),
    (t(feat),),
    (t(feat_flip),),
    dict(flip_test=True, output_heatmaps=True),
)
dsnt_codec = KEYPOINT_CODECS.build(ipr_decoder)
dsnt_gt = np.stack(
    [
        dsnt_codec.encode(k_, v_)["heatmaps"]
        for k_, v_ in zip(
            rng.uniform(0, 24, size=(2, 1, HK, 2)).astype(np.float32),
            np.ones((2, 1, HK), np.float32),
        )
    ]
)
out["head_dsnt_gt_heatmaps"] = f32(dsnt_gt)
dsnt = MODELS.build(
    dict(
        type="DSNTHead",
        in_channels=C,
        in_featuremap_size=(FEAT_W, FEAT_H),
        num_joints=HK,
        lambda_t=3,
        deconv_out_channels=(8,),
        deconv_kernel_sizes=(4,),
        decoder=ipr_decoder,
    )
)
MessageHub.get_current_instance().update_info("epoch", 1)
store_head(
    "head_dsnt",
    dsnt,
    (t(feat),),
    (t(feat_flip),),
    dict(flip_test=True, shift_coords=True, shift_heatmap=True),
    heatmaps=dsnt_gt,
)
MessageHub.get_current_instance().update_info("epoch", 3)
with torch.no_grad():
    late = dsnt.loss(
        (t(feat),),
        data_samples(
            out["head_dsnt_labels"], out["head_dsnt_weights"], dsnt_gt
        ),
    )
out["head_dsnt_loss_kpt_late"] = f32(late["loss_kpt"])

# --- keypoint_pck_accuracy with a norm factor (zero / negative rows) -------
from mmpose.evaluation.functional import keypoint_pck_accuracy  # noqa: E402

acc_pred = rng.uniform(0, 10, size=(4, HK, 2)).astype(np.float32)
acc_gt = (acc_pred + rng.normal(scale=1.5, size=acc_pred.shape)).astype(
    np.float32
)
acc_mask = rng.uniform(size=(4, HK)) > 0.3
acc_mask[:, 4] = False  # a keypoint without any valid sample
acc_norm = np.array([[5, 6], [0, 4], [-1, 3], [8, 2]], np.float32)
out["acc_pred"], out["acc_gt"] = acc_pred, acc_gt
out["acc_mask"], out["acc_norm"] = acc_mask, acc_norm
out["acc_avg"] = f32(
    keypoint_pck_accuracy(acc_pred, acc_gt, acc_mask, 0.3, acc_norm.copy())[1]
)

# --- Trainable parameter counts of the MMPose configs' heads ----------------
CFG = Path(mmpose.__file__).parent / ".mim" / "configs" / "body_2d_keypoint"
REG, IPR = "topdown_regression/coco/", "integral_regression/coco/"
for tag, rel in {
    "td_reg": REG + "td-reg_res50_8xb64-210e_coco-256x192.py",
    "td_rle": REG + "td-reg_res50_rle-8xb64-210e_coco-256x192.py",
    "ipr_dsnt": IPR + "ipr_res50_dsnt-8xb64-210e_coco-256x256.py",
}.items():
    cfg = Config.fromfile(str(CFG / rel))
    head = MODELS.build(cfg.model.head)
    out[f"params_{tag}"] = np.int64(
        sum(p.numel() for p in head.parameters() if p.requires_grad)
    )

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
np.savez_compressed(path / "mmpose_regression.npz", **out)
print({k: v.shape for k, v in out.items() if k.startswith("params")})
print(sorted(k for k in out if not k.startswith("w:"))[:200])

"""Generates tests/fixtures/mmpose_tcn.npz with the real MMPose 1.3.2.

Run from the repository root with the MMPose reference environment (see
../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_tcn_fixtures.py ../shared/reference

Tiny ``TCN`` backbones (dilated / strided, causal / symmetric, with and
without ``max_norm``) with lifting heads, random weights and BatchNorm
statistics, in eval mode: their state dicts (MMPose names, saved before the
first forward pass, which clips weights in place under ``max_norm``), the
inputs (MMPose's channels-first (B, K * C, T)), every backbone output and
the raw head outputs; head losses through ``head.loss`` with data samples;
``PoseLifter.predict`` outputs with ``target_root`` in the metainfo for a
``VideoPoseLifting`` and an ``ImagePoseLifting`` (standardised targets,
root removed) model.

Keys: ``<tag>_cfg`` (JSON of the model config), ``<tag>_input``,
``<tag>_out<i>`` (backbone outputs), ``<tag>_head``, ``<tag>_traj``,
``<tag>_state/<name>`` (float32 state dict entries).
"""

import json
import sys

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.codecs  # noqa: E402,F401
import mmpose.models  # noqa: E402,F401
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402
from mmpose.structures import PoseDataSample  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}
K, C, STEM, B = 4, 2, 16, 2


def randomize(model):
    """Random weights and BatchNorm statistics (deterministic)."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                v = rng.uniform(0.5, 1.5, t.shape)
            elif name.endswith("running_mean"):
                v = rng.normal(0, 0.2, t.shape)
            else:
                v = rng.normal(0, 0.3, t.shape)
            t.copy_(torch.from_numpy(v.astype(np.float32)))


def save_state(tag, model):
    for name, t in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        out[f"{tag}_state/{name}"] = t.detach().numpy().astype(np.float32)


CASES = {
    # tag: (TCN kwargs, T)
    "dilated": (dict(kernel_sizes=(3, 3, 3)), 29),
    "dilated_causal": (dict(kernel_sizes=(3, 3, 3), causal=True), 30),
    "stride": (dict(kernel_sizes=(3, 3, 3), use_stride_conv=True), 27),
    "stride_causal": (
        dict(kernel_sizes=(3, 3, 3), use_stride_conv=True, causal=True),
        27,
    ),
    "stride5": (
        dict(kernel_sizes=(3, 5, 3), num_blocks=2, use_stride_conv=True),
        45,
    ),
    "no_residual": (dict(kernel_sizes=(1, 1, 1), residual=False), 1),
    "max_norm": (
        dict(kernel_sizes=(3, 3, 3), use_stride_conv=True, max_norm=1.0),
        27,
    ),
}
for tag, (kwargs, T) in CASES.items():
    cfg = dict(
        type="PoseLifter",
        backbone=dict(
            type="TCN",
            in_channels=K * C,
            stem_channels=STEM,
            num_blocks=kwargs.pop("num_blocks", 2),
            dropout=0.25,
            **kwargs,
        ),
        head=dict(
            type="TemporalRegressionHead",
            in_channels=STEM,
            num_joints=K,
            loss=dict(type="MPJPELoss"),
        ),
        traj_head=dict(
            type="TrajectoryRegressionHead",
            in_channels=STEM,
            num_joints=1,
            loss=dict(type="MPJPELoss", use_target_weight=True),
        ),
    )
    model = MODELS.build(cfg)
    randomize(model)
    model.eval()
    save_state(tag, model)  # before the forward pass (max_norm clips)
    x = rng.normal(0, 1, (B, K * C, T)).astype(np.float32)
    with torch.no_grad():
        feats, traj_feats = model.extract_feat(torch.from_numpy(x))
        head = model.head.forward(feats)
        traj = model.traj_head.forward(traj_feats)
    out[f"{tag}_cfg"] = json.dumps(cfg)
    out[f"{tag}_input"] = x
    for i, f in enumerate(feats):
        out[f"{tag}_out{i}"] = f.numpy()
    out[f"{tag}_head"] = head.numpy()
    out[f"{tag}_traj"] = traj.numpy()

# --- head losses (MMPose's head.loss with data samples) ---------------------
feat = torch.from_numpy(rng.normal(0, 1, (B, STEM, 1)).astype(np.float32))
labels = rng.normal(0, 1, (B, 1, K, 3)).astype(np.float32)
weights = (rng.uniform(size=(B, 1, K)) > 0.3).astype(np.float32)
weights[0, 0, 0] = 1.0
traj_w = rng.uniform(0.2, 1.0, (B, 1, K)).astype(np.float32)
traj_w[1, 0, 2] = 0.0
samples = []
for i in range(B):
    s = PoseDataSample()
    s.gt_instance_labels = InstanceData(
        lifting_target_label=torch.from_numpy(labels[i]),
        lifting_target_weight=torch.from_numpy(weights[i]),
        trajectory_weights=torch.from_numpy(traj_w[i]),
    )
    samples.append(s)
out["loss_feat"] = feat.numpy()
out["loss_labels"] = labels
out["loss_weights"] = weights
out["loss_traj_weights"] = traj_w
for tag, head_cfg in {
    "loss_mse": dict(
        type="TemporalRegressionHead",
        loss=dict(type="MSELoss", use_target_weight=True),
    ),
    "loss_mpjpe": dict(
        type="TemporalRegressionHead", loss=dict(type="MPJPELoss")
    ),
    "loss_traj": dict(type="TrajectoryRegressionHead", num_joints=1),
}.items():
    head_cfg = dict(dict(in_channels=STEM, num_joints=K), **head_cfg)
    head = MODELS.build(head_cfg)
    randomize(head)
    save_state(tag, head)
    with torch.no_grad():
        losses = head.loss((feat,), samples)
    out[f"{tag}_cfg"] = json.dumps(head_cfg)
    for name, value in losses.items():
        out[f"{tag}_{name}"] = np.float32(value.item())

# --- PoseLifter.predict (decoding with target_root) -----------------------
target_mean = rng.normal(0, 0.3, (K - 1, 3)).astype(np.float32)
target_std = rng.uniform(0.5, 1.5, (K - 1, 3)).astype(np.float32)
codecs = {
    "predict_video": (
        dict(type="VideoPoseLifting", num_keypoints=K, root_index=0),
        K,
        dict(kernel_sizes=(3, 3, 3), use_stride_conv=True),
        27,
    ),
    "predict_image": (
        dict(
            type="ImagePoseLifting",
            num_keypoints=K,
            root_index=0,
            remove_root=True,
            target_mean=target_mean.tolist(),
            target_std=target_std.tolist(),
        ),
        K - 1,
        dict(kernel_sizes=(1, 1, 1), dropout=0.5),
        1,
    ),
}
for tag, (codec, joints, tcn, T) in codecs.items():
    cfg = dict(
        type="PoseLifter",
        backbone=dict(type="TCN", in_channels=K * C, stem_channels=STEM, **tcn),
        head=dict(
            type="TemporalRegressionHead",
            in_channels=STEM,
            num_joints=joints,
            loss=dict(type="MSELoss"),
            decoder=codec,
        ),
    )
    model = MODELS.build(cfg)
    randomize(model)
    model.eval()
    save_state(tag, model)
    x = rng.normal(0, 1, (B, K * C, T)).astype(np.float32)
    roots = rng.normal(0, 1, (B, 1, 3)).astype(np.float32)
    samples = []
    for i in range(B):
        s = PoseDataSample()
        s.set_metainfo(dict(target_root=roots[i]))
        samples.append(s)
    with torch.no_grad():
        results = model.predict(torch.from_numpy(x), samples)
    out[f"{tag}_cfg"] = json.dumps(cfg)
    out[f"{tag}_input"] = x
    out[f"{tag}_target_root"] = roots
    out[f"{tag}_keypoints"] = np.stack(
        [np.asarray(r.pred_instances.keypoints).reshape(K, 3) for r in results]
    ).astype(np.float32)
    out[f"{tag}_scores"] = np.stack(
        [
            np.asarray(r.pred_instances.keypoint_scores).reshape(K)
            for r in results
        ]
    ).astype(np.float32)

np.savez_compressed("tests/fixtures/mmpose_tcn.npz", **out)
print(f"{len(out)} arrays")

"""Generates tests/fixtures/mmpose_inference.npz: MMPose's whole-image
top-down inference on the COCO samples, with tiny MMPose checkpoints.

Run with the MMPose reference environment (see ../shared/reference/README.md)
and its torchvision stub from the repository root:

    PYTHONPATH=/work/ref-stubs $REF/bin/python \\
        tools/make_mmpose_inference_fixtures.py ../shared/reference

For each tiny model below the real MMPose builds the ``TopdownPoseEstimator``
with fixed seeds, replaces its state by small-integer multiples of powers of
two (exact in float32; BatchNorm running statistics random, variances
positive), saves it with ``torch.save({"state_dict": ..., "meta": ...})``
(COCO's ``dataset_meta``), and loads it back with ``mmpose.apis.init_model``
together with a config whose test pipeline is MMPose's usual one
(``LoadImage``, ``GetBBoxCenterScale``, ``TopdownAffine``,
``PackPoseInputs``). ``mmpose.apis.inference_topdown`` then runs on every
image of ``../shared/data/coco/test_coco.json`` with all its ground-truth
boxes (``bbox_format="xywh"``, as the JSON stores them), with flip test off
and on (``model.test_cfg["flip_test"]``).

Written:

- ``tests/fixtures/mmpose_ckpt/infer_<name>.pth.xz``: the ``.pth`` file,
  xz-compressed (decompress with ``lzma`` to get the checkpoint).
- ``tests/fixtures/mmpose_inference.npz`` with
  - ``names``: JSON list of the model names; ``<name>_model``: JSON of the
    MMPose model dict (builds with ``keraspose.build`` and MMPose);
    ``<name>_pth_md5``: md5 of the uncompressed ``.pth``;
  - ``images``: JSON list of the image file names; ``<img>_bboxes``: the
    (N, 4) xywh boxes (float64, from the JSON);
  - ``<name>_<img>_flip<0|1>_keypoints`` (N, K, 2) float32 and
    ``..._keypoint_scores`` (N, K) float32: MMPose's predictions;
  - ``<name>_<img>_crop_md5``: JSON list of the md5 digests of the crops
    MMPose fed the model (uint8 (h, w, 3) BGR bytes);
  - ``warp_*``: MMPose's ``GetBBoxCenterScale`` + ``TopdownAffine`` on
    random boxes of the same images (inside, straddling and outside the
    image; standard and UDP warps; float32 and float64 boxes): ``warp_img``
    (M,) image index, ``warp_boxes`` (M, 4) xyxy float64 and
    ``warp_float32`` (M,) whether they were cast to float32, ``warp_size``
    (M, 2), ``warp_udp`` (M,), ``warp_center`` / ``warp_scale`` (M, 2) and
    ``warp_md5`` (JSON list) of the crops.
"""

import copy
import hashlib
import io
import json
import lzma
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

# mmengine's load_checkpoint calls torch.load with PyTorch's default
# weights_only=True since 2.6, which refuses the NumPy arrays of the
# dataset_meta (as in MMPose's published checkpoints); these files are ours.
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

import torch  # noqa: E402

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import fixture_common  # noqa: E402  (tools/fixture_common.py)

fixture_common.install_mmdet_stubs()


fixture_common.install_mmpose_apis_stubs()

import mmdet.models  # noqa: E402,F401  (registers CSPNeXt)
import mmpose  # noqa: E402
import mmpose.models  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import Compose  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.apis import inference_topdown  # noqa: E402
from mmpose.apis import init_model  # noqa: E402
from mmpose.datasets.datasets.utils import parse_pose_metainfo  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

init_default_scope("mmpose")

ROOT = Path(__file__).resolve().parents[1]
COCO = ROOT.parent / "shared" / "data" / "coco"
K = 17
INPUT = (96, 128)  # (w, h): 192x256 halved; heatmaps 24x32 (1/4).
PREPROCESSOR = dict(
    type="PoseDataPreprocessor",
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
)
HEATMAP_TEST = dict(flip_test=True, flip_mode="heatmap", shift_heatmap=True)
RES18 = dict(type="ResNet", depth=18, base_channels=4, stem_channels=8)


def heatmap_head(codec_type):
    return dict(
        type="HeatmapHead",
        in_channels=32,
        out_channels=K,
        deconv_out_channels=(16, 16, 16),
        deconv_kernel_sizes=(4, 4, 4),
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
        decoder=dict(
            type=codec_type, input_size=INPUT, heatmap_size=(24, 32), sigma=2
        ),
    )


MODELS_CFG = {
    # td-hm_res50_8xb64-210e_coco-256x192 (SimpleBaseline), tiny ResNet-18.
    "simplebaseline_res18": dict(
        model=dict(
            type="TopdownPoseEstimator",
            data_preprocessor=PREPROCESSOR,
            backbone=RES18,
            head=heatmap_head("MSRAHeatmap"),
            test_cfg=HEATMAP_TEST,
        ),
        use_udp=False,
    ),
    # The same with the UDP codec and TopdownAffine(use_udp=True), as
    # MMPose's *_udp-* configs pair them.
    "udp_res18": dict(
        model=dict(
            type="TopdownPoseEstimator",
            data_preprocessor=PREPROCESSOR,
            backbone=RES18,
            head=heatmap_head("UDPHeatmap"),
            test_cfg=dict(HEATMAP_TEST, shift_heatmap=False),
        ),
        use_udp=True,
    ),
    # rtmpose-m_8xb256-420e_coco-256x192 in miniature.
    "rtmpose": dict(
        model=dict(
            type="TopdownPoseEstimator",
            data_preprocessor=PREPROCESSOR,
            backbone=dict(
                _scope_="mmdet",
                type="CSPNeXt",
                arch="P5",
                expand_ratio=0.5,
                deepen_factor=0.167,
                widen_factor=0.03125,
                out_indices=(4,),
                channel_attention=True,
                norm_cfg=dict(type="SyncBN"),
                act_cfg=dict(type="SiLU"),
            ),
            head=dict(
                type="RTMCCHead",
                in_channels=32,
                out_channels=K,
                input_size=INPUT,
                in_featuremap_size=(3, 4),
                simcc_split_ratio=2.0,
                final_layer_kernel_size=7,
                gau_cfg=dict(
                    hidden_dims=16,
                    s=8,
                    expansion_factor=2,
                    dropout_rate=0.0,
                    drop_path=0.0,
                    act_fn="SiLU",
                    use_rel_bias=False,
                    pos_enc=False,
                ),
                loss=dict(
                    type="KLDiscretLoss",
                    use_target_weight=True,
                    beta=10.0,
                    label_softmax=True,
                ),
                decoder=dict(
                    type="SimCCLabel",
                    input_size=INPUT,
                    sigma=(4.9, 5.66),
                    simcc_split_ratio=2.0,
                    normalize=False,
                    use_dark=False,
                ),
            ),
            test_cfg=dict(flip_test=True),
        ),
        use_udp=False,
        # At the default gain the tiny CSPNeXt's signal dies out: the head
        # output does not depend on the image, and flip test averages it
        # with its mirror image, making exact ties between mirrored SimCC
        # bins (argmax then follows float rounding).
        gain=0.5,
    ),
}


def pipeline(use_udp):
    return [
        dict(type="LoadImage"),
        dict(type="GetBBoxCenterScale"),
        dict(type="TopdownAffine", input_size=INPUT, use_udp=use_udp),
        dict(type="PackPoseInputs"),
    ]


def quantize(net, rng, kernel_gain=2.0):
    """Small-integer multiples of powers of two for every state entry.

    Kernels get about ``1 / (kernel_gain * sqrt(fan_in))`` per unit.
    """
    from torch.nn.modules.batchnorm import _BatchNorm

    norms = {n for n, m in net.named_modules() if isinstance(m, _BatchNorm)}
    transposed = {
        n
        for n, m in net.named_modules()
        if isinstance(m, torch.nn.ConvTranspose2d)
    }
    with torch.no_grad():
        for key, tensor in net.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            owner, leaf = key.rsplit(".", 1)
            shape = tuple(tensor.shape)
            if owner in norms:
                exp, lo, hi = (3, 4, 13) if leaf != "bias" else (4, -4, 5)
                if leaf == "running_mean":
                    exp, lo, hi = 4, -4, 5
            elif leaf == "weight" and len(shape) >= 2:
                if owner in transposed:  # (in, out, kh, kw), stride 2
                    fan_in = shape[1] * int(np.prod(shape[2:])) / 4
                else:
                    fan_in = int(np.prod(shape[1:]))
                gain = kernel_gain * np.sqrt(fan_in)
                exp, lo, hi = int(round(np.log2(gain))), -3, 4
            elif leaf in ("g", "gamma", "scale"):
                exp, lo, hi = 3, 4, 13
            elif leaf == "bias":
                exp, lo, hi = 3, -4, 5
            else:
                exp, lo, hi = 4, -4, 5
            q = rng.integers(lo, hi, size=shape).astype(np.float32)
            tensor.copy_(torch.from_numpy(q * 2.0**-exp))


def crop_digest(crop):
    return hashlib.md5(
        np.ascontiguousarray(crop, np.uint8).tobytes()
    ).hexdigest()


def main():
    coco = json.loads((COCO / "test_coco.json").read_text())
    images = [im["file_name"] for im in coco["images"]]
    boxes = {
        im["file_name"]: np.array(
            [
                a["bbox"]
                for a in coco["annotations"]
                if a["image_id"] == im["id"]
            ],
            np.float64,
        )
        for im in coco["images"]
    }
    coco_meta = parse_pose_metainfo(
        dict(from_file="configs/_base_/datasets/coco.py")
    )
    out = {
        "names": np.array(json.dumps(list(MODELS_CFG))),
        "images": np.array(json.dumps(images)),
    }
    for name in images:
        out[f"{name}_bboxes"] = boxes[name]
    ckpt_dir = ROOT / "tests" / "fixtures" / "mmpose_ckpt"
    ckpt_dir.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    for i, (name, spec) in enumerate(MODELS_CFG.items()):
        model_cfg = spec["model"]
        torch.manual_seed(i)
        net = MODELS.build(copy.deepcopy(model_cfg))
        quantize(net, np.random.default_rng(100 + i), spec.get("gain", 2.0))
        meta = dict(
            mmpose_version=mmpose.__version__,
            dataset_meta=coco_meta,
            experiment_name=f"infer_{name}",
        )
        buf = io.BytesIO()
        torch.save({"state_dict": net.state_dict(), "meta": meta}, buf)
        data = buf.getvalue()
        pth = tmp / f"infer_{name}.pth"
        pth.write_bytes(data)
        packed = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)
        (ckpt_dir / f"infer_{name}.pth.xz").write_bytes(packed)
        out[f"{name}_model"] = np.array(json.dumps(model_cfg))
        out[f"{name}_pth_md5"] = np.array(hashlib.md5(data).hexdigest())

        cfg = Config(
            dict(
                default_scope="mmpose",
                model=copy.deepcopy(model_cfg),
                test_dataloader=dict(
                    dataset=dict(
                        type="CocoDataset", pipeline=pipeline(spec["use_udp"])
                    )
                ),
            )
        )
        model = init_model(cfg, str(pth), device="cpu")
        crop_pipe = Compose(pipeline(spec["use_udp"])[:3])
        for img in images:
            path = str(COCO / img)
            digests = []
            for box in boxes[img]:
                xyxy = box.copy()
                xyxy[2:] += xyxy[:2]
                res = crop_pipe(dict(img_path=path, bbox=xyxy[None]))
                digests.append(crop_digest(res["img"]))
            out[f"{name}_{img}_crop_md5"] = np.array(json.dumps(digests))
            for flip in (0, 1):
                model.test_cfg["flip_test"] = bool(flip)
                results = inference_topdown(
                    model, path, boxes[img].tolist(), bbox_format="xywh"
                )
                kpts = np.concatenate(
                    [r.pred_instances.keypoints for r in results]
                )
                scores = np.concatenate(
                    [r.pred_instances.keypoint_scores for r in results]
                )
                key = f"{name}_{img}_flip{flip}"
                out[f"{key}_keypoints"] = kpts.astype(np.float32)
                out[f"{key}_keypoint_scores"] = scores.astype(np.float32)
        with torch.no_grad():
            feats = model.extract_feat(torch.randn(4, 3, INPUT[1], INPUT[0]))
        spread = float(feats[-1].std(0).mean() / feats[-1].abs().mean())
        print(
            f"{name:22s} feature spread across images {spread:.3f}; "
            f"pth {len(data) / 1024:6.1f} KB xz "
            f"{len(packed) / 1024:5.1f} KB; last scores "
            f"{np.round(scores[0, :5], 3).tolist()}"
        )

    # Random boxes: MMPose's crops, bit for bit.
    rng = np.random.default_rng(0)
    decoded = [
        Compose([dict(type="LoadImage")])(dict(img_path=str(COCO / n)))["img"]
        for n in images
    ]
    rows = []
    for t in range(48):
        j = t % len(images)
        h, w = decoded[j].shape[:2]
        x0 = rng.uniform(-0.3 * w, w)
        y0 = rng.uniform(-0.3 * h, h)
        box = np.array([x0, y0, x0 + rng.uniform(2, w), y0 + rng.uniform(2, h)])
        as32 = t % 2 == 1
        size = [(192, 256), (96, 128), (48, 64), (288, 384)][t % 4]
        udp = t % 3 == 0
        bbox = box.astype(np.float32) if as32 else box
        res = Compose(
            [
                dict(type="GetBBoxCenterScale"),
                dict(type="TopdownAffine", input_size=size, use_udp=udp),
            ]
        )(dict(img=decoded[j].copy(), bbox=bbox[None]))
        rows.append(
            (
                j,
                box,
                as32,
                size,
                udp,
                res["input_center"],
                res["input_scale"],
                crop_digest(res["img"]),
            )
        )
    out["warp_img"] = np.array([r[0] for r in rows], np.int32)
    out["warp_boxes"] = np.stack([r[1] for r in rows])
    out["warp_float32"] = np.array([r[2] for r in rows])
    out["warp_size"] = np.array([r[3] for r in rows], np.int32)
    out["warp_udp"] = np.array([r[4] for r in rows])
    out["warp_center"] = np.stack([r[5] for r in rows]).astype(np.float64)
    out["warp_scale"] = np.stack([r[6] for r in rows]).astype(np.float64)
    out["warp_md5"] = np.array(json.dumps([r[7] for r in rows]))

    path = ROOT / "tests" / "fixtures" / "mmpose_inference.npz"
    np.savez_compressed(path, **out)
    print("wrote", path, f"{path.stat().st_size / 1024:.1f} KB")


if __name__ == "__main__":
    main()

"""Generates tests/fixtures/mmpose_ckpt.npz: real MMPose checkpoints.

Run with the MMPose reference environment (see ../shared/reference/README.md)
and its torchvision stub on the path (mmpretrain's ViT needs it):

    PYTHONPATH=/work/ref-stubs $REF/bin/python \\
        tools/make_mmpose_checkpoint_fixtures.py ../shared/reference

For every tiny model below the real MMPose builds the full
``TopdownPoseEstimator`` (``init_weights()``, fixed seeds, eval mode, SyncBN
reverted to BN as ``mmpose.apis.init_model`` does), its state is replaced by
small-integer multiples of powers of two (exact in float32; BatchNorm
running statistics random, variances positive) and written back into the
torch model, and ``torch.save({"state_dict": ..., "meta": ...})`` writes a
genuine ``.pth`` (the zip format, and the legacy format for the models in
``LEGACY``). The meta holds what MMPose's published checkpoints hold
(``dataset_meta`` with NumPy arrays, versions, the config text).

Stored:

- ``tests/fixtures/mmpose_ckpt/<name>.pth.xz``: the ``.pth`` files,
  xz-compressed (``lzma.decompress`` gives the bytes ``torch.save`` wrote).
  Uncompressed, a checkpoint pays ~300 bytes of zip headers and padding
  per tensor (a ResNet-50's ~330 tensors: ~100 KB for ~10k values); xz
  takes the set from ~2.7 MB to ~0.3 MB.
- ``tests/fixtures/mmpose_ckpt.npz``:

  - ``names``: JSON list of the model names.
  - ``images``: (2, 64, 32, 3) uint8 BGR images, the inputs of every
    model (cast to float32 for ``model(images)``).
  - ``<name>_model``: JSON of the model dict, MMPose's format verbatim
    (the head's ``decoder`` codec and ``test_cfg`` as MMPose configs have
    them); it builds with ``mmpose.registry.MODELS`` and
    ``keraspose.build``.
  - ``<name>_pth_md5``: md5 of the uncompressed ``.pth`` bytes.
  - ``<name>_out<i>``: MMPose's raw head outputs ``model._forward(inputs)``
    (inputs from MMPose's own ``PoseDataPreprocessor``: bgr -> rgb,
    ``(x - mean) / std``), flattened in order and laid out as keraspose's
    ``model(images)`` returns them: heatmaps channels-last (N, H, W, K),
    SimCC vectors (N, K, W) unchanged, coordinates (N, K, D) unchanged,
    visibilities (N, K).

The ``simplebaseline_res50`` checkpoint is written in torch's legacy
(non-zip) format, the others in the zip format.
"""

import copy
import hashlib
import io
import json
import logging
import lzma
import pickle
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import fixture_common  # noqa: E402  (tools/fixture_common.py)

fixture_common.install_mmdet_stubs()

import mmdet.models  # noqa: E402,F401  (registers CSPNeXt, CSPNeXtPAFPN)
import mmpose  # noqa: E402
import mmpose.models  # noqa: E402,F401
import mmpretrain.models  # noqa: E402,F401  (registers VisionTransformer)
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.model.utils import revert_sync_batchnorm  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402
from mmpose.structures import PoseDataSample  # noqa: E402

init_default_scope("mmpose")
MMLogger.get_current_instance().setLevel(logging.WARNING)  # init_weights
warnings.filterwarnings("ignore", category=UserWarning)

K = 3
INPUT = (32, 64)  # codec input_size (w, h); images are (N, 64, 32, 3)
FLIP = [0, 2, 1]
PREPROCESSOR = dict(
    type="PoseDataPreprocessor",
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
)
MSRA = dict(type="MSRAHeatmap", input_size=INPUT, heatmap_size=(8, 16), sigma=2)
UDP = dict(type="UDPHeatmap", input_size=INPUT, heatmap_size=(8, 16), sigma=2)
HEATMAP_TEST = dict(flip_test=True, flip_mode="heatmap", shift_heatmap=True)
MSE = dict(type="KeypointMSELoss", use_target_weight=True)
SIMCC = dict(
    type="SimCCLabel", input_size=INPUT, sigma=6.0, simcc_split_ratio=2.0
)
RTM_SIMCC = dict(
    type="SimCCLabel",
    input_size=INPUT,
    sigma=(4.9, 5.66),
    simcc_split_ratio=2.0,
    normalize=False,
    use_dark=False,
)
REGRESSION = dict(type="RegressionLabel", input_size=INPUT)
IPR = dict(
    type="IntegralRegressionLabel",
    input_size=INPUT,
    heatmap_size=(8, 16),
    sigma=2.0,
    normalize=True,
)
# Tiny ResNets: depth 50's layout (3, 4, 6, 3 bottlenecks) at 1/64 width.
RES50 = dict(type="ResNet", depth=50, base_channels=1, stem_channels=4)
RES50_OUT = 32
RES18 = dict(type="ResNet", depth=18, base_channels=2, stem_channels=4)
RES18_OUT = 16


def model(backbone, head, test_cfg, neck=None):
    cfg = dict(
        type="TopdownPoseEstimator",
        data_preprocessor=PREPROCESSOR,
        backbone=backbone,
        neck=neck,
        head=head,
        test_cfg=test_cfg,
    )
    if neck is None:
        del cfg["neck"]
    return cfg


def hrnet_stage(branches, block, channels, modules=1, blocks=None):
    return dict(
        num_modules=modules,
        num_branches=branches,
        block=block,
        num_blocks=tuple(blocks or (1,) * branches),
        num_channels=tuple(channels),
    )


def deconv_head(in_channels, deconvs=(4, 4, 4), decoder=MSRA, **kwargs):
    return dict(
        type="HeatmapHead",
        in_channels=in_channels,
        out_channels=K,
        deconv_out_channels=deconvs,
        deconv_kernel_sizes=(4,) * len(deconvs) if deconvs else deconvs,
        loss=MSE,
        decoder=decoder,
        **kwargs,
    )


VIT_S = dict(
    type="mmpretrain.VisionTransformer",
    arch=dict(embed_dims=8, num_layers=2, num_heads=2, feedforward_channels=16),
    img_size=(64, 32),
    patch_size=16,
    qkv_bias=True,
    drop_path_rate=0.1,
    with_cls_token=False,
    out_type="featmap",
    patch_cfg=dict(padding=2),
)
CSPNEXT_M = dict(
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
)
GAU = dict(
    hidden_dims=16,
    s=8,
    expansion_factor=2,
    dropout_rate=0.0,
    drop_path=0.0,
    act_fn="SiLU",
    use_rel_bias=False,
    pos_enc=False,
)
RTM_LOSS = dict(
    type="KLDiscretLoss", use_target_weight=True, beta=10.0, label_softmax=True
)


def rtmcc_head(in_channels, in_featuremap_size):
    return dict(
        type="RTMCCHead",
        in_channels=in_channels,
        out_channels=K,
        input_size=INPUT,
        in_featuremap_size=in_featuremap_size,
        simcc_split_ratio=2.0,
        final_layer_kernel_size=7,
        gau_cfg=GAU,
        loss=RTM_LOSS,
        decoder=RTM_SIMCC,
    )


MODEL_CFGS = {
    # td-hm_res50_8xb64-210e_coco-256x192 (SimpleBaseline).
    "simplebaseline_res50": model(RES50, deconv_head(RES50_OUT), HEATMAP_TEST),
    # td-hm_resnetv1d50 (deep stem, average-pool shortcuts), at depth 18.
    "resnetv1d18": model(
        dict(RES18, type="ResNetV1d"),
        deconv_head(RES18_OUT, deconvs=(4,)),
        HEATMAP_TEST,
    ),
    # td-hm_hrnet-w32_8xb64-210e_coco-256x192 in miniature.
    "hrnet_w32": model(
        dict(
            type="HRNet",
            in_channels=3,
            extra=dict(
                stage1=hrnet_stage(1, "BOTTLENECK", (4,)),
                stage2=hrnet_stage(2, "BASIC", (2, 4)),
                stage3=hrnet_stage(3, "BASIC", (2, 4, 8), 2),
                stage4=hrnet_stage(4, "BASIC", (2, 4, 8, 8)),
            ),
        ),
        deconv_head(2, deconvs=None),
        HEATMAP_TEST,
    ),
    # rtmpose-m_8xb256-420e_coco-256x192 in miniature.
    "rtmpose_m": model(CSPNEXT_M, rtmcc_head(32, (1, 2)), dict(flip_test=True)),
    # RTMW's CSPNeXt + CSPNeXtPAFPN (with an RTMCCHead on the last level,
    # RTMWHead not being implemented).
    "cspnext_pafpn": model(
        dict(CSPNEXT_M, out_indices=(2, 3, 4)),
        rtmcc_head(32, (1, 2)),
        dict(flip_test=True),
        neck=dict(
            type="CSPNeXtPAFPN",
            in_channels=[8, 16, 32],
            out_channels=None,
            out_indices=(1, 2),
            num_csp_blocks=1,
            expand_ratio=0.5,
            norm_cfg=dict(type="SyncBN"),
            act_cfg=dict(type="SiLU", inplace=True),
        ),
    ),
    # td-hm_ViTPose-small_8xb64-210e_coco-256x192 (classic decoder).
    "vitpose_s": model(
        VIT_S,
        deconv_head(8, deconvs=(4, 4), decoder=UDP),
        dict(flip_test=True, flip_mode="heatmap", shift_heatmap=False),
    ),
    # td-hm_ViTPose-small-simple_8xb64-210e_coco-256x192.
    "vitpose_s_simple": model(
        VIT_S,
        deconv_head(
            8,
            deconvs=[],
            decoder=UDP,
            final_layer=dict(kernel_size=3, padding=1),
        ),
        dict(flip_test=True, flip_mode="heatmap", shift_heatmap=False),
        neck=dict(
            type="FeatureMapProcessor", scale_factor=4.0, apply_relu=True
        ),
    ),
    # td-hm_mobilenetv2_8xb64-210e_coco-256x192 (out index 7: the 1280
    # channel conv; no deconvs to keep the file small).
    "mobilenetv2": model(
        dict(type="MobileNetV2", widen_factor=0.025, out_indices=(7,)),
        deconv_head(
            1280, deconvs=None, decoder=dict(MSRA, heatmap_size=(1, 2))
        ),
        HEATMAP_TEST,
    ),
    # td-hm_litehrnet-18_8xb64-210e_coco-256x192 in miniature.
    "litehrnet_18": model(
        dict(
            type="LiteHRNet",
            in_channels=3,
            extra=dict(
                stem=dict(stem_channels=8, out_channels=8, expand_ratio=1),
                num_stages=3,
                stages_spec=dict(
                    num_modules=(1, 2, 1),
                    num_branches=(2, 3, 4),
                    num_blocks=(1, 1, 1),
                    module_type=("LITE", "LITE", "LITE"),
                    with_fuse=(True, True, True),
                    reduce_ratios=(2, 2, 2),
                    num_channels=((8, 8), (8, 8, 16), (8, 8, 16, 16)),
                ),
                with_head=True,
            ),
        ),
        deconv_head(8, deconvs=None),
        HEATMAP_TEST,
    ),
    # td-hm-vis_res50_8xb64-210e_coco-aic-256x192-merge.
    "vis_res18": model(
        RES18,
        dict(
            type="VisPredictHead",
            loss=dict(
                type="BCELoss",
                use_target_weight=True,
                use_sigmoid=True,
                loss_weight=1e-3,
            ),
            pose_cfg=deconv_head(RES18_OUT, deconvs=(4, 4, 4)),
        ),
        HEATMAP_TEST,
    ),
    # simcc_res50_8xb64-210e_coco-256x192 (two deconvs here).
    "simcc_res18": model(
        RES18,
        dict(
            type="SimCCHead",
            in_channels=RES18_OUT,
            out_channels=K,
            input_size=INPUT,
            in_featuremap_size=(1, 2),
            simcc_split_ratio=2.0,
            deconv_out_channels=(4, 4),
            deconv_kernel_sizes=(4, 4),
            loss=dict(type="KLDiscretLoss", use_target_weight=True),
            decoder=SIMCC,
        ),
        dict(flip_test=True),
    ),
    # td-reg_res50_8xb64-210e_coco-256x192 (DeepPose).
    "deeppose_res18": model(
        RES18,
        dict(
            type="RegressionHead",
            in_channels=RES18_OUT,
            num_joints=K,
            loss=dict(type="SmoothL1Loss", use_target_weight=True),
            decoder=REGRESSION,
        ),
        dict(flip_test=True, shift_coords=True),
        neck=dict(type="GlobalAveragePooling"),
    ),
    # td-reg_res50_rle-8xb64-210e_coco-256x192 (the RealNVP flow of the
    # loss is in the state dict: head.loss_module.flow_model.*).
    "rle_res18": model(
        RES18,
        dict(
            type="RLEHead",
            in_channels=RES18_OUT,
            num_joints=K,
            loss=dict(type="RLELoss", use_target_weight=True),
            decoder=REGRESSION,
        ),
        dict(flip_test=True, shift_coords=True),
        neck=dict(type="GlobalAveragePooling"),
    ),
    # ipr_res50_8xb64-210e_coco-256x256 (IntegralRegressionHead).
    "ipr_res18": model(
        RES18,
        dict(
            type="IntegralRegressionHead",
            in_channels=RES18_OUT,
            in_featuremap_size=(1, 2),
            num_joints=K,
            deconv_out_channels=(4, 4, 4),
            deconv_kernel_sizes=(4, 4, 4),
            loss=dict(type="SmoothL1Loss", use_target_weight=True),
            decoder=IPR,
        ),
        dict(flip_test=True, shift_coords=True, shift_heatmap=True),
    ),
    # ipr_res50_dsnt-8xb64-210e_coco-256x256 (DSNTHead).
    "dsnt_res18": model(
        RES18,
        dict(
            type="DSNTHead",
            in_channels=RES18_OUT,
            in_featuremap_size=(1, 2),
            num_joints=K,
            deconv_out_channels=(4, 4, 4),
            deconv_kernel_sizes=(4, 4, 4),
            loss=dict(
                type="MultipleLossWrapper",
                losses=[
                    dict(type="SmoothL1Loss", use_target_weight=True),
                    dict(type="JSDiscretLoss", use_target_weight=True),
                ],
            ),
            decoder=IPR,
        ),
        dict(flip_test=True, shift_coords=True, shift_heatmap=True),
    ),
}
# Saved with torch.save(..., _use_new_zipfile_serialization=False).
LEGACY = ("simplebaseline_res50",)

DATASET_META = dict(
    dataset_name="tiny3",
    num_keypoints=K,
    keypoint_id2name={0: "nose", 1: "left_eye", 2: "right_eye"},
    flip_indices=FLIP,
    sigmas=np.array([0.026, 0.025, 0.025], np.float32),
    keypoint_colors=np.array([[51, 153, 255]] * K, np.uint8),
    skeleton_links=[(0, 1), (0, 2)],
)


def rule(norms, transposed):
    """Quantization rule: ``(exponent, low, high)`` per state key."""

    def _rule(key, shape):
        owner, leaf = key.rsplit(".", 1)
        if owner in norms:
            if leaf in ("weight", "running_var"):
                return 3, 4, 13
            return 4, -4, 5
        if leaf == "weight" and len(shape) >= 2:
            if owner in transposed:  # (in, out, kh, kw); stride 2
                fan_in = shape[0] * int(np.prod(shape[2:])) / 4
            else:
                fan_in = int(np.prod(shape[1:]))
            return int(round(np.log2(2.5 * np.sqrt(fan_in)))), -3, 4
        if leaf in ("g", "scale", "gamma"):
            return 3, 4, 13
        if leaf in ("pos_embed", "cls_token"):
            return 4, -6, 7
        if leaf == "bias":
            return 3, -4, 5
        return 4, -4, 5

    return _rule


def quantize(net, rng):
    """Writes quantized values into the state of ``net`` (in place)."""
    from torch.nn.modules.batchnorm import _BatchNorm

    norms = {
        name
        for name, m in net.named_modules()
        if isinstance(m, _BatchNorm | torch.nn.LayerNorm | torch.nn.GroupNorm)
    }
    transposed = {
        name
        for name, m in net.named_modules()
        if isinstance(m, torch.nn.ConvTranspose2d)
    }
    base = rule(norms, transposed)
    # Constants stored in the state keep their values: RealNVP's buffers
    # (prior loc / cov, coupling masks) and the integral heads' grids
    # (``linspace_x`` / ``linspace_y``, frozen nn.Parameters).
    fixed = (".loc", ".cov", ".mask", ".linspace_x", ".linspace_y")

    with torch.no_grad():
        for key, tensor in net.state_dict().items():
            if key.endswith("num_batches_tracked"):
                tensor.fill_(int(rng.integers(1, 1000)))
                continue
            if key.endswith(fixed):
                continue
            exponent, low, high = base(key, tuple(tensor.shape))
            q = rng.integers(low, high, size=tuple(tensor.shape))
            tensor.copy_(
                torch.from_numpy(q.astype(np.float32) * 2.0**-exponent)
            )


def canonical_legacy(data):
    """Makes a legacy-format ``.pth`` deterministic.

    The legacy writer names every storage ``str(storage._cdata)`` (a memory
    address); the keys are renamed "0", "1", ... in order of first use and
    the storages rewritten in the sorted order of the new keys, as the
    writer lays them out (an 8-byte element count, then the raw bytes).
    """
    f = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, system info
        pickle.load(f)
    order, dtypes = [], {}

    class _Scan(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch._utils":
                return lambda *args, **kwargs: None
            return super().find_class(module, name)

        def persistent_load(self, pid):
            _, storage_type, key, _, _, _ = pid
            if key not in dtypes:
                order.append(key)
                dtypes[key] = storage_type.dtype
            return None

    _Scan(f).load()
    head = data[: f.tell()]
    keys = pickle.load(f)
    pos = f.tell()
    blocks = {}
    for key in keys:
        (numel,) = struct.unpack("<q", data[pos : pos + 8])
        size = 8 + numel * torch.empty(0, dtype=dtypes[key]).element_size()
        blocks[key] = data[pos : pos + size]
        pos += size
    if pos != len(data) or sorted(keys) != sorted(order):
        raise RuntimeError("unexpected legacy checkpoint layout")
    rename = {old: str(i) for i, old in enumerate(order)}
    for old, new in rename.items():
        pattern = b"X" + struct.pack("<I", len(old)) + old.encode()
        if head.count(pattern) != 1:
            raise RuntimeError(f"storage key {old} not found once")
        head = head.replace(
            pattern, b"X" + struct.pack("<I", len(new)) + new.encode()
        )
    back = {new: old for old, new in rename.items()}
    new_keys = sorted(back)
    return (
        head
        + pickle.dumps(new_keys, protocol=2)
        + b"".join(blocks[back[k]] for k in new_keys)
    )


def channels_last(outputs):
    """MMPose's raw outputs, flattened, in keraspose's layout."""
    flat = []

    def walk(x):
        if isinstance(x, tuple | list):
            for item in x:
                walk(item)
        else:
            flat.append(x.detach().numpy().astype(np.float32))

    walk(outputs)
    result = []
    for x in flat:
        if x.ndim == 4:  # heatmaps (N, K, H, W) -> (N, H, W, K)
            x = x.transpose(0, 2, 3, 1)
        result.append(np.ascontiguousarray(x))
    return result


def main():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 64, 32, 3)).astype(np.uint8)
    out = {"names": np.array(json.dumps(list(MODEL_CFGS))), "images": images}
    total = 0
    path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
    ckpt_dir = path / "mmpose_ckpt"
    ckpt_dir.mkdir(exist_ok=True)
    for i, (name, cfg) in enumerate(MODEL_CFGS.items()):
        torch.manual_seed(i)
        net = MODELS.build(copy.deepcopy(cfg))
        net.init_weights()
        net = revert_sync_batchnorm(net)
        quantize(net, np.random.default_rng(1000 + i))
        net.eval()
        batch = net.data_preprocessor(
            dict(
                inputs=[
                    torch.from_numpy(im.transpose(2, 0, 1)) for im in images
                ],
                data_samples=[PoseDataSample() for _ in images],
            ),
            False,
        )
        with torch.no_grad():
            raw = net._forward(batch["inputs"])
        outputs = channels_last(raw)
        meta = dict(
            mmengine_version="0.10.7",
            mmpose_version=mmpose.__version__,
            epoch=210,
            iter=123,
            seed=0,
            experiment_name=name,
            dataset_meta=DATASET_META,
            config=json.dumps(cfg),
        )
        buf = io.BytesIO()
        torch.save(
            {"state_dict": net.state_dict(), "meta": meta},
            buf,
            _use_new_zipfile_serialization=name not in LEGACY,
        )
        data = buf.getvalue()
        if name in LEGACY:
            data = canonical_legacy(data)
            again = torch.load(io.BytesIO(data), weights_only=False)
            for key, value in net.state_dict().items():
                assert torch.equal(again["state_dict"][key], value), key
        out[f"{name}_model"] = np.array(json.dumps(cfg))
        packed = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)
        (ckpt_dir / f"{name}.pth.xz").write_bytes(packed)
        out[f"{name}_pth_md5"] = np.array(hashlib.md5(data).hexdigest())
        for j, x in enumerate(outputs):
            out[f"{name}_out{j}"] = x
        total += len(packed)
        n_values = sum(v.numel() for v in net.state_dict().values())
        print(
            f"{name:22s} keys {len(net.state_dict()):4d} values "
            f"{n_values:6d} pth {len(data) / 1024:6.1f} KB xz "
            f"{len(packed) / 1024:5.1f} KB outputs "
            f"{[x.shape for x in outputs]} max|out| "
            f"{[round(float(np.abs(x).max()), 3) for x in outputs]}"
        )
    np.savez_compressed(path / "mmpose_ckpt.npz", **out)
    size = (path / "mmpose_ckpt.npz").stat().st_size
    print(
        "wrote",
        path / "mmpose_ckpt.npz",
        f"{size / 1024:.1f} KB;",
        f"{ckpt_dir}/*.pth.xz {total / 1024:.1f} KB",
    )


if __name__ == "__main__":
    main()

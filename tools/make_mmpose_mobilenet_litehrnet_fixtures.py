"""Generates tests/fixtures/mmpose_mobilenet_litehrnet.npz with the real MMPose.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_mobilenet_litehrnet_fixtures.py \
        ../shared/reference

Stored per tiny model ``<tag>`` (``mnv2``: MobileNetV2; ``lhr_fuse``:
Lite-HRNet with LITE and NAIVE stages, fusion, a stem with
``stem_channels != out_channels``, a transition that changes channels;
``lhr_odd``: Lite-HRNet without fusion on an odd input size, so the
adaptive pooling and the nearest / bilinear resizes are not plain factors of
2, a transition adding two branches; ``module``: one LITE ``LiteHRModule``
with ``multiscale_output=False``):

- ``<tag>_config``: JSON of the constructor arguments.
- ``<tag>_state_values`` (int8) and ``<tag>_state_index`` (JSON rows
  ``[key, shape, exponent, offset]``): the state dict (parameters and BN
  running statistics, without ``num_batches_tracked``). Every value is
  ``q * 2**-exponent`` with a small integer ``q``, so the weights are exact
  in float32 and the file stays small.
- ``<tag>_images`` (int8, value ``q / 32``), channels-first like MMPose
  (``<tag>_images<i>`` for the module's branch inputs).
- ``<tag>_out<i>``: MMPose's outputs in eval mode, channels-first float32.

Plus trainable parameter counts: ``mnv2_frozen<k>_trainable`` (tiny
MobileNetV2 with ``frozen_stages=k``), ``params_mnv2_w<w>`` (MobileNetV2
backbones with other widths) and ``params_<config>`` (the full top-down
models of the model-zoo configs).
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import fixture_common  # noqa: E402  (tools/fixture_common.py)
import mmpose.models  # noqa: E402,F401
from fixture_common import conv_bn_rule  # noqa: E402
from fixture_common import norm_owners  # noqa: E402
from fixture_common import trainable  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.models.backbones.litehrnet import LiteHRModule  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}


def quantized_state(model):
    """Replaces the state by small-integer multiples of powers of two."""
    norms = norm_owners(model)
    rule = conv_bn_rule(
        lambda key: key.rsplit(".", 1)[0] in norms, kernel_gain=2.0
    )
    return fixture_common.quantized_state(model, rng, rule)


def q_images(shape):
    return np.clip(np.round(rng.normal(size=shape) * 32), -127, 127).astype(
        np.int8
    )


def spec(**kw):
    return dict(
        num_modules=kw["modules"],
        num_branches=kw["branches"],
        num_blocks=kw["blocks"],
        module_type=kw["types"],
        with_fuse=kw["fuse"],
        reduce_ratios=kw["ratios"],
        num_channels=kw["channels"],
    )


BACKBONES = {
    "mnv2": (
        dict(type="MobileNetV2", widen_factor=0.1, out_indices=(0, 2, 5, 7)),
        (2, 3, 32, 40),
    ),
    "lhr_fuse": (
        dict(
            type="LiteHRNet",
            extra=dict(
                stem=dict(stem_channels=8, out_channels=12, expand_ratio=2),
                num_stages=2,
                stages_spec=spec(
                    modules=(2, 1),
                    branches=(2, 3),
                    blocks=(1, 2),
                    types=("LITE", "NAIVE"),
                    fuse=(True, True),
                    ratios=(4, 4),
                    channels=((8, 16), (8, 16, 32)),
                ),
                with_head=False,
            ),
        ),
        (2, 3, 64, 48),
    ),
    "lhr_odd": (
        dict(
            type="LiteHRNet",
            extra=dict(
                stem=dict(stem_channels=8, out_channels=8, expand_ratio=1),
                num_stages=2,
                stages_spec=spec(
                    modules=(1, 1),
                    branches=(2, 4),
                    blocks=(1, 1),
                    types=("LITE", "lite"),
                    fuse=(False, False),
                    ratios=(2, 4),
                    channels=((8, 16), (12, 16, 24, 32)),
                ),
                with_head=True,
            ),
        ),
        (2, 3, 33, 26),
    ),
}


for tag, (cfg, image_shape) in BACKBONES.items():
    model = MODELS.build(dict(cfg))
    values, index = quantized_state(model)
    model.eval()
    images = q_images(image_shape)
    with torch.no_grad():
        feats = model(torch.from_numpy(images.astype(np.float32) / 32))
    out[f"{tag}_config"] = np.array(json.dumps(cfg))
    out[f"{tag}_state_values"] = values
    out[f"{tag}_state_index"] = np.array(index)
    out[f"{tag}_images"] = images
    for i, feat in enumerate(feats):
        out[f"{tag}_out{i}"] = feat.numpy()
    print(tag, values.size, "parameters", [tuple(f.shape) for f in feats])

# One LITE module with a single fused output.
module_cfg = dict(
    num_branches=3,
    num_blocks=1,
    in_channels=[8, 16, 32],
    reduce_ratio=4,
    module_type="LITE",
    multiscale_output=False,
    with_fuse=True,
)
module = LiteHRModule(**module_cfg)
values, index = quantized_state(module)
module.eval()
shapes = [(2, 8, 16, 12), (2, 16, 8, 6), (2, 32, 4, 3)]
inputs = [q_images(s) for s in shapes]
with torch.no_grad():
    feats = module(
        [torch.from_numpy(x.astype(np.float32) / 32) for x in inputs]
    )
out["module_config"] = np.array(json.dumps(module_cfg))
out["module_state_values"] = values
out["module_state_index"] = np.array(index)
for i, x in enumerate(inputs):
    out[f"module_images{i}"] = x
for i, feat in enumerate(feats):
    out[f"module_out{i}"] = feat.numpy()
print("module", values.size, "parameters", [tuple(f.shape) for f in feats])

# Trainable parameter counts.
for k in (0, 3, 7):
    model = MODELS.build(dict(BACKBONES["mnv2"][0], frozen_stages=k))
    model.train()
    out[f"mnv2_frozen{k}_trainable"] = np.array(trainable(model))
for w in (0.5, 1.4):
    model = MODELS.build(dict(type="MobileNetV2", widen_factor=w))
    out[f"params_mnv2_w{w}"] = np.array(trainable(model))
site = Path(mmpose.models.__file__).resolve().parents[1]
cfg_dir = site / ".mim/configs/body_2d_keypoint/topdown_heatmap/coco"
for name in (
    "td-hm_mobilenetv2_8xb64-210e_coco-256x192",
    "td-hm_litehrnet-18_8xb64-210e_coco-256x192",
    "td-hm_litehrnet-30_8xb32-210e_coco-384x288",
):
    cfg = Config.fromfile(cfg_dir / f"{name}.py")
    model_cfg = cfg.model.to_dict()
    model_cfg["backbone"].pop("init_cfg", None)
    model = MODELS.build(model_cfg)
    out[f"params_{name}"] = np.array(trainable(model))
    out[f"params_backbone_{name}"] = np.array(trainable(model.backbone))
    print(name, int(out[f"params_{name}"]))
print({k: int(v) for k, v in out.items() if "params" in k or "frozen" in k})

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
np.savez_compressed(path / "mmpose_mobilenet_litehrnet.npz", **out)
size = (path / "mmpose_mobilenet_litehrnet.npz").stat().st_size
print(
    "wrote", path / "mmpose_mobilenet_litehrnet.npz", len(out), "arrays", size
)

"""Generates tests/fixtures/mmpose_cspnext.npz with the real mmdet CSPNeXt.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_cspnext_fixtures.py ../shared/reference

Stored per tiny configuration ``<tag>``:

- ``<tag>_config``: JSON of the CSPNeXt arguments.
- ``<tag>_state_values`` (int8) and ``<tag>_state_index`` (JSON rows
  ``[key, shape, exponent, offset]``): the state dict (parameters and BN
  running statistics, without ``num_batches_tracked``). Every value is
  ``q * 2**-exponent`` with a small integer ``q``, so the weights are exact
  in float32 and the file stays small; the tests rebuild the float32 dict.
- ``<tag>_images`` (int8, value ``q / 32``), channels-first like MMPose.
- ``<tag>_out<i>``: MMPose's outputs for ``out_indices`` in eval mode,
  channels-first float32.
- ``<tag>_frozen<k>_trainable``: trainable parameter count with
  ``frozen_stages=k``.

Plus ``params_rtmpose_{t,s,m,l}``: the trainable parameter counts of the
CSPNeXt backbones of the RTMPose COCO 256x192 configs.
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
from fixture_common import conv_bn_rule  # noqa: E402
from fixture_common import install_mmdet_stubs  # noqa: E402
from fixture_common import trainable  # noqa: E402

install_mmdet_stubs()

import mmdet.models  # noqa: E402,F401  (registers CSPNeXt)
import mmpose.models  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}


def quantized_state(model):
    """Replaces the state by small-integer multiples of powers of two."""
    return fixture_common.quantized_state(
        model, rng, conv_bn_rule(lambda key: ".bn." in key)
    )


CONFIGS = {
    # The tiny RTMPose-like backbone: mmdet defaults, channel attention.
    "p5": (
        dict(
            arch="P5",
            deepen_factor=0.167,
            widen_factor=0.125,
            out_indices=(0, 1, 2, 3, 4),
        ),
        (2, 3, 40, 32),
        (1, 2),
    ),
    # P6, depthwise convs, 2 blocks in stages 2-3, no attention, other SPP
    # kernels, PyTorch BN numbers.
    "p6dw": (
        dict(
            arch="P6",
            deepen_factor=0.33,
            widen_factor=0.0625,
            out_indices=(1, 5),
            use_depthwise=True,
            channel_attention=False,
            spp_kernel_sizes=(3, 5),
            norm_cfg=dict(type="BN"),
        ),
        (2, 3, 72, 48),
        (0,),
    ),
}

for tag, (cfg, image_shape, frozen) in CONFIGS.items():
    model = MODELS.build(dict(_scope_="mmdet", type="CSPNeXt", **cfg))
    values, index = quantized_state(model)
    model.eval()
    q_images = np.clip(
        np.round(rng.normal(size=image_shape) * 32), -127, 127
    ).astype(np.int8)
    with torch.no_grad():
        feats = model(torch.from_numpy(q_images.astype(np.float32) / 32))
    out[f"{tag}_config"] = np.array(json.dumps(cfg))
    out[f"{tag}_state_values"] = values
    out[f"{tag}_state_index"] = np.array(index)
    out[f"{tag}_images"] = q_images
    for i, feat in zip(cfg["out_indices"], feats):
        out[f"{tag}_out{i}"] = feat.numpy()
    for k in frozen:
        frozen_model = MODELS.build(
            dict(_scope_="mmdet", type="CSPNeXt", frozen_stages=k, **cfg)
        )
        frozen_model.train()
        out[f"{tag}_frozen{k}_trainable"] = np.array(trainable(frozen_model))
    print(tag, "parameters", values.size, [f.shape for f in feats])

# --- RTMPose backbones' trainable parameter counts --------------------------
site = Path(mmpose.models.__file__).resolve().parents[1]
cfg_dir = site / ".mim/configs/body_2d_keypoint/rtmpose/coco"
for size in "tsml":
    cfg = Config.fromfile(
        cfg_dir / f"rtmpose-{size}_8xb256-420e_coco-256x192.py"
    )
    backbone = MODELS.build(cfg.model.backbone.to_dict())
    out[f"params_rtmpose_{size}"] = np.array(trainable(backbone))
    print(size, int(out[f"params_rtmpose_{size}"]))

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
np.savez_compressed(path / "mmpose_cspnext.npz", **out)
print("wrote", path / "mmpose_cspnext.npz", len(out), "arrays")

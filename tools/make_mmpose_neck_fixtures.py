"""Generates tests/fixtures/mmpose_necks.npz with the real MMPose necks.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_neck_fixtures.py ../shared/reference

Stored per tiny configuration ``<tag>`` (``FeatureMapProcessor``, ``FPN``,
``ChannelMapper``, ``CSPNeXtPAFPN``, plus mmdet's ``CSPNeXtPAFPN`` for
``out_channels``):

- ``<tag>_config``: JSON ``{"type": ..., "scope": ..., "cfg": {...}}``.
- ``<tag>_state_values`` (int8) and ``<tag>_state_index`` (JSON rows
  ``[key, shape, exponent, offset]``): the state dict as small integers
  times ``2**-exponent`` (exact in float32; tiny file), as in
  ``make_mmpose_cspnext_fixtures.py``.
- ``<tag>_in<i>`` (int8, value ``q / 32``): the input maps, channels-first.
  ``<tag>_single`` marks a single-tensor input (FeatureMapProcessor).
- ``<tag>_out<i>``: MMPose's outputs in eval mode, channels-first float32.

Odd feature sizes exercise the resize paths. Plus
``params_rtmw_{l,x}_neck``: trainable parameter counts of the RTMW necks,
and ``mmpose_pafpn_out_channels_error``: the error MMPose's own
``CSPNeXtPAFPN`` raises in forward when ``out_channels`` is set.
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

import mmdet.models  # noqa: E402,F401
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


BN = dict(type="BN")
# tag: (type, scope, cfg, input shapes NCHW, single tensor input)
CONFIGS = {
    "fmp_concat": (
        "FeatureMapProcessor",
        "mmpose",
        dict(concat=True),
        [(2, 3, 9, 7), (2, 4, 5, 4), (2, 2, 3, 2)],
        False,
    ),
    "fmp_select_relu_scale": (
        "FeatureMapProcessor",
        "mmpose",
        dict(select_index=(2, 0), apply_relu=True, scale_factor=1.7),
        [(1, 2, 9, 7), (1, 3, 5, 4), (1, 2, 3, 2)],
        False,
    ),
    "fmp_concat_ac_half": (
        "FeatureMapProcessor",
        "mmpose",
        dict(
            select_index=(1, -1),
            concat=True,
            scale_factor=0.5,
            align_corners=True,
        ),
        [(1, 2, 9, 7), (1, 3, 7, 5), (1, 2, 3, 2)],
        False,
    ),
    "fmp_single": (
        "FeatureMapProcessor",
        "mmpose",
        dict(select_index=1, concat=True, scale_factor=2.0),
        [(2, 3, 5, 3)],
        True,
    ),
    "fpn_maxpool": (
        "FPN",
        "mmpose",
        dict(in_channels=[2, 3, 4], out_channels=4, num_outs=5),
        [(2, 2, 13, 11), (2, 3, 7, 6), (2, 4, 4, 3)],
        False,
    ),
    "fpn_on_input": (
        "FPN",
        "mmpose",
        dict(
            in_channels=[2, 3, 4],
            out_channels=4,
            num_outs=4,
            start_level=1,
            add_extra_convs="on_input",
            relu_before_extra_convs=True,
            no_norm_on_lateral=True,
            norm_cfg=BN,
            act_cfg=dict(type="ReLU"),
        ),
        [(1, 2, 13, 11), (1, 3, 7, 6), (1, 4, 5, 3)],
        False,
    ),
    "fpn_on_lateral_bilinear": (
        "FPN",
        "mmpose",
        dict(
            in_channels=[3, 2],
            out_channels=3,
            num_outs=4,
            add_extra_convs="on_lateral",
            upsample_cfg=dict(mode="bilinear", align_corners=False),
        ),
        [(1, 3, 11, 9), (1, 2, 4, 5)],
        False,
    ),
    "fpn_on_output_true": (
        "FPN",
        "mmpose",
        dict(
            in_channels=[2, 3],
            out_channels=3,
            num_outs=4,
            add_extra_convs="on_output",
            relu_before_extra_convs=True,
            act_cfg=dict(type="ReLU"),
        ),
        [(1, 2, 9, 7), (1, 3, 5, 3)],
        False,
    ),
    "fpn_extra_true": (
        "FPN",
        "mmpose",
        dict(
            in_channels=[2, 3],
            out_channels=3,
            num_outs=3,
            add_extra_convs=True,
        ),
        [(1, 2, 9, 7), (1, 3, 5, 3)],
        False,
    ),
    "fpn_end_level_scale": (
        "FPN",
        "mmpose",
        dict(
            in_channels=[2, 3, 4],
            out_channels=3,
            num_outs=2,
            end_level=1,
            upsample_cfg=dict(mode="nearest", scale_factor=2),
        ),
        [(1, 2, 10, 6), (1, 3, 5, 3), (1, 4, 3, 2)],
        False,
    ),
    "cm_extra": (
        "ChannelMapper",
        "mmpose",
        dict(in_channels=[2, 3], out_channels=4, num_outs=4),
        [(2, 2, 9, 7), (2, 3, 5, 4)],
        False,
    ),
    "cm_bn_k1": (
        "ChannelMapper",
        "mmpose",
        dict(
            in_channels=[3, 2, 4],
            out_channels=3,
            kernel_size=1,
            norm_cfg=BN,
            act_cfg=None,
            bias=True,
        ),
        [(1, 3, 7, 5), (1, 2, 4, 3), (1, 4, 2, 2)],
        False,
    ),
    "pafpn_rtmw": (
        "CSPNeXtPAFPN",
        "mmpose",
        dict(
            in_channels=[4, 8, 16],
            out_channels=None,
            out_indices=(1, 2),
            num_csp_blocks=2,
            expand_ratio=0.5,
            norm_cfg=BN,
            act_cfg=dict(type="SiLU", inplace=True),
        ),
        [(2, 4, 12, 20), (2, 8, 6, 10), (2, 16, 3, 5)],
        False,
    ),
    "pafpn_dw": (
        "CSPNeXtPAFPN",
        "mmpose",
        dict(
            in_channels=[4, 6],
            out_channels=None,
            out_indices=(0, 1),
            num_csp_blocks=1,
            use_depthwise=True,
        ),
        [(1, 4, 6, 10), (1, 6, 3, 5)],
        False,
    ),
    "pafpn_mmdet_out": (
        "CSPNeXtPAFPN",
        "mmdet",
        dict(
            in_channels=[4, 8, 16],
            out_channels=6,
            num_csp_blocks=1,
            norm_cfg=BN,
        ),
        [(1, 4, 8, 12), (1, 8, 4, 6), (1, 16, 2, 3)],
        False,
    ),
}

for tag, (name, scope, cfg, shapes, single) in CONFIGS.items():
    model = MODELS.build(dict(_scope_=scope, type=name, **cfg))
    values, index = quantized_state(model)
    model.eval()
    q_inputs = [
        np.clip(np.round(rng.normal(size=s) * 32), -127, 127).astype(np.int8)
        for s in shapes
    ]
    feats = [torch.from_numpy(q.astype(np.float32) / 32) for q in q_inputs]
    with torch.no_grad():
        outs = model(feats[0] if single else tuple(feats))
    outs = [outs] if single else list(outs)
    out[f"{tag}_config"] = np.array(
        json.dumps(dict(type=name, scope=scope, cfg=cfg))
    )
    out[f"{tag}_state_values"] = values
    out[f"{tag}_state_index"] = np.array(index)
    out[f"{tag}_single"] = np.array(single)
    for i, q in enumerate(q_inputs):
        out[f"{tag}_in{i}"] = q
    for i, o in enumerate(outs):
        out[f"{tag}_out{i}"] = o.numpy()
    print(tag, values.size, [tuple(o.shape) for o in outs])

# MMPose's own CSPNeXtPAFPN with out_channels set fails in forward.
model = MODELS.build(
    dict(type="CSPNeXtPAFPN", in_channels=[4, 8], out_channels=6)
).eval()
try:
    model((torch.zeros(1, 4, 4, 4), torch.zeros(1, 8, 2, 2)))
    error = ""
except Exception as exc:  # noqa: BLE001
    error = f"{type(exc).__name__}: {exc}"
out["mmpose_pafpn_out_channels_error"] = np.array(error)
print("out_channels error:", error)

# --- RTMW necks' trainable parameter counts ---------------------------------
site = Path(mmpose.models.__file__).resolve().parents[1]
cfg_dir = site / ".mim/configs/wholebody_2d_keypoint/rtmpose/cocktail14"
for size, name in (
    ("l", "rtmw-l_8xb1024-270e_cocktail14-256x192.py"),
    ("x", "rtmw-x_8xb704-270e_cocktail14-256x192.py"),
):
    neck_cfg = Config.fromfile(cfg_dir / name).model.neck.to_dict()
    out[f"params_rtmw_{size}_neck"] = np.array(
        trainable(MODELS.build(neck_cfg))
    )
    out[f"params_rtmw_{size}_neck_config"] = np.array(json.dumps(neck_cfg))
    print(size, int(out[f"params_rtmw_{size}_neck"]))

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
np.savez_compressed(path / "mmpose_necks.npz", **out)
print("wrote", path / "mmpose_necks.npz", len(out), "arrays")

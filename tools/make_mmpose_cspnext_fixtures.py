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

import importlib.abc
import importlib.machinery
import json
import sys
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()


# mmdet.models imports compiled mmcv ops (nms, ...) from submodules of
# mmcv.ops at import time; CSPNeXt uses none of them. Stub the submodules.
class _MissingOp:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("mmcv.ops stub: compiled op not available")


def _stub_getattr(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (_MissingOp,), {})


class _OpsFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.startswith("mmcv.ops."):
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = _stub_getattr
        return module

    def exec_module(self, module):
        pass


_ops = sys.modules["mmcv.ops"]
_ops.__path__ = []
_ops.__getattr__ = _stub_getattr
sys.meta_path.insert(0, _OpsFinder())

import mmdet.models  # noqa: E402,F401  (registers CSPNeXt)
import mmpose.models  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}


def trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def quantized_state(model):
    """Replaces the state by small-integer multiples of powers of two."""
    index, values, offset = [], [], 0
    state = model.state_dict()
    for key, tensor in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        shape = tuple(tensor.shape)
        leaf = key.rsplit(".", 1)[-1]
        is_bn = ".bn." in key
        if leaf == "weight" and not is_bn:
            fan_in = int(np.prod(shape[1:]))
            exponent = int(round(np.log2(2.0 * np.sqrt(fan_in))))
            q = rng.integers(-3, 4, size=shape)
        elif leaf in ("weight", "running_var"):
            exponent, q = 3, rng.integers(4, 13, size=shape)
        elif leaf == "bias" and not is_bn:
            exponent, q = 3, rng.integers(-4, 5, size=shape)
        else:  # BN bias, running_mean
            exponent, q = 4, rng.integers(-4, 5, size=shape)
        q = q.astype(np.int8)
        tensor.copy_(torch.from_numpy(q.astype(np.float32) * 2.0**-exponent))
        index.append([key, list(shape), exponent, offset])
        values.append(q.ravel())
        offset += q.size
    return np.concatenate(values), json.dumps(index)


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

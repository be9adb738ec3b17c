"""Generates tests/fixtures/mmpretrain_vit.npz with mmpretrain's ViT.

Run with the MMPose reference environment (see ../shared/reference/README.md)
and its torchvision stub on the path:

    PYTHONPATH=/work/ref-stubs $REF/bin/python \\
        tools/make_mmpretrain_vit_fixtures.py ../shared/reference

Stored per tiny configuration ``<tag>``:

- ``<tag>_config``: JSON of the VisionTransformer arguments.
- ``<tag>_state_values`` (int8) and ``<tag>_state_index`` (JSON rows
  ``[key, shape, exponent, offset]``): the state dict, every value
  ``q * 2**-exponent`` with a small integer ``q`` (exact in float32, tiny
  file); the tests rebuild the float32 dict.
- ``<tag>_images<j>`` (int8, value ``q / 32``), channels-first: ``j = 0``
  at ``img_size``, ``j = 1`` at another size (position embeddings
  resized).
- ``<tag>_images<j>_out<i>``: mmpretrain's outputs for ``out_indices`` in
  eval mode (feature maps channels-first).
- ``<tag>_frozen<k>_trainable``: trainable parameter count with
  ``frozen_stages=k``.

Plus ``params_<name>_backbone`` and ``params_<name>``: trainable parameter
counts of the backbone and of the whole MMPose model of the ViTPose COCO
configs ``td-hm_ViTPose-<name>_8xb64-210e_coco-256x192.py``.
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
import mmpretrain.models  # noqa: E402,F401  (registers VisionTransformer)
from fixture_common import trainable  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402
from mmpretrain.models.backbones.vision_transformer import VisionTransformer  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}


def _vit_rule(key, shape):
    leaf = key.rsplit(".", 1)[-1]
    is_norm = ".ln" in key or key.startswith(("ln", "pre_norm"))
    if key in ("pos_embed", "cls_token"):
        return 4, -6, 7
    if ".gamma" in key or (is_norm and leaf == "weight"):
        return 3, 4, 13
    if leaf == "weight":
        fan_in = int(np.prod(shape[1:]))
        return int(round(np.log2(2.0 * np.sqrt(fan_in)))), -3, 4
    return 4, -4, 5  # biases


def quantized_state(model):
    """Replaces the state by small-integer multiples of powers of two."""
    return fixture_common.quantized_state(model, rng, _vit_rule)


TINY = dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32)
CONFIGS = {
    # ViTPose's arguments: no class token, feature maps, padding 2.
    "vitpose": (
        dict(
            arch=TINY,
            img_size=(32, 24),
            patch_size=4,
            qkv_bias=True,
            with_cls_token=False,
            out_type="featmap",
            out_indices=[0, -1],
            patch_cfg=dict(padding=2),
        ),
        [(2, 3, 32, 24), (2, 3, 44, 28)],
        (1, 2),
    ),
    # Class token, raw tokens, pre-norm (no patch bias), layer scales, the
    # default "corner" padding (sizes not divisible by 8), bilinear resize.
    "raw": (
        dict(
            arch=dict(TINY, num_heads=4),
            img_size=(30, 22),
            patch_size=8,
            out_type="raw",
            out_indices=[0, 1],
            pre_norm=True,
            layer_scale_init_value=0.1,
            interpolate_mode="bilinear",
        ),
        [(2, 3, 30, 22), (2, 3, 41, 20)],
        (2,),
    ),
    # Averaged feature map (ln2), no final norm, no qkv bias, "same"
    # padding, three FFN layers.
    "avg": (
        dict(
            arch=TINY,
            img_size=(24, 24),
            patch_size=(8, 6),
            out_type="avg_featmap",
            final_norm=False,
            qkv_bias=False,
            patch_cfg=dict(padding="same"),
            layer_cfgs=dict(num_fcs=3),
        ),
        [(2, 3, 24, 24), (2, 3, 21, 29)],
        (),
    ),
    # The class token output of mmpretrain's defaults.
    "cls": (
        dict(arch=TINY, img_size=16, patch_size=4),
        [(2, 3, 16, 16), (2, 3, 24, 20)],
        (),
    ),
}

for tag, (cfg, image_shapes, frozen) in CONFIGS.items():
    model = VisionTransformer(**json.loads(json.dumps(cfg)))
    values, index = quantized_state(model)
    model.eval()
    out[f"{tag}_config"] = np.array(json.dumps(cfg))
    out[f"{tag}_state_values"] = values
    out[f"{tag}_state_index"] = np.array(index)
    for j, shape in enumerate(image_shapes):
        q_images = np.clip(
            np.round(rng.normal(size=shape) * 32), -127, 127
        ).astype(np.int8)
        with torch.no_grad():
            feats = model(torch.from_numpy(q_images.astype(np.float32) / 32))
        out[f"{tag}_images{j}"] = q_images
        for i, feat in enumerate(feats):
            out[f"{tag}_images{j}_out{i}"] = feat.numpy()
        print(tag, j, [tuple(f.shape) for f in feats])
    for k in frozen:
        frozen_model = VisionTransformer(
            frozen_stages=k, **json.loads(json.dumps(cfg))
        )
        frozen_model.train()
        out[f"{tag}_frozen{k}_trainable"] = np.array(trainable(frozen_model))
    print(tag, "parameters", values.size)

# --- ViTPose COCO configs' trainable parameter counts ------------------------
site = Path(mmpose.models.__file__).resolve().parents[1]
cfg_dir = site / ".mim/configs/body_2d_keypoint/topdown_heatmap/coco"
for name in ("small", "small-simple", "base", "base-simple"):
    cfg = Config.fromfile(
        cfg_dir / f"td-hm_ViTPose-{name}_8xb64-210e_coco-256x192.py"
    )
    model = MODELS.build(cfg.model)
    key = name.replace("-", "_")
    out[f"params_{key}_backbone"] = np.array(trainable(model.backbone))
    out[f"params_{key}"] = np.array(trainable(model))
    print(name, int(out[f"params_{key}_backbone"]), int(out[f"params_{key}"]))

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
np.savez_compressed(path / "mmpretrain_vit.npz", **out)
print("wrote", path / "mmpretrain_vit.npz", len(out), "arrays")

"""Generates tests/fixtures/mmpose_hrnet.npz with the real MMPose HRNet.

Run with the MMPose reference environment (see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmpose_hrnet_fixtures.py ../shared/reference

Stored per tiny configuration ``<tag>``:

- ``<tag>_config``: JSON of the HRNet arguments (``extra``...).
- ``<tag>_state_values`` (int8) and ``<tag>_state_index`` (JSON rows
  ``[key, shape, exponent, offset]``): the state dict (parameters and BN
  running statistics, without ``num_batches_tracked``). Every value is
  ``q * 2**-exponent`` with a small integer ``q``, so the weights are exact
  in float32 and the file stays small; the tests rebuild the float32 dict.
- ``<tag>_images`` (int8, value ``q / 32``), channels-first like MMPose.
- ``<tag>_out<i>``: MMPose's outputs in eval mode, channels-first float32.
- ``<tag>_frozen<k>_trainable``: trainable parameter count with
  ``frozen_stages=k`` (k = -1..4).
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
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.registry import MODELS  # noqa: E402

init_default_scope("mmpose")
torch.manual_seed(0)
rng = np.random.default_rng(0)
out = {}


def quantized_state(model):
    """Replaces the state by small-integer multiples of powers of two."""
    norms = norm_owners(model)
    rule = conv_bn_rule(
        lambda key: key.rsplit(".", 1)[0] in norms, kernel_gain=2.5
    )
    return fixture_common.quantized_state(model, rng, rule)


def stage(branches, block, channels, modules=1, blocks=None):
    return dict(
        num_modules=modules,
        num_branches=branches,
        block=block,
        num_blocks=tuple(blocks or (1,) * branches),
        num_channels=tuple(channels),
    )


CONFIGS = {
    # HRNet's layout in miniature: every resolution returned.
    "ms": (
        dict(
            extra=dict(
                stage1=stage(1, "BOTTLENECK", (4,)),
                stage2=stage(2, "BASIC", (4, 8)),
                stage3=stage(3, "BASIC", (4, 8, 16), 2, (1, 2, 1)),
                stage4=dict(
                    stage(4, "BASIC", (4, 8, 16, 32)), multiscale_output=True
                ),
            )
        ),
        (2, 3, 64, 32),
    ),
    # BASIC stage 1, BOTTLENECK stage 2, a channel change of the last
    # branch (transition2.1), two new branches at once (transition3.2/3),
    # bilinear fusion, single-scale output.
    "ss": (
        dict(
            extra=dict(
                stage1=stage(1, "BASIC", (8,), blocks=(2,)),
                stage2=stage(2, "BOTTLENECK", (2, 3)),
                stage3=stage(2, "BASIC", (8, 16), 2),
                stage4=stage(4, "BASIC", (8, 16, 8, 4), 2),
                upsample=dict(mode="bilinear", align_corners=False),
            )
        ),
        (2, 3, 64, 64),
    ),
}

for tag, (cfg, image_shape) in CONFIGS.items():
    model = MODELS.build(dict(type="HRNet", **cfg))
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
    for i, feat in enumerate(feats):
        out[f"{tag}_out{i}"] = feat.numpy()
    for k in range(-1, 5):
        frozen = MODELS.build(dict(type="HRNet", frozen_stages=k, **cfg))
        frozen.train()
        out[f"{tag}_frozen{k}_trainable"] = np.array(trainable(frozen))
    print(
        tag,
        "parameters",
        values.size,
        [tuple(f.shape) for f in feats],
        [float(f.abs().max()) for f in feats],
        [int(out[f"{tag}_frozen{k}_trainable"]) for k in range(-1, 5)],
    )

path = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
np.savez_compressed(path / "mmpose_hrnet.npz", **out)
print("wrote", path / "mmpose_hrnet.npz", len(out), "arrays")

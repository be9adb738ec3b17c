"""Generates tests/fixtures/mmengine_paramwise.npz with the real MMEngine.

Run with the MMPose reference environment (mmengine 0.10.7, mmpose 1.3.2,
mmpretrain, torch):

    PYTHONPATH=/work/ref-stubs $REF/bin/python \\
        tools/make_mmengine_paramwise_fixtures.py ../shared/reference

Each case builds parameter groups with MMEngine's / MMPose's optim-wrapper
constructors (``build_optim_wrapper``: ``DefaultOptimWrapperConstructor``,
MMPose's ``ForceDefaultOptimWrapperConstructor`` and
``LayerDecayOptimWrapperConstructor``) on a tiny torch model whose parameter
names a keraspose model reproduces:

* ``vit``: ``backbone`` = mmpretrain ``VisionTransformer`` (2 layers,
  8 channels, ViTPose's ``with_cls_token=False``), ``head.final_layer`` =
  1x1 ``Conv2d``;
* ``resnet``: ``backbone`` = MMPose ``ResNet`` (depth 18, 2 stages, 2 base
  channels), ``head`` = depthwise ``Conv2d`` ``dw``, ``LayerNorm`` ``ln``, a
  module ``attn`` with plain parameters ``gamma`` (2, 4) and ``beta`` (4,),
  ``Linear`` ``fc``, ``Conv2d`` ``final_layer``, and a parameter
  ``temperature`` of the top module.

Parameters start from, and receive gradients drawn from,
``np.random.default_rng(seed)`` in ``named_parameters`` order with torch's
shapes (init first, then one gradient set per step), so the test draws the
same numbers. The optimizer steps through the wrapper (and MMEngine
schedulers stepped after every iteration). Stored per case: ``<case>/config``
(JSON: model, optim_wrapper, param_scheduler, steps, seed, names, torch
shapes), ``<case>/lr`` and ``<case>/weight_decay`` (each parameter's group
values before the schedulers start) and ``<case>/final/<name>`` (float32
parameters after the last step).
"""

import json
import logging
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.engine.optim_wrappers  # noqa: E402,F401  (MMPose constructors)
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmpose.models.backbones import ResNet  # noqa: E402
from mmpose.registry import PARAM_SCHEDULERS  # noqa: E402
from mmpretrain.models.backbones.vision_transformer import VisionTransformer  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tests/fixtures"

VIT = dict(
    arch=dict(embed_dims=8, num_layers=2, num_heads=2, feedforward_channels=16),
    img_size=(8, 8),
    patch_size=4,
    qkv_bias=True,
    with_cls_token=False,
    out_type="featmap",
    patch_cfg=dict(padding=2),
)
RESNET = dict(
    depth=18,
    num_stages=2,
    base_channels=2,
    stem_channels=2,
    strides=(1, 2),
    dilations=(1, 1),
    out_indices=(1,),
)


class _VitPose(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = VisionTransformer(**VIT)
        self.head = torch.nn.Module()
        self.head.final_layer = torch.nn.Conv2d(8, 3, 1)


class _Attn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = torch.nn.Parameter(torch.zeros(2, 4))
        self.beta = torch.nn.Parameter(torch.zeros(4))


class _ResNetPose(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.temperature = torch.nn.Parameter(torch.zeros(1))
        self.backbone = ResNet(**RESNET)
        self.head = torch.nn.Module()
        self.head.dw = torch.nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.head.ln = torch.nn.LayerNorm(4)
        self.head.attn = _Attn()
        self.head.fc = torch.nn.Linear(4, 3)
        self.head.final_layer = torch.nn.Conv2d(4, 3, 1)


MODELS = {"vit": _VitPose, "resnet": _ResNetPose}

# ViTPose-small's paramwise_cfg (its custom_keys are ignored by MMPose).
VITPOSE_KEYS = {
    "bias": dict(decay_multi=0.0),
    "pos_embed": dict(decay_mult=0.0),
    "relative_position_bias_table": dict(decay_mult=0.0),
    "norm": dict(decay_mult=0.0),
}

CASES = {
    "vit_layer_decay_adamw": dict(
        model="vit",
        optim_wrapper=dict(
            optimizer=dict(
                type="AdamW", lr=1e-2, betas=(0.9, 0.999), weight_decay=0.1
            ),
            paramwise_cfg=dict(
                num_layers=2, layer_decay_rate=0.75, custom_keys=VITPOSE_KEYS
            ),
            constructor="LayerDecayOptimWrapperConstructor",
            clip_grad=dict(max_norm=1.0, norm_type=2),
        ),
        param_scheduler=[
            dict(
                type="LinearLR",
                start_factor=0.1,
                by_epoch=False,
                begin=0,
                end=2,
            ),
            dict(
                type="CosineAnnealingLR",
                T_max=3,
                eta_min=1e-3,
                by_epoch=False,
                begin=2,
                end=5,
            ),
        ],
        steps=5,
    ),
    "vit_layer_decay_sgd": dict(
        model="vit",
        optim_wrapper=dict(
            optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=0.05),
            paramwise_cfg=dict(num_layers=2, layer_decay_rate=0.5),
            constructor="LayerDecayOptimWrapperConstructor",
        ),
        param_scheduler=[],
        steps=3,
    ),
    "resnet_default_sgd": dict(
        model="resnet",
        optim_wrapper=dict(
            optimizer=dict(
                type="SGD",
                lr=0.1,
                momentum=0.9,
                nesterov=True,
                weight_decay=0.05,
            ),
            paramwise_cfg=dict(
                custom_keys={
                    "backbone.layer2": dict(lr_mult=0.5, decay_mult=0.2),
                    "layer2.0.bn": dict(lr_mult=0.25),
                    # same length: the alphabetically first wins
                    "attn.ga": dict(lr_mult=0.7),
                    "n.gamma": dict(lr_mult=0.2, decay_mult=0.0),
                    # top-module parameters are matched as ".<name>"
                    ".temp": dict(lr_mult=0.3, decay_mult=0.5),
                },
                bias_lr_mult=2.0,
                bias_decay_mult=0.5,
                norm_decay_mult=0.0,
                dwconv_decay_mult=0.25,
                flat_decay_mult=0.75,
            ),
        ),
        param_scheduler=[],
        steps=3,
    ),
    "resnet_force_default_adam": dict(
        model="resnet",
        optim_wrapper=dict(
            optimizer=dict(type="Adam", lr=1e-2, weight_decay=0.01),
            paramwise_cfg=dict(
                custom_keys={"head": dict(lr_mult=0.5, decay_mult=2.0)},
                force_default_settings=True,
                bias_lr_mult=3.0,
                norm_decay_mult=0.0,
                bias_decay_mult=0.0,
            ),
            constructor="ForceDefaultOptimWrapperConstructor",
        ),
        param_scheduler=[],
        steps=3,
    ),
    "resnet_default_adamw_cosine": dict(
        model="resnet",
        optim_wrapper=dict(
            # No weight_decay: AdamW's default decays everything and
            # flat_decay_mult is ignored (MMEngine).
            optimizer=dict(type="AdamW", lr=1e-2),
            paramwise_cfg=dict(
                custom_keys={"backbone": dict(lr_mult=0.1)},
                bias_lr_mult=2.0,
                flat_decay_mult=0.0,
            ),
        ),
        # Absolute eta_min: the groups' rates are not multiples of the base.
        param_scheduler=[
            dict(
                type="CosineAnnealingLR",
                T_max=4,
                eta_min=2e-3,
                by_epoch=False,
                begin=0,
                end=4,
            )
        ],
        steps=4,
    ),
}


def run_case(case, seed):
    torch.manual_seed(0)
    model = MODELS[case["model"]]()
    params = dict(model.named_parameters())
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in params.values():
            p.copy_(torch.as_tensor(rng.normal(size=tuple(p.shape))))
    wrapper = build_optim_wrapper(
        model, json.loads(json.dumps(case["optim_wrapper"]))
    )
    lr, wd = {}, {}
    for group in wrapper.optimizer.param_groups:
        for p in group["params"]:
            name = next(k for k, q in params.items() if q is p)
            lr[name] = group["lr"]
            wd[name] = group["weight_decay"]
    schedulers = [
        PARAM_SCHEDULERS.build(dict(c), default_args=dict(optimizer=wrapper))
        for c in case["param_scheduler"]
    ]
    for _ in range(case["steps"]):
        for p in params.values():
            p.grad = torch.as_tensor(
                rng.normal(size=tuple(p.shape)), dtype=torch.float32
            )
        wrapper.step()
        wrapper.zero_grad()
        for s in schedulers:
            s.step()
    names = list(params)
    out = {
        "lr": np.array([lr[n] for n in names], np.float64),
        "weight_decay": np.array([wd[n] for n in names], np.float64),
    }
    for n, p in params.items():
        out[f"final/{n}"] = p.detach().numpy().astype(np.float32)
    shapes = {n: list(p.shape) for n, p in params.items()}
    return names, shapes, out


def main():
    logging.getLogger("mmengine").setLevel(logging.ERROR)
    init_default_scope("mmpose")
    out = {}
    for seed, (name, case) in enumerate(CASES.items()):
        names, shapes, arrays = run_case(case, seed)
        config = dict(case, seed=seed, names=names, shapes=shapes)
        out[f"{name}/config"] = np.array(json.dumps(config))
        for key, value in arrays.items():
            out[f"{name}/{key}"] = value
        print(name, len(names), "parameters")
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "mmengine_paramwise.npz", **out)
    print("wrote", OUT / "mmengine_paramwise.npz")


if __name__ == "__main__":
    main()

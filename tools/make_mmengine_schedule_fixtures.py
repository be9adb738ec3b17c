"""Generates tests/fixtures/mmengine_schedules.npz with the real MMEngine.

Run with the MMPose reference environment (mmengine 0.10.7, mmpose 1.3.2,
torch; see ../shared/reference/README.md):

    $REF/bin/python tools/make_mmengine_schedule_fixtures.py ../shared/reference

Schedules: each case trains a one-parameter model with MMEngine's own
``Runner`` (``EpochBasedTrainLoop``, ``ParamSchedulerHook``, default scope
``mmpose`` so that ``ConstantLR`` / ``QuadraticWarmupLR`` resolve to MMPose's
versions as in MMPose configs) and records the learning rate of parameter
group 0 before every training iteration, i.e. the rate that iteration's
optimizer step uses. Stored per case: ``<case>/config`` (JSON: base_lr,
param_scheduler, steps_per_epoch, max_epochs) and ``<case>/lr`` (float64).

Optimizers: a tiny module (Linear + BatchNorm1d) gets analytic gradients
``c * (p - target)`` and steps through MMEngine's ``build_optim_wrapper``
(paramwise_cfg, clip_grad) and an iteration-based schedule. Stored per case:
``opt_<case>/config`` (JSON: optim_wrapper, param_scheduler, steps), the
initial values, targets, gradient scales and ``opt_<case>/<name>`` (steps+1,
...) parameter trajectories, keyed by Keras variable names (``kernel``,
``bias``, ``gamma``, ``beta``).
"""

import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "../shared/reference")
import mmcv_ops_stub  # noqa: E402

mmcv_ops_stub.install()

import mmpose.engine.optim_wrappers  # noqa: E402,F401  (MMPose constructors)
import mmpose.engine.schedulers  # noqa: E402,F401  (MMPose's ConstantLR etc.)
from mmengine.hooks import Hook  # noqa: E402
from mmengine.model import BaseModel  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from mmengine.visualization import Visualizer  # noqa: E402
from mmpose.registry import PARAM_SCHEDULERS  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tests/fixtures"

SIMPLEBASELINE = [
    dict(type="LinearLR", begin=0, end=500, start_factor=0.001, by_epoch=False),
    dict(
        type="MultiStepLR",
        begin=0,
        end=210,
        milestones=[170, 200],
        gamma=0.1,
        by_epoch=True,
    ),
]


def rtmpose(max_epochs, base_lr):
    return [
        dict(
            type="LinearLR",
            start_factor=1.0e-5,
            by_epoch=False,
            begin=0,
            end=1000,
        ),
        dict(
            type="CosineAnnealingLR",
            eta_min=base_lr * 0.05,
            begin=max_epochs // 2,
            end=max_epochs,
            T_max=max_epochs // 2,
            by_epoch=True,
            convert_to_iter_based=True,
        ),
    ]


# name: (base_lr, param_scheduler, steps_per_epoch, max_epochs)
SCHEDULE_CASES = {
    # The real SimpleBaseline-R50 COCO schedule on a tiny epoch.
    "simplebaseline": (5e-4, SIMPLEBASELINE, 7, 210),
    # The real RTMPose-m schedule: the 1000-iteration warm-up overlaps the
    # cosine half (eta_min != 0, so the chained order matters).
    "rtmpose": (4e-3, rtmpose(420, 4e-3), 3, 420),
    # Same with a long epoch: warm-up done before the cosine starts.
    "rtmpose_long_epoch": (4e-3, rtmpose(20, 4e-3), 60, 20),
    "step": (0.1, [dict(type="StepLR", step_size=3, gamma=0.5)], 7, 12),
    "step_iter": (
        0.1,
        [dict(type="StepLR", step_size=10, gamma=0.7, by_epoch=False)],
        7,
        12,
    ),
    "poly_iter": (
        0.01,
        [dict(type="PolyLR", eta_min=1e-4, power=0.9, by_epoch=False)],
        7,
        12,
    ),
    "poly_epoch_warmup": (
        0.01,
        [
            dict(type="LinearLR", start_factor=0.1, by_epoch=False, end=20),
            dict(type="PolyLR", eta_min=2e-4, power=2.0, begin=1, end=11),
        ],
        7,
        12,
    ),
    "exponential": (
        1e-3,
        [
            dict(type="LinearLR", start_factor=0.01, by_epoch=False, end=10),
            dict(type="ExponentialLR", gamma=0.8, begin=2),
        ],
        7,
        12,
    ),
    "exponential_converted": (
        1e-3,
        [dict(type="ExponentialLR", gamma=0.9, convert_to_iter_based=True)],
        7,
        12,
    ),
    # Overlapping iteration- and epoch-based schedulers with affine updates.
    "overlap": (
        0.02,
        [
            dict(type="LinearLR", start_factor=0.05, by_epoch=False, end=40),
            dict(type="CosineAnnealingLR", eta_min=1e-3, begin=2, T_max=8),
            dict(type="MultiStepLR", milestones=[3, 3, 9], gamma=0.5),
            dict(type="ConstantLR", factor=0.5, begin=5, end=7),
        ],
        7,
        12,
    ),
    # Cosine run past T_max (the "restart" branch), ratio floor.
    "cosine_past_tmax": (
        0.1,
        [dict(type="CosineAnnealingLR", T_max=3, eta_min_ratio=0.1, end=12)],
        7,
        12,
    ),
    "cosine_iter_no_tmax": (
        0.1,
        [dict(type="CosineAnnealingLR", by_epoch=False, begin=5, end=70)],
        7,
        12,
    ),
    "multistep_converted": (
        0.1,
        [
            dict(
                type="MultiStepLR",
                milestones=[2, 5, 5],
                begin=1,
                gamma=0.3,
                convert_to_iter_based=True,
            )
        ],
        7,
        12,
    ),
    "linear_epoch_end_factor": (
        0.1,
        [dict(type="LinearLR", start_factor=0.5, end_factor=0.2, end=6)],
        7,
        12,
    ),
    # YOLOX-Pose / RTMO style (MMPose's QuadraticWarmupLR and ConstantLR
    # with a factor above 1).
    "yoloxpose": (
        0.004,
        [
            dict(
                type="QuadraticWarmupLR",
                by_epoch=True,
                begin=0,
                end=2,
                convert_to_iter_based=True,
            ),
            dict(
                type="CosineAnnealingLR",
                eta_min=0.0002,
                begin=2,
                T_max=7,
                end=7,
                by_epoch=True,
                convert_to_iter_based=True,
            ),
            dict(type="ConstantLR", by_epoch=True, factor=2.5, begin=7, end=8),
            dict(
                type="CosineAnnealingLR",
                eta_min=0.0002,
                begin=8,
                T_max=10,
                end=11,
                by_epoch=True,
                convert_to_iter_based=True,
            ),
            dict(type="ConstantLR", by_epoch=True, factor=1, begin=11, end=12),
        ],
        7,
        12,
    ),
    "onecycle": (
        0.01,
        [
            dict(
                type="OneCycleLR",
                eta_max=0.05,
                total_steps=84,
                pct_start=0.25,
                by_epoch=False,
            )
        ],
        7,
        12,
    ),
    "onecycle_three_phase_linear": (
        0.01,
        [
            dict(
                type="OneCycleLR",
                eta_max=0.05,
                pct_start=0.3,
                anneal_strategy="linear",
                three_phase=True,
                by_epoch=False,
                begin=4,
                end=60,
            ),
            dict(type="MultiStepLR", milestones=[6], gamma=0.5),
        ],
        7,
        12,
    ),
    "cosine_restart": (
        0.05,
        [
            dict(
                type="CosineRestartLR",
                periods=[20, 30, 25],
                restart_weights=[1, 0.5, 0.25],
                eta_min=1e-4,
                by_epoch=False,
            )
        ],
        7,
        12,
    ),
    "cosine_restart_converted": (
        0.05,
        [
            dict(type="LinearLR", start_factor=0.1, by_epoch=False, end=15),
            dict(
                type="CosineRestartLR",
                periods=[4, 6],
                restart_weights=[1, 0.8],
                eta_min_ratio=0.01,
                begin=1,
                convert_to_iter_based=True,
            ),
        ],
        7,
        12,
    ),
}


class _Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2))

    def forward(self, inputs, data_samples=None, mode="tensor"):
        return dict(loss=self.w.sum() * 0)


class _Dataset(torch.utils.data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return dict(inputs=torch.ones(1))


class _RecordLR(Hook):
    def __init__(self):
        self.lrs = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.lrs.append(runner.optim_wrapper.param_groups[0]["lr"])


def run_schedule(base_lr, param_scheduler, steps_per_epoch, max_epochs):
    recorder = _RecordLR()
    with tempfile.TemporaryDirectory() as work_dir:
        runner = Runner(
            model=_Toy(),
            work_dir=work_dir,
            train_dataloader=dict(
                dataset=_Dataset(steps_per_epoch),
                sampler=dict(type="DefaultSampler", shuffle=False),
                batch_size=1,
                num_workers=0,
            ),
            train_cfg=dict(
                by_epoch=True, max_epochs=max_epochs, val_interval=10**6
            ),
            optim_wrapper=dict(optimizer=dict(type="SGD", lr=base_lr)),
            param_scheduler=[dict(c) for c in param_scheduler],
            default_hooks=dict(checkpoint=None, logger=None),
            custom_hooks=[recorder],
            visualizer=Visualizer(name=f"vis{id(recorder)}"),
            default_scope="mmpose",
            log_level="ERROR",
            experiment_name=f"sched{id(recorder)}",
        )
        runner.train()
    assert len(recorder.lrs) == steps_per_epoch * max_epochs
    return np.asarray(recorder.lrs, np.float64)


# --- optimizers ---------------------------------------------------------------
class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 2)
        self.bn = torch.nn.BatchNorm1d(2)


OPT_SCHEDULE = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=4),
    dict(type="MultiStepLR", milestones=[6], gamma=0.1, by_epoch=False),
]
OPT_STEPS = 10

# name: optim_wrapper
OPT_CASES = {
    "adam": dict(optimizer=dict(type="Adam", lr=0.05)),
    "adam_l2_amsgrad": dict(
        optimizer=dict(
            type="Adam",
            lr=0.05,
            betas=(0.8, 0.95),
            eps=1e-6,
            weight_decay=0.1,
            amsgrad=True,
        ),
        paramwise_cfg=dict(bias_decay_mult=0),
    ),
    "adamw_rtmpose": dict(
        type="OptimWrapper",
        optimizer=dict(type="AdamW", lr=0.05, weight_decay=0.05),
        paramwise_cfg=dict(
            norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True
        ),
        clip_grad=dict(max_norm=0.5, norm_type=2),
    ),
    "adamw_default_decay": dict(optimizer=dict(type="AdamW", lr=0.05)),
    "sgd_momentum_l2": dict(
        optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=1e-2),
        paramwise_cfg=dict(norm_decay_mult=0),
    ),
    "sgd_nesterov_clip_value": dict(
        optimizer=dict(
            type="SGD", lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.05
        ),
        clip_grad=dict(type="value", clip_value=0.3),
    ),
    "sgd_plain": dict(optimizer=dict(type="SGD", lr=0.1)),
}

TORCH_TO_KERAS = {
    "fc.weight": "kernel",
    "fc.bias": "bias",
    "bn.weight": "gamma",
    "bn.bias": "beta",
}


def run_optimizer(optim_wrapper, rng):
    torch.manual_seed(0)
    model = _Tiny()
    params = dict(model.named_parameters())
    init = {k: rng.normal(size=tuple(p.shape)) for k, p in params.items()}
    target = {k: rng.normal(size=tuple(p.shape)) for k, p in params.items()}
    scale = {
        k: rng.uniform(0.2, 3.0, size=tuple(p.shape)) for k, p in params.items()
    }
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(torch.as_tensor(init[k], dtype=torch.float32))
    wrapper = build_optim_wrapper(model, json.loads(json.dumps(optim_wrapper)))
    schedulers = [
        PARAM_SCHEDULERS.build(dict(c), default_args=dict(optimizer=wrapper))
        for c in OPT_SCHEDULE
    ]
    t_target = {
        k: torch.as_tensor(v, dtype=torch.float32) for k, v in target.items()
    }
    t_scale = {
        k: torch.as_tensor(v, dtype=torch.float32) for k, v in scale.items()
    }
    traj = {k: [p.detach().numpy().copy()] for k, p in params.items()}
    for _ in range(OPT_STEPS):
        for k, p in params.items():
            p.grad = t_scale[k] * (p.detach() - t_target[k])
        wrapper.step()
        wrapper.zero_grad()
        for s in schedulers:
            s.step()
        for k, p in params.items():
            traj[k].append(p.detach().numpy().copy())
    out = {}
    for k, keras_name in TORCH_TO_KERAS.items():
        out[f"init/{keras_name}"] = init[k].astype(np.float32)
        out[f"target/{keras_name}"] = target[k].astype(np.float32)
        out[f"scale/{keras_name}"] = scale[k].astype(np.float32)
        out[f"traj/{keras_name}"] = np.stack(traj[k])
    return out


def main():
    logging.getLogger("mmengine").setLevel(logging.ERROR)
    init_default_scope("mmpose")
    out = {}
    for name, (base_lr, scheds, spe, epochs) in SCHEDULE_CASES.items():
        out[f"{name}/config"] = np.array(
            json.dumps(
                dict(
                    base_lr=base_lr,
                    param_scheduler=scheds,
                    steps_per_epoch=spe,
                    max_epochs=epochs,
                )
            )
        )
        out[f"{name}/lr"] = run_schedule(base_lr, scheds, spe, epochs)
        print(name, out[f"{name}/lr"].shape)
    rng = np.random.default_rng(0)
    for name, optim_wrapper in OPT_CASES.items():
        config = dict(
            optim_wrapper=optim_wrapper,
            param_scheduler=OPT_SCHEDULE,
            steps=OPT_STEPS,
        )
        out[f"opt_{name}/config"] = np.array(json.dumps(config))
        for key, value in run_optimizer(optim_wrapper, rng).items():
            out[f"opt_{name}/{key}"] = value
        print("opt", name)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "mmengine_schedules.npz", **out)
    print("wrote", OUT / "mmengine_schedules.npz")


if __name__ == "__main__":
    main()

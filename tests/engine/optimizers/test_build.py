import keras
import numpy as np
import pytest

from keraspose.engine import ParamSchedulerSchedule
from keraspose.engine import TorchAdam
from keraspose.engine import TorchAdamW
from keraspose.engine import TorchSGD
from keraspose.engine import build_optimizer

RTMPOSE_WRAPPER = dict(
    type="OptimWrapper",
    optimizer=dict(type="AdamW", lr=4e-3, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True
    ),
    clip_grad=dict(max_norm=35, norm_type=2),
)
RTMPOSE_SCHEDULE = [
    dict(
        type="LinearLR", start_factor=1.0e-5, by_epoch=False, begin=0, end=1000
    ),
    dict(
        type="CosineAnnealingLR",
        eta_min=4e-3 * 0.05,
        begin=210,
        end=420,
        T_max=210,
        by_epoch=True,
        convert_to_iter_based=True,
    ),
]


def test_simplebaseline_adam():
    opt = build_optimizer(
        dict(optimizer=dict(type="Adam", lr=5e-4)),
        steps_per_epoch=10,
        param_scheduler=[
            dict(
                type="LinearLR",
                begin=0,
                end=500,
                start_factor=0.001,
                by_epoch=False,
            ),
            dict(type="MultiStepLR", milestones=[170, 200], by_epoch=True),
        ],
        batch_size=64,
        auto_scale_lr=dict(base_batch_size=512),  # enable=False by default
        max_epochs=210,
    )
    assert type(opt) is TorchAdam
    assert (opt.beta_1, opt.beta_2, opt.epsilon) == (0.9, 0.999, 1e-8)
    assert opt.weight_decay is None and not opt.amsgrad
    assert opt.global_clipnorm is None and opt.clipvalue is None
    schedule = opt._learning_rate
    assert isinstance(schedule, ParamSchedulerSchedule)
    assert schedule.base_lr == 5e-4 and schedule.max_epochs == 210
    np.testing.assert_allclose(
        schedule.lr_at([0, 1700, 2000]), [5e-7, 5e-5, 5e-6]
    )


def test_rtmpose_adamw():
    opt = build_optimizer(
        RTMPOSE_WRAPPER,
        steps_per_epoch=100,
        param_scheduler=RTMPOSE_SCHEDULE,
        max_epochs=420,
    )
    assert type(opt) is TorchAdamW
    assert opt.weight_decay == 0.05 and opt.global_clipnorm == 35.0
    assert opt.paramwise_cfg == dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, bypass_duplicate=True
    )
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(2, name="fc"),
            keras.layers.BatchNormalization(name="bn"),
        ]
    )
    opt.build(model.trainable_variables)
    assert opt.multipliers() == {
        "fc.weight": (1.0, 1.0),
        "fc.bias": (1.0, 0.0),
        "bn.weight": (1.0, 0.0),
        "bn.bias": (1.0, 0.0),
    }


def test_exclusions_follow_mmengine_rule_order():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(2, name="fc"),
            keras.layers.BatchNormalization(name="bn"),
        ]
    )

    def no_decay(paramwise_cfg, **optimizer):
        optimizer = dict(type="AdamW", lr=1e-3, **optimizer)
        wrapper = dict(optimizer=optimizer, paramwise_cfg=paramwise_cfg)
        opt = build_optimizer(wrapper, 1)
        opt.build(model.trainable_variables)
        return sorted(n for n, (_, d) in opt.multipliers().items() if not d)

    assert no_decay(dict(norm_decay_mult=0), weight_decay=0.1) == [
        "bn.bias",
        "bn.weight",
    ]
    # Without a norm rule, normalization biases fall under the bias rule.
    assert no_decay(dict(bias_decay_mult=0), weight_decay=0.1) == [
        "bn.bias",
        "fc.bias",
    ]
    assert no_decay(
        dict(norm_decay_mult=1, bias_decay_mult=0), weight_decay=0.1
    ) == ["fc.bias"]
    # A zero decay has nothing to scale.
    assert len(no_decay(dict(norm_decay_mult=0), weight_decay=0)) == 4
    # MMEngine refuses decay multipliers without an explicit weight_decay
    # ("base_wd should not be None"): AdamW's default would not be scaled.
    with pytest.raises(ValueError, match="weight_decay"):
        no_decay(dict(norm_decay_mult=0, bias_decay_mult=0))


def test_sgd_clip_value_accumulation_and_auto_scale():
    opt = build_optimizer(
        dict(
            optimizer=dict(
                type="torch.SGD",
                lr=0.02,
                momentum=0.9,
                nesterov=True,
                weight_decay=1e-4,
                foreach=True,
            ),
            clip_grad=dict(type="value", clip_value=0.5),
            accumulative_counts=4,
        ),
        steps_per_epoch=10,
        batch_size=128,
        auto_scale_lr=dict(base_batch_size=256, enable=True),
    )
    assert type(opt) is TorchSGD
    assert (opt.momentum, opt.nesterov, opt.weight_decay) == (0.9, True, 1e-4)
    assert opt.clipvalue == 0.5 and opt.gradient_accumulation_steps == 4
    np.testing.assert_allclose(float(opt.learning_rate), 0.01)


def test_adam_options_and_decoupled_adam():
    opt = build_optimizer(
        dict(
            optimizer=dict(
                type="Adam",
                lr=1e-3,
                betas=(0.8, 0.9),
                eps=1e-6,
                weight_decay=0.01,
                amsgrad=True,
            )
        ),
        steps_per_epoch=1,
    )
    assert type(opt) is TorchAdam
    assert (opt.beta_1, opt.beta_2, opt.epsilon) == (0.8, 0.9, 1e-6)
    assert opt.weight_decay == 0.01 and opt.amsgrad
    decoupled = build_optimizer(
        dict(
            optimizer=dict(
                type="Adam", weight_decay=0.01, decoupled_weight_decay=True
            )
        ),
        steps_per_epoch=1,
    )
    assert type(decoupled) is TorchAdamW and decoupled.weight_decay == 0.01


def test_amp_optim_wrapper_warns():
    with pytest.warns(UserWarning, match="dtype policy"):
        opt = build_optimizer(
            dict(
                type="AmpOptimWrapper",
                loss_scale="dynamic",
                optimizer=dict(type="Adam", lr=5e-4),
            ),
            steps_per_epoch=1,
        )
    assert type(opt) is TorchAdam


def test_unknown_paramwise_key_warns():
    with pytest.warns(UserWarning, match="bogus"):
        build_optimizer(
            dict(optimizer=dict(type="Adam"), paramwise_cfg=dict(bogus=1)), 1
        )


@pytest.mark.parametrize(
    "wrapper, error, match",
    [
        (dict(optimizer=dict(type="RMSprop")), ValueError, "Supported types"),
        (dict(optimizer=dict(type="Adam", betas2=1)), ValueError, "betas2"),
        (dict(optimizer=dict(lr=1)), ValueError, "`type`"),
        (
            dict(optimizer=dict(type="Adam"), bogus=1),
            ValueError,
            "bogus",
        ),
        (
            dict(type="ApexOptimWrapper", optimizer=dict(type="Adam")),
            NotImplementedError,
            "ApexOptimWrapper",
        ),
        (
            dict(
                optimizer=dict(type="AdamW", weight_decay=0.1),
                constructor="LearningRateDecayOptimizerConstructor",
            ),
            NotImplementedError,
            "LearningRateDecayOptimizerConstructor",
        ),
        (
            dict(
                optimizer=dict(type="AdamW", weight_decay=0.1),
                constructor="LayerDecayOptimWrapperConstructor",
                paramwise_cfg=dict(num_layers=12),
            ),
            ValueError,
            "layer_decay_rate",
        ),
        (
            dict(
                optimizer=dict(type="AdamW", lr=1e-3),
                constructor="LayerDecayOptimWrapperConstructor",
                paramwise_cfg=dict(num_layers=12, layer_decay_rate=0.75),
            ),
            ValueError,
            "weight_decay",
        ),
        (
            dict(
                optimizer=dict(type="SGD", lr=0.1, weight_decay=0.1),
                paramwise_cfg=dict(custom_keys={"neck": dict(momentum=0)}),
            ),
            NotImplementedError,
            "momentum",
        ),
        (
            dict(
                optimizer=dict(type="AdamW", lr=0.1),
                paramwise_cfg=dict(custom_keys={"neck": dict(decay_mult=0)}),
            ),
            ValueError,
            "base_wd",
        ),
        (
            dict(
                optimizer=dict(type="AdamW", weight_decay=0.1),
                paramwise_cfg=dict(custom_keys=["neck"]),
            ),
            TypeError,
            "custom_keys",
        ),
        (
            dict(
                optimizer=dict(type="Adam"),
                clip_grad=dict(max_norm=1, norm_type=1),
            ),
            NotImplementedError,
            "norm_type",
        ),
        (
            dict(optimizer=dict(type="SGD", lr=0.1, dampening=0.1)),
            NotImplementedError,
            "dampening",
        ),
        (
            dict(optimizer=dict(type="Adam", maximize=True)),
            NotImplementedError,
            "maximize",
        ),
        (
            dict(adam=dict(optimizer=dict(type="Adam"))),
            NotImplementedError,
            "several optimizers",
        ),
    ],
)
def test_errors(wrapper, error, match):
    with pytest.raises(error, match=match):
        build_optimizer(wrapper, steps_per_epoch=1)


def test_auto_scale_lr_needs_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        build_optimizer(
            dict(optimizer=dict(type="Adam")),
            1,
            auto_scale_lr=dict(base_batch_size=512, enable=True),
        )


def test_unknown_scheduler_type_is_reported():
    with pytest.raises(ValueError, match="Supported types"):
        build_optimizer(
            dict(optimizer=dict(type="Adam")),
            1,
            param_scheduler=[dict(type="WarmupCosine")],
        )

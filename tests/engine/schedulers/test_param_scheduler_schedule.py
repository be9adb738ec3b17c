import json

import keras
import numpy as np
import pytest

import keraspose
from keraspose.engine import ParamSchedulerSchedule
from keraspose.engine import build_optimizer
from tests.conftest import FIXTURES
from tests.helpers import BACKEND
from tests.helpers import run_object_test

_FIXTURE = dict(np.load(FIXTURES / "mmengine_schedules.npz"))
CASES = sorted(
    k[: -len("/lr")]
    for k in _FIXTURE
    if k.endswith("/lr") and not k.startswith("opt_")
)

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


def _case(name):
    return json.loads(str(_FIXTURE[f"{name}/config"])), _FIXTURE[f"{name}/lr"]


def test_fixture_covers_the_schedulers():
    types = {
        s["type"] for name in CASES for s in _case(name)[0]["param_scheduler"]
    }
    assert types == {
        "LinearLR",
        "MultiStepLR",
        "StepLR",
        "ConstantLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "PolyLR",
        "OneCycleLR",
        "CosineRestartLR",
        "QuadraticWarmupLR",
    }


@pytest.mark.parametrize("name", CASES)
def test_schedule_equals_mmengine_runner(name):
    config, expected = _case(name)
    schedule = ParamSchedulerSchedule(**config)
    iterations = np.arange(len(expected))
    # Host replay: MMEngine's float64 numbers.
    np.testing.assert_allclose(schedule.lr_at(iterations), expected, rtol=1e-12)
    # keras.ops lookup (float32).
    got = keras.ops.convert_to_numpy(schedule(iterations))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_scalar_call_and_past_the_end():
    config, expected = _case("simplebaseline")
    schedule = ParamSchedulerSchedule(**config)
    for step in (0, 1, 499, 500, 1189, 1190, 1469):
        value = keras.ops.convert_to_numpy(schedule(step))
        assert value.shape == ()
        np.testing.assert_allclose(value, expected[step], rtol=1e-6)
    # Past the last change the rate stays at its final value.
    assert schedule.lr_at(10**7) == expected[-1]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(schedule(10**7)), expected[-1], rtol=1e-6
    )


def test_epoch_based_schedulers_change_only_at_epoch_boundaries():
    schedule = ParamSchedulerSchedule(
        0.1, [dict(type="ExponentialLR", gamma=0.5)], 5, max_epochs=4
    )
    np.testing.assert_allclose(
        schedule.lr_at(np.arange(20)), 0.1 * 0.5 ** (np.arange(20) // 5)
    )
    np.testing.assert_allclose(
        schedule.lr_at_epoch([0, 1.5, 3]), [0.1, 0.05, 0.0125]
    )
    # Converted to iterations it decays at every iteration instead.
    converted = ParamSchedulerSchedule(
        0.1,
        [dict(type="ExponentialLR", gamma=0.5, convert_to_iter_based=True)],
        5,
        max_epochs=4,
    )
    np.testing.assert_allclose(converted.lr_at([0, 1, 2]), [0.1, 0.05, 0.025])


def test_registry_config_and_keras_serialization_round_trip():
    cfg = dict(
        type="ParamSchedulerSchedule",
        base_lr=5e-4,
        param_scheduler=(dict(SIMPLEBASELINE[0]), dict(SIMPLEBASELINE[1])),
        steps_per_epoch=7,
        max_epochs=210,
    )
    iterations = np.array([0, 3, 499, 500, 1190, 1400, 5000])
    schedule = run_object_test(
        cfg, lambda s: (s(iterations), s.lr_at(iterations))
    )
    config = keraspose.to_config(schedule)
    # Tuples come back as lists, as from a JSON round trip.
    assert config["param_scheduler"][1]["milestones"] == [170, 200]
    assert json.loads(json.dumps(config)) == config
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule)
    )
    assert isinstance(restored, ParamSchedulerSchedule)
    np.testing.assert_array_equal(
        restored.lr_at(iterations), schedule.lr_at(iterations)
    )


def test_single_dict_and_no_schedulers():
    one = ParamSchedulerSchedule(0.1, dict(type="StepLR", step_size=2), 3, 6)
    assert one.get_config()["param_scheduler"] == [
        dict(type="StepLR", step_size=2)
    ]
    np.testing.assert_allclose(one.lr_at([5, 6]), [0.1, 0.01])
    constant = ParamSchedulerSchedule(0.1, [], 3)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(constant(np.arange(4))), [0.1] * 4
    )


def test_saved_compiled_model_keeps_the_schedule(tmp_path):
    optimizer = build_optimizer(
        dict(
            optimizer=dict(type="AdamW", lr=4e-3, weight_decay=0.05),
            paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0),
            clip_grad=dict(max_norm=35, norm_type=2),
        ),
        steps_per_epoch=3,
        param_scheduler=[
            dict(type="LinearLR", start_factor=1e-5, by_epoch=False, end=10),
            dict(
                type="CosineAnnealingLR",
                eta_min=2e-4,
                begin=2,
                T_max=2,
                by_epoch=True,
                convert_to_iter_based=True,
            ),
        ],
        max_epochs=4,
    )
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, name="fc"),
            keras.layers.BatchNormalization(name="bn"),
        ]
    )
    model.compile(
        optimizer=optimizer, loss="mse", jit_compile=BACKEND != "torch"
    )
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    y = np.random.default_rng(1).normal(size=(6, 3)).astype("float32")
    model.fit(x, y, batch_size=3, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 2
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    schedule = model.optimizer._learning_rate
    restored = loaded.optimizer._learning_rate
    assert type(loaded.optimizer) is type(model.optimizer)
    assert isinstance(restored, ParamSchedulerSchedule)
    assert restored.get_config() == schedule.get_config()
    iterations = np.arange(12)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(restored(iterations)),
        keras.ops.convert_to_numpy(schedule(iterations)),
    )
    assert int(loaded.optimizer.iterations) == 2
    np.testing.assert_allclose(
        float(loaded.optimizer.learning_rate), schedule.lr_at(2), rtol=1e-6
    )
    assert loaded.optimizer.paramwise_cfg == dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0
    )
    assert loaded.optimizer.multipliers() == model.optimizer.multipliers()
    assert loaded.optimizer.multipliers()["bn.weight"] == (1.0, 0.0)
    assert loaded.optimizer.global_clipnorm == 35.0
    # Training goes on from the restored state.
    loaded.fit(x, y, batch_size=3, epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations) == 4


@pytest.mark.parametrize(
    "scheduler, match",
    [
        (dict(type="WarmupLR"), "Unknown learning-rate scheduler type"),
        (dict(type="ReduceOnPlateauLR"), "validation metrics"),
        (dict(type="StepLR", step_size=2, bogus=1), r"\['bogus'\]"),
        (dict(type="StepLR", step_size=2, param_name="lr"), "param_name"),
        (dict(type="ExponentialLR", gamma=0.9), "no `end`"),
        (dict(type="StepLR", step_size=2), "`end`"),
        (dict(type="LinearLR", begin=5, end=5), "larger than `begin`"),
        (dict(type="LinearLR", start_factor=2.0, end=5), r"\[0, 1\]"),
        (
            dict(type="PolyLR", by_epoch=False, convert_to_iter_based=True),
            "by_epoch=True",
        ),
        (dict(type="MultiStepLR", milestones=[1], last_step=3), "last_step"),
        (
            dict(type="OneCycleLR", total_steps=10, by_epoch=False, end=20),
            "total_steps",
        ),
        (
            dict(type="CosineAnnealingLR", eta_min=0, eta_min_ratio=0.1, end=3),
            "not both",
        ),
        (dict(type="QuadraticWarmupLR"), "`end` is required"),
        (dict(type="MultiStepLR"), "`milestones` is required"),
    ],
)
def test_errors_name_the_problem(scheduler, match):
    with pytest.raises(ValueError, match=match) as info:
        ParamSchedulerSchedule(0.1, [scheduler], 4)
    if "Unknown" in match:
        assert "CosineAnnealingLR" in str(info.value)  # lists supported ones


def test_bad_steps_per_epoch():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        ParamSchedulerSchedule(0.1, [], 0)
    with pytest.raises(ValueError, match="max_epochs"):
        ParamSchedulerSchedule(0.1, [], 3, max_epochs=2.5)

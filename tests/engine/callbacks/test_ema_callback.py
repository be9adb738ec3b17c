"""EMACallback against MMEngine's ExponentialMovingAverage and MMDetection's
ExpMomentumEMA (fixture: tools/make_mmengine_ema_fixtures.py)."""

import keras
import numpy as np
import pytest

from keraspose.apis.runner import _custom_hook_callbacks
from keraspose.engine import EMACallback
from tests.conftest import FIXTURES

TORCH_KEYS = ["0.weight", "0.bias", "1.weight", "1.bias"]
BUFFER_KEYS = ["1.running_mean", "1.running_var"]


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(FIXTURES / "mmengine_ema.npz"))


def _model():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(2, name="fc"),
            keras.layers.BatchNormalization(name="bn"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    return model


def _keras_vars(model):
    dense, bn = model.layers
    return {
        "0.weight": (dense.kernel, True),
        "0.bias": (dense.bias, False),
        "1.weight": (bn.gamma, False),
        "1.bias": (bn.beta, False),
        "1.running_mean": (bn.moving_mean, False),
        "1.running_var": (bn.moving_variance, False),
    }


class _Inject(keras.callbacks.Callback):
    """Sets the weights to the fixture's values of each step."""

    def __init__(self, ref):
        super().__init__()
        self.ref = ref
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        for key, (var, transpose) in _keras_vars(self.model).items():
            value = self.ref[f"seq:{key}"][self.step]
            var.assign(value.T if transpose else value)
        self.step += 1


@pytest.mark.parametrize(
    "tag,kwargs",
    [
        (
            "exp",
            dict(
                ema_type="ExpMomentumEMA",
                momentum=0.1,
                gamma=4,
                update_buffers=True,
            ),
        ),
        (
            "exp_i2",
            dict(
                ema_type="mmdet.ExpMomentumEMA",
                momentum=0.2,
                gamma=3,
                interval=2,
            ),
        ),
        ("plain", dict(momentum=0.3)),
    ],
)
def test_ema_matches_mmengine(ref, tag, kwargs):
    steps = ref["seq:0.bias"].shape[0]
    model = _model()
    ema = EMACallback(**kwargs)
    x = np.zeros((steps, 3), "float32")
    y = np.zeros((steps, 2), "float32")
    model.fit(
        x, y, batch_size=1, epochs=1, callbacks=[_Inject(ref), ema], verbose=0
    )
    # After training the model holds the averaged weights (the state that
    # MMEngine's checkpoints store as `state_dict`).
    for key, (var, transpose) in _keras_vars(model).items():
        want = ref[f"{tag}:{key}"][-1]
        got = keras.ops.convert_to_numpy(var.value)
        np.testing.assert_allclose(
            got.T if transpose else got, want, rtol=1e-6, atol=1e-6
        )


def test_ema_swaps_back_for_training():
    model = _model()
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.ones((8, 2), "float32")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    ema = EMACallback(momentum=0.5)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(keras.ops.convert_to_numpy(self.model.layers[0].kernel))

    # EMA's epoch-begin swap runs first: the next epoch trains from the
    # training weights, not from the average shown to evaluation.
    model.fit(
        x, y, batch_size=4, epochs=3, callbacks=[ema, Record()], verbose=0
    )
    assert ema._swapped
    assert not np.allclose(seen[1], seen[2]), seen


def test_custom_hooks_from_mmpose_config(caplog):
    hooks = [
        dict(
            type="EMAHook",
            ema_type="ExpMomentumEMA",
            momentum=0.0002,
            update_buffers=True,
            priority=49,
        ),
        dict(
            type="mmdet.PipelineSwitchHook",
            switch_epoch=390,
            switch_pipeline=[dict(type="LoadImage")],
        ),
        dict(type="SyncBuffersHook"),
    ]
    callbacks, switch = _custom_hook_callbacks(hooks)
    assert isinstance(callbacks[0], EMACallback)
    assert callbacks[0].update_buffers and callbacks[0].momentum == 0.0002
    assert switch["switch_epoch"] == 390
    assert "SyncBuffersHook" in caplog.text
    with pytest.raises(ValueError, match="switch_pipeline"):
        _custom_hook_callbacks([dict(type="PipelineSwitchHook")])
    with pytest.raises(ValueError, match="ema_type"):
        EMACallback(ema_type="StochasticWeightAverage")

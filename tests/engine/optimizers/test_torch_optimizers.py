import json

import keras
import numpy as np
import pytest

import keraspose
from keraspose.engine import TorchAdam
from keraspose.engine import TorchAdamW
from keraspose.engine import TorchSGD
from keraspose.engine import build_optimizer
from tests.conftest import FIXTURES

_FIXTURE = dict(np.load(FIXTURES / "mmengine_schedules.npz"))
OPT_CASES = sorted(
    k[len("opt_") : -len("/config")]
    for k in _FIXTURE
    if k.startswith("opt_") and k.endswith("/config")
)
NAMES = ("kernel", "bias", "gamma", "beta")


def _run(optimizer, init, target, scale, steps):
    variables = [
        keras.Variable(init[n], name=n, dtype="float32") for n in NAMES
    ]
    trajectory = {n: [init[n]] for n in NAMES}
    for _ in range(steps):
        grads = [
            keras.ops.convert_to_tensor(scale[n] * (v.numpy() - target[n]))
            for n, v in zip(NAMES, variables)
        ]
        optimizer.apply(grads, variables)
        for n, v in zip(NAMES, variables):
            trajectory[n].append(np.asarray(v.numpy()))
    return {n: np.stack(t) for n, t in trajectory.items()}


@pytest.mark.parametrize("name", OPT_CASES)
def test_optimizer_steps_equal_mmengine_optim_wrapper(name):
    """MMEngine's optim wrapper (paramwise_cfg, clip_grad) + torch.optim."""
    prefix = f"opt_{name}"
    config = json.loads(str(_FIXTURE[f"{prefix}/config"]))
    optimizer = build_optimizer(
        config["optim_wrapper"],
        steps_per_epoch=1,
        param_scheduler=config["param_scheduler"],
    )

    def get(kind):
        return {n: _FIXTURE[f"{prefix}/{kind}/{n}"] for n in NAMES}

    got = _run(
        optimizer,
        get("init"),
        get("target"),
        get("scale"),
        config["steps"],
    )
    for n in NAMES:
        np.testing.assert_allclose(
            got[n], _FIXTURE[f"{prefix}/traj/{n}"], rtol=1e-6, atol=5e-7
        )


def test_sgd_momentum_follows_the_current_learning_rate():
    # torch: p -= lr_t * buf; a learning-rate drop applies to the whole
    # momentum buffer at once (Keras' SGD would carry -lr_old * g along).
    schedule = keraspose.build(
        dict(
            type="ParamSchedulerSchedule",
            base_lr=1.0,
            param_scheduler=[
                dict(type="MultiStepLR", milestones=[1], by_epoch=False)
            ],
            steps_per_epoch=1,
        )
    )
    opt = TorchSGD(learning_rate=schedule, momentum=0.5)
    w = keras.Variable([0.0])
    for _ in range(2):
        opt.apply([keras.ops.convert_to_tensor([1.0])], [w])
    # step 1: buf = 1, w = -1; step 2: buf = 1.5, w = -1 - 0.1 * 1.5
    np.testing.assert_allclose(w.numpy(), [-1.15], rtol=1e-6)


def test_adam_bias_correction_counts_updates_with_accumulation():
    init = np.array([1.0, -2.0, 3.0], "float32")
    grads = [np.array(g, "float32") for g in ([1, 2, 3], [3, -2, 1])]
    grads += [np.array(g, "float32") for g in ([0.5, 0.1, -1], [2, 2, 2])]
    accumulated = TorchAdam(learning_rate=0.1, gradient_accumulation_steps=2)
    w_acc = keras.Variable(init)
    for g in grads:
        accumulated.apply([keras.ops.convert_to_tensor(g)], [w_acc])
    plain = TorchAdam(learning_rate=0.1)
    w = keras.Variable(init)
    for a, b in (grads[:2], grads[2:]):
        plain.apply([keras.ops.convert_to_tensor((a + b) / 2)], [w])
    np.testing.assert_allclose(w_acc.numpy(), w.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "cfg",
    [
        dict(
            type="TorchAdam",
            learning_rate=0.01,
            beta_1=0.8,
            weight_decay=0.1,
            amsgrad=True,
            paramwise_cfg=dict(bias_decay_mult=0.0, bias_lr_mult=2.0),
        ),
        dict(
            type="TorchAdamW",
            learning_rate=0.01,
            weight_decay=0.05,
            global_clipnorm=1.0,
            paramwise_cfg=dict(num_layers=2, layer_decay_rate=0.5),
            constructor="LayerDecayOptimWrapperConstructor",
        ),
        dict(
            type="TorchSGD",
            learning_rate=0.1,
            momentum=0.9,
            nesterov=True,
            weight_decay=1e-4,
        ),
    ],
)
def test_config_round_trip(cfg):
    opt = keraspose.build(cfg)
    config = keraspose.to_config(opt)
    clone = keraspose.build(config)
    assert keraspose.to_config(clone) == config
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(restored) is type(opt)
    assert restored.get_config() == opt.get_config()
    assert restored.paramwise_cfg == cfg.get("paramwise_cfg", {})


def test_adamw_defaults_are_torchs():
    opt = TorchAdamW()
    assert opt.weight_decay == 0.01 and opt.epsilon == 1e-8
    assert TorchAdam().epsilon == 1e-8
    with pytest.raises(ValueError, match="Nesterov"):
        TorchSGD(nesterov=True)


@pytest.mark.parametrize("cls", [TorchAdamW, TorchAdam, TorchSGD])
def test_excluded_variables_skip_decay_in_a_compiled_fit(cls):
    # Zero gradients: only weight decay moves the variables.
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(2, name="fc"),
            keras.layers.BatchNormalization(name="bn"),
        ]
    )
    model.set_weights([np.ones_like(w) for w in model.get_weights()])
    opt = cls(
        learning_rate=0.1,
        weight_decay=0.5,
        paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0),
    )
    model.compile(
        optimizer=opt,
        loss=lambda y, p: 0.0 * keras.ops.sum(p),
        jit_compile=keras.backend.backend() != "torch",
    )
    model.fit(np.ones((4, 3)), np.ones((4, 2)), batch_size=4, verbose=0)
    weights = {v.path.split("/", 1)[1]: v.numpy() for v in model.weights}
    kernel = weights["fc/kernel"]
    if cls is TorchAdam:
        # L2 gradient wd * p through Adam: the first step moves by lr.
        np.testing.assert_allclose(kernel, 0.9, rtol=1e-6)
    else:
        np.testing.assert_allclose(kernel, 0.95, rtol=1e-6)
    for name in ("fc/bias", "bn/gamma", "bn/beta"):
        np.testing.assert_array_equal(weights[name], 1.0)


def test_non_norm_gamma_beta_still_decay():
    # RTMCCBlock's `gamma`/`beta` are scale-offsets, not norm parameters:
    # MMEngine's norm_decay_mult=0 leaves them decayed.
    block = keraspose.build(
        dict(
            type="RTMCCBlock",
            num_token=4,
            in_token_dims=8,
            out_token_dims=8,
            s=4,
            expansion_factor=2,
        )
    )
    block.build((None, 4, 8))
    bn = keras.layers.BatchNormalization(name="bn")
    bn.build((None, 3))
    opt = TorchAdamW(
        learning_rate=0.1,
        weight_decay=0.5,
        paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0),
    )
    opt.build([block.gamma, block.beta, bn.gamma, bn.beta])
    decays = {n: d for n, (_, d) in opt.multipliers().items()}
    assert decays == {
        f"{block.name}.gamma": 1.0,
        f"{block.name}.beta": 1.0,
        "bn.weight": 0.0,
        "bn.bias": 0.0,
    }

import json

import keras
import numpy as np
import pytest

import keraspose
from keraspose.engine import build_optimizer
from keraspose.engine.optimizers.param_names import module_name
from keraspose.engine.optimizers.param_names import parameter_info
from keraspose.engine.optimizers.param_names import parameter_name
from keraspose.engine.optimizers.paramwise import vit_layer_id
from keraspose.models.utils.conv2d import Conv2d
from tests.conftest import FIXTURES
from tests.helpers import BACKEND

_FIXTURE = dict(np.load(FIXTURES / "mmengine_paramwise.npz"))
CASES = sorted(k[: -len("/config")] for k in _FIXTURE if k.endswith("/config"))


class _Module(keras.layers.Layer):
    """A container mirroring a torch module: children built on given input
    shapes, plus plain parameters."""

    def __init__(self, children=(), params=None, **kwargs):
        super().__init__(**kwargs)
        self._specs = list(children)
        for layer, _ in self._specs:
            setattr(self, layer.name, layer)
        self._param_shapes = dict(params or {})

    def build(self, input_shape=None):
        for name, shape in self._param_shapes.items():
            variable = self.add_weight(
                name=name, shape=shape, initializer="zeros"
            )
            setattr(self, name, variable)
        for layer, shape in self._specs:
            layer.build(shape)


class _Net(keras.Model):
    def __init__(self, children=(), params=None, **kwargs):
        super().__init__(**kwargs)
        self._specs = list(children)
        for layer, _ in self._specs:
            setattr(self, layer.name, layer)
        self._param_shapes = dict(params or {})

    def build(self, input_shape=None):
        # The test assigns every value: zero initializers spare JAX a
        # compilation per random-initializer shape.
        for layer in self._flatten_layers(include_self=False):
            for attr in ("kernel_initializer", "bias_initializer"):
                if hasattr(layer, attr):
                    setattr(layer, attr, keras.initializers.Zeros())
        for name, shape in self._param_shapes.items():
            variable = self.add_weight(
                name=name, shape=shape, initializer="zeros"
            )
            setattr(self, name, variable)
        for layer, shape in self._specs:
            layer.build(shape)


def _apply_steps(optimizer, grads, variables):
    """``optimizer.apply`` for each gradient list; on JAX one jit-compiled
    stateless step (eager JAX compiles every op per shape)."""
    if BACKEND != "jax":
        for step_grads in grads:
            optimizer.apply(step_grads, variables)
        return
    import jax

    step = jax.jit(optimizer.stateless_apply)
    values = [v.value for v in variables]
    state = [v.value for v in optimizer.variables]
    for step_grads in grads:
        values, state = step(state, step_grads, values)
    for variable, value in zip(variables, values):
        variable.assign(value)
    for variable, value in zip(optimizer.variables, state):
        variable.assign(value)


def _m(name, children=(), params=None):
    return _Module(children, params, name=name), None


def _vit_net():
    """keraspose-style names of the fixture's mmpretrain ViT + head."""

    def block(i):
        return _m(
            f"layers_{i}",
            [
                (keras.layers.LayerNormalization(name="ln1"), (None, 4, 8)),
                _m(
                    "attn",
                    [
                        (keras.layers.Dense(24, name="qkv"), (None, 8)),
                        (keras.layers.Dense(8, name="proj"), (None, 8)),
                    ],
                ),
                (keras.layers.LayerNormalization(name="ln2"), (None, 4, 8)),
                _m(
                    "ffn",
                    [
                        (keras.layers.Dense(16, name="layers_0_0"), (None, 8)),
                        (keras.layers.Dense(8, name="layers_1"), (None, 16)),
                    ],
                ),
            ],
        )

    projection = Conv2d(8, 4, strides=4, padding=2, name="projection")
    backbone = _m(
        "backbone",
        [
            _m("patch_embed", [(projection, (None, 8, 8, 3))]),
            block(0),
            block(1),
            (keras.layers.LayerNormalization(name="ln1"), (None, 4, 8)),
        ],
        params={"pos_embed": (1, 9, 8)},
    )
    head = _m("head", [(Conv2d(3, 1, name="final_layer"), (None, 2, 2, 8))])
    net = _Net([backbone, head], name="vit_pose")
    net.build()
    return net


def _resnet_net():
    """keraspose's ResNet + a head with depthwise conv, LayerNorm, plain
    parameters, Linear and conv (the fixture's torch model)."""
    backbone = keraspose.build(
        dict(
            type="ResNet",
            depth=18,
            num_stages=2,
            base_channels=2,
            stem_channels=2,
            strides=(1, 2),
            dilations=(1, 1),
            out_indices=(1,),
        ),
        name="backbone",
    )
    head = _m(
        "head",
        [
            (Conv2d(4, 3, padding=1, groups=4, name="dw"), (None, 8, 8, 4)),
            (keras.layers.LayerNormalization(name="ln"), (None, 4)),
            _m("attn", params={"gamma": (2, 4), "beta": (4,)}),
            (keras.layers.Dense(3, name="fc"), (None, 4)),
            (Conv2d(3, 1, name="final_layer"), (None, 8, 8, 4)),
        ],
    )
    net = _Net(
        [(backbone, (None, 32, 32, 3)), head],
        params={"temperature": (1,)},
        name="resnet_pose",
    )
    net.build()
    return net


def _to_keras(array, variable):
    """Torch layout -> Keras layout (conv / linear kernels)."""
    if variable.path.split("/")[-1] == "kernel":
        axes = (2, 3, 1, 0) if array.ndim == 4 else (1, 0)
        array = np.transpose(array, axes)
    assert array.shape == tuple(variable.shape), variable.path
    return array.astype("float32")


@pytest.mark.parametrize("case", CASES)
def test_paramwise_steps_equal_mmengine(case):
    config = json.loads(str(_FIXTURE[f"{case}/config"]))
    net = {"vit": _vit_net, "resnet": _resnet_net}[config["model"]]()
    variables = net.trainable_variables
    opt = build_optimizer(
        config["optim_wrapper"],
        steps_per_epoch=1,
        param_scheduler=config["param_scheduler"] or None,
    )
    opt.build(variables)
    by_name = dict(zip(opt.parameter_names, opt._trainable_variables))
    names = config["names"]
    assert sorted(by_name) == sorted(names)

    # Per-parameter rates and decays of MMEngine's parameter groups.
    base_lr = config["optim_wrapper"]["optimizer"]["lr"]
    multipliers = opt.multipliers()
    lr = np.array([multipliers[n][0] * base_lr for n in names])
    wd = np.array([multipliers[n][1] * (opt.weight_decay or 0) for n in names])
    np.testing.assert_allclose(lr, _FIXTURE[f"{case}/lr"], rtol=1e-12)
    np.testing.assert_allclose(
        wd, _FIXTURE[f"{case}/weight_decay"], rtol=1e-12, atol=1e-15
    )

    # The same initial values and gradients, drawn in torch's order.
    rng = np.random.default_rng(config["seed"])
    shapes = config["shapes"]
    for n in names:
        by_name[n].assign(_to_keras(rng.normal(size=shapes[n]), by_name[n]))
    ordered = [by_name[n] for n in names]
    grads = [
        [
            keras.ops.convert_to_tensor(
                _to_keras(rng.normal(size=shapes[n]), by_name[n])
            )
            for n in names
        ]
        for _ in range(config["steps"])
    ]
    _apply_steps(opt, grads, ordered)
    for n in names:
        np.testing.assert_allclose(
            by_name[n].numpy(),
            _to_keras(_FIXTURE[f"{case}/final/{n}"], by_name[n]),
            rtol=1e-6,
            atol=1e-6,
            err_msg=n,
        )


def test_parameter_names_of_keraspose_layers():
    net = _resnet_net()
    infos = {i.name: i for i in parameter_info(net.trainable_variables)}
    assert "backbone.layer2.0.downsample.1.weight" in infos
    assert "backbone.layer1.1.bn2.bias" in infos
    info = infos["head.attn.gamma"]  # not a normalization parameter
    assert not info.is_norm and info.local_name == "gamma"
    assert infos["head.ln.weight"].is_norm
    assert infos["backbone.bn1.bias"].is_norm
    assert infos["head.dw.weight"].is_dwconv
    assert not infos["head.final_layer.weight"].is_dwconv
    assert infos["temperature"].owner is net
    # Non-trainable variables get torch's buffer names.
    bn = next(x for x in net.backbone._flatten_layers() if x.name == "bn1")
    assert parameter_name(bn.moving_variance, bn, net) == (
        "backbone.bn1.running_var"
    )


def test_module_name_and_vit_layer_ids():
    assert module_name("layer1_0") == "layer1.0"
    assert module_name("layers_11_attn") == "layers.11.attn"
    assert module_name("ffn_layers_0_0") == "ffn_layers.0.0"
    assert module_name("patch_embed") == "patch_embed"
    assert module_name("conv_1x1") == "conv_1x1"
    assert vit_layer_id("backbone.cls_token", 14) == 0
    assert vit_layer_id("backbone.patch_embed_projection.weight", 14) == 0
    assert vit_layer_id("backbone.layers.11.ln1.weight", 14) == 12
    assert vit_layer_id("backbone.ln1.weight", 14) == 13
    assert vit_layer_id("head.final_layer.bias", 14) == 13
    with pytest.raises(ValueError, match="block index"):
        vit_layer_id("backbone.layers_x.weight", 14)


def test_functional_model_names_have_no_model_prefix():
    inputs = keras.Input((3,))
    x = keras.layers.Dense(2, name="fc")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, x, name="net")
    names = [i.name for i in parameter_info(model.trainable_variables)]
    assert names == ["fc.weight", "fc.bias", "bn.weight", "bn.bias"]


def test_names_of_weights_built_before_attachment():
    # RealNVP builds its Dense layers at construction, so their variable
    # paths lack "head/loss_module/flow_model"; names come from the tree.
    net = keraspose.build(
        dict(
            type="TopdownPoseEstimator",
            backbone=dict(type="ResNet", depth=18, base_channels=4),
            neck=dict(type="GlobalAveragePooling"),
            head=dict(type="RLEHead", in_channels=32, num_joints=3),
        )
    )
    net.build((None, 32, 32, 3))
    names = [i.name for i in parameter_info(net.trainable_variables)]
    assert names[0] == "backbone.conv1.weight"
    assert "head.loss_module.flow_model.s.0.0.weight" in names
    assert all(n.split(".")[0] in ("backbone", "head") for n in names)


def test_inert_custom_key_settings_warn_and_still_select():
    # MMEngine copies unknown keys into the group (no effect), but the key
    # still matches and turns the default rules off for its parameters.
    with pytest.warns(UserWarning, match="decay_multi"):
        opt = build_optimizer(
            dict(
                optimizer=dict(type="AdamW", lr=1e-3, weight_decay=0.1),
                paramwise_cfg=dict(
                    custom_keys={"fc": dict(decay_multi=0.0)},
                    bias_decay_mult=0.0,
                ),
            ),
            1,
        )
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, name="fc")]
    )
    opt.build(model.trainable_variables)
    assert opt.multipliers() == {"fc.weight": (1.0, 1.0), "fc.bias": (1.0, 1.0)}


def test_multipliers_survive_a_keras_reload(tmp_path):
    optimizer = build_optimizer(
        dict(
            optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=0.1),
            paramwise_cfg=dict(
                custom_keys={"fc": dict(lr_mult=0.5)},
                bias_lr_mult=2.0,
                norm_decay_mult=0.0,
            ),
        ),
        steps_per_epoch=2,
        param_scheduler=[
            dict(
                type="CosineAnnealingLR",
                T_max=4,
                eta_min=0.05,
                by_epoch=False,
                end=4,
            )
        ],
    )
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, name="fc"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Dense(2, name="out"),
        ]
    )
    model.compile(
        optimizer=optimizer, loss="mse", jit_compile=BACKEND != "torch"
    )
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    y = np.random.default_rng(1).normal(size=(6, 2)).astype("float32")
    model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    expected = {
        "fc.weight": (0.5, 1.0),
        "fc.bias": (0.5, 1.0),
        "bn.weight": (1.0, 0.0),
        "bn.bias": (1.0, 0.0),
        "out.weight": (1.0, 1.0),
        "out.bias": (2.0, 1.0),
    }
    assert model.optimizer.multipliers() == expected
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.optimizer.multipliers() == expected
    model.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=3, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)

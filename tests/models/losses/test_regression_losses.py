import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import assert_allclose_tree
from tests.helpers import run_layer_test
from tests.helpers import run_object_test
from tests.helpers import to_numpy


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_regression.npz"))


def flow_weight(index, shape):
    """The fixture script's deterministic flow weights."""
    size = int(np.prod(shape))
    values = 0.3 * np.sin(np.arange(size) * 0.37 + index * 1.3)
    return values.reshape(shape).astype(np.float32)


def set_flow(flow, keys):
    """Loads the fixture's flow weights (MMPose names) into a RealNVP."""
    layers = {layer.name: layer for layer in flow.flow_layers}
    assert len(keys) == 2 * len(layers)
    for i, key in enumerate(keys):
        name, kind = key.rsplit(".", 1)
        dense = layers[name.replace(".", "_")]
        if kind == "weight":
            shape = tuple(dense.kernel.shape)[::-1]
            dense.kernel.assign(flow_weight(i, shape).T)
        else:
            dense.bias.assign(flow_weight(i, tuple(dense.bias.shape)))


def _check(cfg, fx, key, *args, atol=1e-6):
    loss = run_object_test(cfg, lambda m: m(*args))
    value = to_numpy(loss(*args))
    np.testing.assert_allclose(value, fx[key], rtol=1e-5, atol=atol)


@pytest.mark.parametrize("utw", [0, 1])
def test_smooth_l1_loss_matches_mmpose(fx, utw):
    pred, target = fx["loss_pred"] * 3, fx["loss_target"] * 3
    w = fx["loss_weights"]
    _check(
        dict(type="SmoothL1Loss", use_target_weight=bool(utw), loss_weight=0.5),
        fx,
        f"smoothl1_{utw}_w2",
        pred,
        target,
        w if utw else None,
    )
    _check(
        dict(type="SmoothL1Loss", use_target_weight=bool(utw)),
        fx,
        f"smoothl1_{utw}_w3",
        pred,
        target,
        w[..., None] if utw else None,
    )


@pytest.mark.parametrize("utw", [0, 1])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_l1_loss_matches_mmpose(fx, utw, reduction):
    _check(
        dict(
            type="L1Loss",
            reduction=reduction,
            use_target_weight=bool(utw),
            loss_weight=2.0,
        ),
        fx,
        f"l1_{reduction}_{utw}",
        fx["loss_pred"],
        fx["loss_target"],
        fx["loss_weights"] if utw else None,
    )


@pytest.mark.parametrize("utw", [0, 1])
def test_mse_loss_matches_mmpose(fx, utw):
    _check(
        dict(type="MSELoss", use_target_weight=bool(utw), loss_weight=0.3),
        fx,
        f"mse_{utw}",
        fx["loss_pred"],
        fx["loss_target"],
        fx["loss_weights"][..., None] if utw else None,
    )


@pytest.mark.parametrize("utw", [0, 1])
@pytest.mark.parametrize(
    "tag,cfg",
    [
        ("wing", dict(type="WingLoss")),
        (
            "wing_custom",
            dict(type="WingLoss", omega=5.0, epsilon=1.5, loss_weight=0.7),
        ),
        ("softwing", dict(type="SoftWingLoss")),
        (
            "softwing_custom",
            dict(
                type="SoftWingLoss",
                omega1=1.0,
                omega2=10.0,
                epsilon=0.3,
                loss_weight=1.5,
            ),
        ),
    ],
)
def test_wing_losses_match_mmpose(fx, utw, tag, cfg):
    _check(
        dict(cfg, use_target_weight=bool(utw)),
        fx,
        f"{tag}_{utw}",
        fx["loss_big_pred"],
        fx["loss_big_target"],
        fx["loss_weights"][..., None] if utw else None,
        atol=1e-4,
    )


@pytest.mark.parametrize("utw", [0, 1])
@pytest.mark.parametrize("sa", [0, 1])
def test_js_discret_loss_matches_mmpose(fx, utw, sa):
    _check(
        dict(
            type="JSDiscretLoss",
            use_target_weight=bool(utw),
            size_average=bool(sa),
        ),
        fx,
        f"js_{utw}{sa}",
        fx["js_pred"].transpose(0, 2, 3, 1),
        fx["js_gt"].transpose(0, 2, 3, 1),
        fx["loss_weights"] if utw else None,
    )


def test_js_discret_loss_gradient_is_finite_with_zero_targets():
    loss = keraspose.build(dict(type="JSDiscretLoss"))
    pred = keras.Variable(np.full((1, 2, 2, 2), 0.25, "float32"))
    gt = np.zeros((1, 2, 2, 2), "float32")
    gt[0, 0, 0, 0] = 1.0
    if keras.backend.backend() == "jax":
        import jax

        grad = jax.grad(
            lambda p: loss(p, gt, np.array([[1.0, 0.0]], "float32"))
        )(pred.value)
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            value = loss(pred, gt, np.array([[1.0, 0.0]], "float32"))
        grad = tape.gradient(value, pred.value)
    else:
        import torch

        # on Keras' device (the GPU when there is one)
        p = keras.ops.convert_to_tensor(np.full((1, 2, 2, 2), 0.25, "float32"))
        p = torch.Tensor.detach(p).requires_grad_(True)
        loss(p, gt, np.array([[1.0, 0.0]], "float32")).backward()
        grad = p.grad
    assert np.isfinite(to_numpy(grad)).all()


def test_multiple_loss_wrapper_matches_mmpose(fx):
    cfg = dict(
        type="MultipleLossWrapper",
        losses=[
            dict(type="SmoothL1Loss", use_target_weight=True),
            dict(type="JSDiscretLoss", use_target_weight=True),
        ],
    )
    args = (
        [fx["loss_pred"], fx["js_pred"].transpose(0, 2, 3, 1)],
        [fx["loss_target"], fx["js_gt"].transpose(0, 2, 3, 1)],
        fx["loss_weights"],
    )
    wrapper = run_object_test(cfg, lambda m: m(*args))
    np.testing.assert_allclose(
        np.array(to_numpy(wrapper(*args))), fx["wrapper"], rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="2 losses"):
        wrapper([fx["loss_pred"]], [fx["loss_target"]])
    with pytest.raises(TypeError, match="lists"):
        wrapper(fx["loss_pred"], fx["loss_target"])
    with pytest.raises(ValueError, match="non-empty list"):
        keraspose.build(dict(type="MultipleLossWrapper", losses=[]))
    with pytest.raises(ValueError, match="weights"):
        keraspose.build(
            dict(type="MultipleLossWrapper", losses=[dict(type="RLELoss")])
        )


def test_realnvp_log_prob_matches_mmpose(fx, tmp_path):
    flow = keraspose.build(dict(type="RealNVP"))
    set_flow(flow, list(fx["rle_flow_keys"]))
    np.testing.assert_allclose(
        to_numpy(flow(fx["rle_error"])), fx["rle_log_prob"], atol=1e-5
    )
    # 6 couplings x (scale + translation net) x 4482 parameters
    assert sum(int(np.prod(w.shape)) for w in flow.trainable_weights) == 53784
    run_layer_test(
        dict(type="RealNVP"),
        fx["rle_error"],
        tmp_path,
        expected_output_shape=(7,),
        precision=False,
    )


RLE_CASES = [
    (utw, sa, res, q)
    for utw in (0, 1)
    for sa in (0, 1)
    for res, q in ((1, "laplace"), (1, "gaussian"), (0, "laplace"))
]


def _rle(fx, utw, sa, res, q):
    loss = keraspose.build(
        dict(
            type="RLELoss",
            use_target_weight=bool(utw),
            size_average=bool(sa),
            residual=bool(res),
            q_distribution=q,
        )
    )
    set_flow(loss.flow_model, list(fx["rle_flow_keys"]))
    args = (
        fx["loss_pred"],
        fx["rle_sigma"],
        fx["loss_target"],
        fx["loss_weights"][..., None] if utw else None,
    )
    return loss, args


@pytest.mark.parametrize("utw,sa,res,q", RLE_CASES)
def test_rle_loss_matches_mmpose(fx, utw, sa, res, q):
    loss, args = _rle(fx, utw, sa, res, q)
    tag = f"rle_{utw}{sa}{res}{q[0]}"
    np.testing.assert_allclose(
        to_numpy(loss(*args)), fx[tag], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("case", [RLE_CASES[9], RLE_CASES[4]])
def test_rle_loss_gradients_match_mmpose(fx, case):
    loss, args = _rle(fx, *case)
    tag = "rle_{}{}{}{}".format(*case[:3], case[3][0])
    pred = keras.Variable(args[0])
    sigma = keras.Variable(args[1])
    first = loss.flow_model.flow_layers[0].kernel
    variables = [pred, sigma, first]

    def value():
        return loss(pred, sigma, *args[2:])

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            out = value()
        grads = tape.gradient(out, [v.value for v in variables])
    elif backend == "torch":
        for v in variables:
            v.value.grad = None
        value().backward()
        grads = [v.value.grad for v in variables]
    else:
        import jax

        def fn(values):
            with keras.StatelessScope(
                state_mapping=list(zip(variables, values))
            ):
                return value()

        grads = jax.grad(fn)([v.value for v in variables])
    grads = to_numpy(grads)
    np.testing.assert_allclose(
        grads[0], fx[tag + "_gpred"], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        grads[1], fx[tag + "_gsigma"], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        grads[2].T, fx[tag + "_gflow"], rtol=1e-5, atol=1e-5
    )


def test_rle_loss_config_serialization_and_dtype(fx):
    loss, args = _rle(fx, 1, 1, 1, "laplace")
    config = keraspose.to_config(loss)
    clone = keraspose.build(config)
    assert keraspose.to_config(clone) == config
    clone.set_weights(loss.get_weights())
    assert_allclose_tree(clone(*args), loss(*args), atol=0)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert type(restored) is type(loss)
    restored.set_weights(loss.get_weights())
    assert_allclose_tree(restored(*args), loss(*args), atol=0)
    keras.config.set_dtype_policy("mixed_bfloat16")
    mixed = keraspose.build(dict(type="RLELoss"))
    assert mixed.compute_dtype == "float32"
    value = mixed(*[a.astype("float32") for a in args[:3]])
    assert keras.backend.standardize_dtype(value.dtype) == "float32"


def test_loss_errors():
    for name in ("SmoothL1Loss", "L1Loss", "MSELoss", "WingLoss"):
        loss = keraspose.build(dict(type=name, use_target_weight=True))
        with pytest.raises(ValueError, match="target_weight"):
            loss(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="reduction"):
        keraspose.build(dict(type="L1Loss", reduction="max"))
    with pytest.raises(ValueError, match="q_distribution"):
        keraspose.build(dict(type="RLELoss", q_distribution="cauchy"))
    with pytest.raises(ValueError, match="epsilon"):
        keraspose.build(dict(type="WingLoss", epsilon=0))
    with pytest.raises(ValueError, match=r"\(B, K, D\)"):
        keraspose.build(dict(type="SoftWingLoss"))(
            np.zeros((2, 2)), np.zeros((2, 2))
        )
    rle = keraspose.build(dict(type="RLELoss", use_target_weight=True))
    with pytest.raises(ValueError, match="target_weight"):
        rle(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), np.zeros((1, 2, 2)))
    js = keraspose.build(dict(type="JSDiscretLoss"))
    with pytest.raises(ValueError, match=r"\(B, K\)"):
        js(np.zeros((1, 2, 2, 2)), np.zeros((1, 2, 2, 2)), np.ones((1, 2, 2)))

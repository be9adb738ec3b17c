import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

# Losses are O(1): equal to MMPose within 1e-5 relative (float32 sums).
RTOL = 1e-5


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_heatmap.npz"))


def _cl(x):
    return x.transpose(0, 2, 3, 1)


@pytest.mark.parametrize("utw", [False, True])
@pytest.mark.parametrize("topk", [1, 4, 10])
def test_ohkm_mse_loss_matches_mmpose(fx, topk, utw):
    cfg = dict(
        type="KeypointOHKMMSELoss",
        use_target_weight=utw,
        topk=topk,
        loss_weight=0.7,
    )
    args = (_cl(fx["ohkm_output"]), _cl(fx["ohkm_target"]), fx["ohkm_weights"])
    loss = run_object_test(cfg, lambda m: m(*args))
    np.testing.assert_allclose(
        to_numpy(loss(*args)), fx[f"ohkm_t{topk}_{int(utw)}"], rtol=RTOL
    )


@pytest.mark.parametrize("utw", [False, True])
@pytest.mark.parametrize("batch", [2, 1])
def test_combined_target_mse_loss_matches_mmpose(fx, batch, utw):
    cfg = dict(
        type="CombinedTargetMSELoss", use_target_weight=utw, loss_weight=0.3
    )
    p = f"comb_b{batch}"
    args = (_cl(fx[f"{p}_output"]), _cl(fx[f"{p}_target"]), fx[f"{p}_weights"])
    loss = run_object_test(cfg, lambda m: m(*args))
    np.testing.assert_allclose(
        to_numpy(loss(*args)), fx[f"{p}_{int(utw)}"], rtol=RTOL
    )


@pytest.mark.parametrize("utw", [False, True])
@pytest.mark.parametrize(
    "tag,params",
    [
        ("default", {}),
        ("custom", dict(alpha=2.5, omega=10, epsilon=2, theta=0.3)),
    ],
)
def test_adaptive_wing_loss_matches_mmpose(fx, tag, params, utw):
    cfg = dict(
        type="AdaptiveWingLoss",
        use_target_weight=utw,
        loss_weight=1.5,
        **params,
    )
    out, tgt = _cl(fx["awing_output"]), _cl(fx["awing_target"])
    loss = run_object_test(cfg, lambda m: m(out, tgt, fx["awing_weights"]))
    np.testing.assert_allclose(
        to_numpy(loss(out, tgt, fx["awing_weights"])),
        fx[f"awing_{tag}_{int(utw)}"],
        rtol=RTOL,
    )
    if utw:  # pixel-wise weights (B, H, W, K)
        np.testing.assert_allclose(
            to_numpy(loss(out, tgt, _cl(fx["awing_weights4"]))),
            fx[f"awing_{tag}_pixel"],
            rtol=RTOL,
        )


@pytest.mark.parametrize(
    "cfg",
    [
        dict(type="KeypointOHKMMSELoss", use_target_weight=True, topk=2),
        dict(type="CombinedTargetMSELoss", use_target_weight=True),
        dict(type="AdaptiveWingLoss", use_target_weight=True),
    ],
)
def test_losses_have_finite_gradients_and_mixed_precision(cfg):
    loss = keraspose.build(cfg)
    rng = np.random.default_rng(0)
    shape = (2, 5, 4, 6)
    target = rng.uniform(size=shape).astype("float32")
    target[0, 0, 0] = 0.0
    weights = np.array([[1, 0, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0]], "float32")
    if cfg["type"] == "CombinedTargetMSELoss":
        weights = weights[:, :2]
    # The output equals the target somewhere (delta == 0 for AdaptiveWing).
    output = keras.Variable(target + 0.3 * (rng.uniform(size=shape) > 0.5))

    def value():
        return loss(output, target, weights)

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        grad = jax.grad(lambda v: loss(v, target, weights))(output.value)
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            v = value()
        grad = tape.gradient(v, output.value)
    else:
        v = value()
        v.backward()
        grad = output.value.grad
    assert np.isfinite(to_numpy(grad)).all()
    assert np.isfinite(to_numpy(value()))
    half = loss(keras.ops.cast(output, "bfloat16"), target, weights)
    assert keras.backend.standardize_dtype(half.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(half), to_numpy(value()), rtol=0.05)


def test_bad_arguments():
    for topk in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="topk"):
            keraspose.build(dict(type="KeypointOHKMMSELoss", topk=topk))
    loss = keraspose.build(dict(type="KeypointOHKMMSELoss", topk=8))
    with pytest.raises(ValueError, match=r"topk \(8\) should not be larger"):
        loss(np.zeros((1, 4, 4, 5)), np.zeros((1, 4, 4, 5)))
    utw = keraspose.build(
        dict(type="KeypointOHKMMSELoss", topk=2, use_target_weight=True)
    )
    with pytest.raises(ValueError, match="target_weights"):
        utw(np.zeros((1, 4, 4, 5)), np.zeros((1, 4, 4, 5)))
    comb = keraspose.build(dict(type="CombinedTargetMSELoss"))
    with pytest.raises(ValueError, match="3K channels"):
        comb(np.zeros((1, 4, 4, 5)), np.zeros((1, 4, 4, 5)))
    wing = keraspose.build(
        dict(type="AdaptiveWingLoss", use_target_weight=True)
    )
    with pytest.raises(ValueError, match="target_weights"):
        wing(np.zeros((1, 4, 4, 5)), np.zeros((1, 4, 4, 5)))
    with pytest.raises(ValueError, match=r"\(B, K\) or \(B, H, W, K\)"):
        wing(np.zeros((1, 4, 4, 5)), np.zeros((1, 4, 4, 5)), np.ones((1,)))
    with pytest.raises(ValueError, match="epsilon"):
        keraspose.build(dict(type="AdaptiveWingLoss", epsilon=0))

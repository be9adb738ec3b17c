import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_lifting.npz"))


def _grad(loss, pred, target, weight):
    """Gradient of the loss with respect to ``pred`` on the backend."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda p: loss(p, target, weight))(pred))
    if backend == "tensorflow":
        import tensorflow as tf

        p = tf.Variable(pred)
        with tf.GradientTape() as tape:
            value = loss(p, target, weight)
        return tape.gradient(value, p).numpy()
    import torch

    p = torch.tensor(pred, requires_grad=True)
    loss(p, torch.tensor(target), weight).backward()
    return p.grad.numpy()


@pytest.mark.parametrize("name", ["mpjpe", "mse"])
@pytest.mark.parametrize("utw", [0, 1])
def test_lifting_losses_match_mmpose(fx, name, utw):
    cfg = dict(
        type="MPJPELoss" if name == "mpjpe" else "MSELoss",
        use_target_weight=bool(utw),
        loss_weight=0.7,
    )
    pred, target = fx["loss_pred"], fx["loss_target"]
    weight = fx["loss_weight"][..., None] if utw else None
    loss = run_object_test(cfg, lambda m: m(pred, target, weight))
    value = to_numpy(loss(pred, target, weight))
    np.testing.assert_allclose(value, fx[f"{name}_{utw}"], rtol=1e-6)
    # the gradient (finite and zero where output == target, as PyTorch's)
    grad = _grad(loss, pred, target, weight)
    np.testing.assert_allclose(
        grad, fx[f"{name}_{utw}_grad"], rtol=1e-5, atol=1e-7
    )


def test_mpjpe_loss_weight_shapes_and_precision(fx):
    loss = keraspose.build(dict(type="MPJPELoss", use_target_weight=True))
    pred, target = fx["loss_pred"], fx["loss_target"]
    w = fx["loss_weight"]
    # (B, K) weights get a trailing unit axis
    np.testing.assert_allclose(
        to_numpy(loss(pred, target, w)),
        to_numpy(loss(pred, target, w[..., None])),
        rtol=1e-7,
    )
    value = loss(pred.astype("float16"), target, w)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    with pytest.raises(ValueError, match="target_weight"):
        loss(pred, target)

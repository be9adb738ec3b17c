import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import BACKEND
from tests.helpers import run_object_test
from tests.helpers import to_numpy

# Losses are O(1): equal to MMPose within 1e-5 relative (float32 sums).
RTOL = 1e-5
CASES = {
    "default": dict(),
    "l2": dict(loss_weight=0.7, push_loss_factor=1.3),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_ae.npz"))


def _cl(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


@pytest.mark.parametrize("tag", sorted(CASES))
def test_ae_loss_matches_mmpose(fx, tag):
    args = (_cl(fx[f"loss_{tag}_tags"]), fx["loss_indices"].astype("int32"))
    loss = run_object_test(
        dict(type="AssociativeEmbeddingLoss", **CASES[tag]),
        lambda m: m(*args),
    )
    pull, push = to_numpy(loss(*args))
    assert pull.dtype == np.float32 and pull.shape == ()
    np.testing.assert_allclose(pull, fx[f"loss_{tag}_pull"], rtol=RTOL)
    np.testing.assert_allclose(push, fx[f"loss_{tag}_push"], rtol=RTOL)


def test_ae_loss_padding_and_dtypes(fx):
    loss = keraspose.build(dict(type="AssociativeEmbeddingLoss"))
    tags = _cl(fx["loss_default_tags"])
    indices = fx["loss_indices"]
    expected = to_numpy(loss(tags, indices.astype("int32")))
    # more zero (invalid) slots, int64 indices, float16 tags
    padded = np.concatenate([indices, np.zeros_like(indices)], axis=1)
    # an invalid slot may hold any index, even out of range
    padded[0, -1, :, 0] = 10**6
    got = to_numpy(loss(tags, padded))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    half = to_numpy(loss(tags.astype("float16"), indices))
    assert half[0].dtype == np.float32
    np.testing.assert_allclose(half, expected, rtol=2e-3)


def test_ae_loss_edge_counts():
    loss = keraspose.build(dict(type="AssociativeEmbeddingLoss"))
    tags = np.arange(2 * 3 * 3 * 2, dtype="float32").reshape(2, 3, 3, 2)
    indices = np.zeros((2, 3, 2, 2), "int32")
    pull, push = to_numpy(loss(tags, indices))  # no valid keypoint at all
    assert pull == 0 and push == 0
    indices[0, 0] = [[1, 1], [4, 1]]  # one instance: pull only
    pull, push = to_numpy(loss(tags, indices))
    # tags of keypoint 0 at pixel 1 and keypoint 1 at pixel 4: 2 and 9
    np.testing.assert_allclose(pull, 12.25 / (1 + 1e-6), rtol=1e-6)
    assert push == 0


def test_ae_loss_compiles_and_has_gradients(fx):
    loss = keraspose.build(dict(type="AssociativeEmbeddingLoss"))
    tags = _cl(fx["loss_l2_tags"])
    indices = fx["loss_indices"].astype("int32")
    expected = to_numpy(loss(tags, indices))
    if BACKEND == "jax":
        import jax

        fn = jax.jit(lambda t, i: sum(loss(t, i)))
        total = fn(tags, indices)
        grad = jax.grad(lambda t: sum(loss(t, indices)))(tags)
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        fn = tf.function(lambda t, i: sum(loss(t, i)), jit_compile=True)
        total = fn(tf.constant(tags), tf.constant(indices))
        t = tf.Variable(tags)
        with tf.GradientTape() as tape:
            value = sum(loss(t, indices))
        grad = tape.gradient(value, t)
    else:
        import torch

        t = torch.tensor(tags, requires_grad=True)
        value = sum(loss(t, indices))
        value.backward()
        total, grad = value.detach(), t.grad
    np.testing.assert_allclose(to_numpy(total), sum(expected), rtol=1e-6)
    grad = keras.ops.convert_to_numpy(grad)
    assert np.isfinite(grad).all() and np.abs(grad).sum() > 0


def test_ae_loss_bad_inputs_raise():
    loss = keraspose.build(dict(type="AssociativeEmbeddingLoss"))
    with pytest.raises(ValueError, match="keypoint_indices"):
        loss(np.zeros((1, 4, 4, 2)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="multiple of K=3"):
        loss(np.zeros((1, 4, 4, 4)), np.zeros((1, 2, 3, 2), "int32"))

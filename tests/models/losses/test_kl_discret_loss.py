import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

CASES = {
    "default": dict(),
    "rtmpose": dict(beta=10.0, label_softmax=True),
    "label_beta": dict(label_softmax=True, label_beta=2.0, beta=0.5),
    "no_weight": dict(use_target_weight=False),
    "mask": dict(mask=[1, 3], mask_weight=0.5, beta=2.0),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_simcc.npz"))


def _args(fx):
    return (
        (fx["kl_pred_x"], fx["kl_pred_y"]),
        (fx["kl_gt_x"], fx["kl_gt_y"]),
        fx["kl_weights"],
    )


@pytest.mark.parametrize("tag", sorted(CASES))
def test_kl_discret_loss_matches_mmpose(fx, tag):
    loss = run_object_test(
        dict(type="KLDiscretLoss", **CASES[tag]), lambda obj: obj(*_args(fx))
    )
    value = to_numpy(loss(*_args(fx)))
    assert value.dtype == np.float32 and value.shape == ()
    np.testing.assert_allclose(value, fx[f"kl_{tag}"], rtol=1e-5, atol=1e-6)


def test_reduction_divides_by_keypoints_not_batch(fx):
    # MMPose's quirk: doubling the batch doubles the loss.
    loss = keraspose.build(dict(type="KLDiscretLoss"))
    pred, gt, w = _args(fx)
    twice = to_numpy(
        loss(
            tuple(np.concatenate([p, p]) for p in pred),
            tuple(np.concatenate([g, g]) for g in gt),
            np.concatenate([w, w]),
        )
    )
    np.testing.assert_allclose(twice, 2 * fx["kl_default"], rtol=1e-5)


def test_mixed_precision_and_gradient(fx):
    loss = keraspose.build(dict(type="KLDiscretLoss", beta=10.0))
    pred, gt, w = _args(fx)
    bf = tuple(keras.ops.cast(p, "bfloat16") for p in pred)
    value = loss(bf, gt, w)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    assert np.isfinite(to_numpy(value))
    # all-zero labels (xlogy(0, 0) = 0) give a zero loss
    zeros = tuple(np.zeros_like(g) for g in gt)
    np.testing.assert_allclose(to_numpy(loss(pred, zeros, w)), 0.0)


def test_errors():
    loss = keraspose.build(dict(type="KLDiscretLoss"))
    x = np.zeros((1, 2, 4), "float32")
    with pytest.raises(ValueError, match="target_weight"):
        loss((x, x), (x, x), None)
    with pytest.raises(ValueError, match="bins"):
        loss((x, x), (x, np.zeros((1, 2, 5), "float32")), np.ones((1, 2)))
    with pytest.raises(ValueError, match="one per axis"):
        loss((x, x), (x,), np.ones((1, 2)))
    with pytest.raises(TypeError, match="mask"):
        keraspose.build(dict(type="KLDiscretLoss", mask="left"))

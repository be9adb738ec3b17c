import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test

CASES = {
    "plain": dict(),
    "weighted_empty": dict(use_target_weight=True, beta=0.5, loss_weight=3.0),
    "dekr": dict(
        use_target_weight=True,
        supervise_empty=False,
        beta=1 / 9,
        loss_weight=0.002,
    ),
    "broadcast": dict(use_target_weight=True, supervise_empty=False, beta=2.0),
    "no_weight_beta": dict(beta=0.25, loss_weight=0.5),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_spr.npz"))


def _args(fx, tag):
    args = [fx[f"loss_{tag}_output"], fx[f"loss_{tag}_target"]]
    if f"loss_{tag}_weight" in fx:
        args.append(fx[f"loss_{tag}_weight"])
    return args


@pytest.mark.parametrize("tag", sorted(CASES))
def test_matches_mmpose(fx, tag):
    cfg = dict(type="SoftWeightSmoothL1Loss", **CASES[tag])
    args = _args(fx, tag)
    loss = run_object_test(cfg, lambda m: m(*args))
    value = keras.ops.convert_to_numpy(loss(*args))
    assert value.shape == () and value.dtype == np.float32
    np.testing.assert_allclose(value, fx[f"loss_{tag}_value"], rtol=1e-5)


def test_channels_last_is_layout_free(fx):
    """MMPose's (B, 2K, H, W) maps moved channels-last: same loss."""
    loss = keraspose.build(dict(type="SoftWeightSmoothL1Loss", **CASES["dekr"]))
    args = [np.moveaxis(a, 1, -1) for a in _args(fx, "dekr")]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loss(*args)),
        fx["loss_dekr_value"],
        rtol=1e-5,
    )


def test_mixed_precision_output_is_float32():
    loss = keraspose.build(dict(type="SoftWeightSmoothL1Loss", **CASES["dekr"]))
    out = keras.ops.cast(np.linspace(-2, 2, 24).reshape(1, 2, 3, 4), "bfloat16")
    value = loss(out, np.zeros((1, 2, 3, 4)), np.ones((1, 2, 3, 4)))
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    assert np.isfinite(keras.ops.convert_to_numpy(value))


def test_beta_zero_is_l1():
    loss = keraspose.build(dict(type="SoftWeightSmoothL1Loss", beta=0))
    value = loss(np.array([[1.0, -3.0]]), np.zeros((1, 2)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(value), 2.0)


def test_errors():
    with pytest.raises(ValueError, match="beta"):
        keraspose.build(dict(type="SoftWeightSmoothL1Loss", beta=-1))
    with pytest.raises(TypeError, match="beta"):
        keraspose.build(dict(type="SoftWeightSmoothL1Loss", beta="1"))
    loss = keraspose.build(
        dict(type="SoftWeightSmoothL1Loss", use_target_weight=True)
    )
    with pytest.raises(ValueError, match="target_weight"):
        loss(np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="at most"):
        loss(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 2, 1)))

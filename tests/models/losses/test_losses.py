import numpy as np
import pytest

import keraspose
from tests.helpers import run_object_test
from tests.helpers import to_numpy


def _cl(x):
    return x.transpose(0, 2, 3, 1)


@pytest.mark.parametrize("utw", [False, True])
@pytest.mark.parametrize("sec", [False, True])
def test_keypoint_mse_loss_matches_mmpose(mmpose_fixture, utw, sec):
    f = mmpose_fixture
    cfg = dict(
        type="KeypointMSELoss",
        use_target_weight=utw,
        skip_empty_channel=sec,
        loss_weight=0.7,
    )
    loss = run_object_test(
        cfg,
        lambda m: m(
            _cl(f["mse_output"]), _cl(f["mse_target"]), f["mse_weights"]
        ),
    )
    value = to_numpy(
        loss(_cl(f["mse_output"]), _cl(f["mse_target"]), f["mse_weights"])
    )
    np.testing.assert_allclose(value, f[f"mse_{int(utw)}{int(sec)}"], atol=1e-5)


def test_keypoint_mse_loss_all_invisible_is_finite():
    loss = keraspose.build(dict(type="KeypointMSELoss", use_target_weight=True))
    value = to_numpy(
        loss(np.ones((2, 4, 4, 3)), np.zeros((2, 4, 4, 3)), np.zeros((2, 3)))
    )
    assert np.isfinite(value) and value == 0


@pytest.mark.parametrize("sig", [False, True])
@pytest.mark.parametrize("utw", [False, True])
def test_bce_loss_matches_mmpose(mmpose_fixture, sig, utw):
    f = mmpose_fixture
    logits = f["bce_logits"]
    inp = 1 / (1 + np.exp(-logits)) if sig else logits
    cfg = dict(type="BCELoss", use_sigmoid=sig, use_target_weight=utw)
    weights = f["bce_weights"] if utw else None
    loss = run_object_test(cfg, lambda m: m(inp, f["bce_labels"], weights))
    value = to_numpy(loss(inp, f["bce_labels"], weights))
    np.testing.assert_allclose(value, f[f"bce_{int(sig)}{int(utw)}"], atol=1e-5)


def test_bce_loss_errors_and_reductions():
    with pytest.raises(ValueError, match="reduction"):
        keraspose.build(dict(type="BCELoss", reduction="max"))
    loss = keraspose.build(dict(type="BCELoss", use_target_weight=True))
    with pytest.raises(ValueError, match="target_weight"):
        loss(np.zeros((1, 2)), np.zeros((1, 2)))
    none = keraspose.build(dict(type="BCELoss", reduction="none"))
    assert to_numpy(none(np.zeros((2, 3)), np.ones((2, 3)))).shape == (2, 3)
    # probabilities of exactly 0 / 1 stay finite (log clamped at -100)
    prob = keraspose.build(dict(type="BCELoss", use_sigmoid=True))
    assert np.isfinite(
        to_numpy(prob(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])))
    )

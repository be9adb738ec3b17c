import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

CFG = dict(
    type="VisPredictHead",
    pose_cfg=dict(
        type="HeatmapHead",
        in_channels=8,
        out_channels=3,
        deconv_out_channels=(8,),
        deconv_kernel_sizes=(4,),
        decoder=dict(
            type="MSRAHeatmap",
            input_size=(32, 32),
            heatmap_size=(8, 8),
            sigma=1,
        ),
    ),
)


def test_vis_head_component(tmp_path):
    feats = (
        np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype("float32"),
    )
    run_layer_test(CFG, feats, tmp_path, ((2, 8, 8, 3), (2, 3)))


def test_vis_head_loss_predict_and_flip():
    head = keraspose.build(CFG)
    feats = (
        np.random.default_rng(0).normal(size=(2, 4, 4, 8)).astype("float32"),
    )
    targets = {
        "heatmaps": np.zeros((2, 8, 8, 3), "float32"),
        "keypoint_weights": np.array([[1, 0, 1], [1, 1, 0]], "float32"),
    }
    losses = head.loss(feats, targets)
    assert set(losses) == set(head.log_names())
    assert {"loss_vis", "acc_vis", "loss_kpt", "acc_pose"} == set(losses)
    pose, vis = head(feats)
    probs = to_numpy(vis)
    expected = np.mean(
        ((probs >= 0.5) == targets["keypoint_weights"]).mean(axis=1)
    )
    np.testing.assert_allclose(to_numpy(losses["acc_vis"]), expected, atol=1e-6)
    preds = head.predict(
        [feats, feats], {"flip_test": True}, flip_indices=[0, 2, 1]
    )
    assert preds["keypoints_visible"].shape == (2, 3)
    np.testing.assert_allclose(
        to_numpy(preds["keypoints_visible"]),
        (probs + probs[:, [0, 2, 1]]) / 2,
        atol=1e-6,
    )


def test_vis_head_with_logits_and_target_weights():
    head = keraspose.build(
        dict(
            CFG,
            loss=dict(
                type="BCELoss", use_sigmoid=False, use_target_weight=True
            ),
        )
    )
    feats = (np.ones((1, 4, 4, 8), "float32"),)
    targets = {
        "heatmaps": np.zeros((1, 8, 8, 3), "float32"),
        "keypoint_weights": np.ones((1, 3), "float32"),
        "keypoints_visible_weights": np.array([[1, 0, 0]], "float32"),
    }
    assert np.isfinite(to_numpy(head.loss(feats, targets)["loss_vis"]))
    vis = to_numpy(head.predict(feats)["keypoints_visible"])
    assert ((vis > 0) & (vis < 1)).all()


def test_vis_head_needs_out_channels():
    with pytest.raises(TypeError):
        keraspose.build(
            dict(type="VisPredictHead", pose_cfg=dict(type="BCELoss"))
        )

import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.models.mmpose_simcc_weights import load_mmpose_state
from tests.models.mmpose_simcc_weights import state_from_fixture

K = 6
FLIP = [0, 2, 1, 4, 3, 5]
INPUT = (32, 40)
CODEC = dict(
    type="SimCCLabel", input_size=INPUT, sigma=(2.5, 3.0), normalize=False
)
HEAD = dict(
    type="RTMCCHead",
    in_channels=8,
    out_channels=K,
    input_size=INPUT,
    in_featuremap_size=(4, 5),
    simcc_split_ratio=2.0,
    final_layer_kernel_size=3,
    gau_cfg=dict(
        hidden_dims=16,
        s=8,
        expansion_factor=2,
        dropout_rate=0.0,
        drop_path=0.0,
        act_fn="SiLU",
        use_rel_bias=True,
        pos_enc=True,
    ),
    loss=dict(
        type="KLDiscretLoss",
        use_target_weight=True,
        beta=10.0,
        label_softmax=True,
    ),
    decoder=CODEC,
)
# RTMPose's COCO heads (configs/body_2d_keypoint/rtmpose/coco/*-256x192.py)
RTMPOSE_IN_CHANNELS = dict(t=384, s=512, m=768, l=1024)


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_simcc.npz"))


def _feats(fx, key="rtmcc_feats"):
    return (fx[key].transpose(0, 2, 3, 1),)


def _loaded_head(fx, **kwargs):
    head = keraspose.build(dict(HEAD, **kwargs))
    head(_feats(fx))
    state = state_from_fixture(fx, "rtmcc")
    assert load_mmpose_state(head, state) == set(state)
    return head


def test_rtmcc_head_component(tmp_path):
    feats = (
        np.random.default_rng(0).normal(size=(2, 5, 4, 8)).astype("float32"),
    )
    run_layer_test(HEAD, feats, tmp_path, ((2, K, 64), (2, K, 80)))


def test_rtmcc_head_forward_matches_mmpose(fx):
    head = _loaded_head(fx)
    pred_x, pred_y = to_numpy(head(_feats(fx), training=False))
    np.testing.assert_allclose(pred_x, fx["rtmcc_pred_x"], atol=1e-5)
    np.testing.assert_allclose(pred_y, fx["rtmcc_pred_y"], atol=1e-5)


def test_rtmcc_head_loss_matches_mmpose(fx):
    head = _loaded_head(fx)
    codec = keraspose.build(CODEC)
    targets = codec.batch_encode(
        fx["rtmcc_gt_keypoints"], fx["rtmcc_gt_visible"]
    )
    losses = head.loss(_feats(fx), targets)
    assert set(losses) == set(head.log_names()) == {"loss_kpt", "acc_pose"}
    np.testing.assert_allclose(
        to_numpy(losses["loss_kpt"]), fx["rtmcc_loss_kpt"], rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(losses["acc_pose"]), fx["rtmcc_acc_pose"], atol=1e-6
    )


def test_rtmcc_head_predict_matches_mmpose(fx):
    head = _loaded_head(fx)
    preds = to_numpy(head.predict(_feats(fx)))
    assert set(preds) == {"keypoints", "keypoint_scores"}
    np.testing.assert_allclose(
        preds["keypoints"], fx["rtmcc_pred_keypoints"], atol=1e-4
    )
    np.testing.assert_allclose(
        preds["keypoint_scores"], fx["rtmcc_pred_scores"], atol=1e-5
    )
    flip = to_numpy(
        head.predict(
            [_feats(fx), _feats(fx, "rtmcc_feats_flip")],
            dict(flip_test=True, output_heatmaps=True),
            FLIP,
        )
    )
    np.testing.assert_allclose(
        flip["keypoints"], fx["rtmcc_flip_keypoints"], atol=1e-4
    )
    np.testing.assert_allclose(
        flip["keypoint_scores"], fx["rtmcc_flip_scores"], atol=1e-5
    )
    np.testing.assert_allclose(
        flip["keypoint_x_labels"], fx["rtmcc_flip_x_labels"], atol=1e-5
    )
    assert flip["heatmaps"].shape == (2, 80, 64, K)
    np.testing.assert_allclose(
        flip["heatmaps"][0, :, :, :2].transpose(2, 0, 1),
        fx["rtmcc_flip_heatmaps"],
        atol=1e-5,
    )


def test_rtmcc_head_decode_visibility_matches_mmpose(fx):
    head = _loaded_head(fx, decoder=dict(CODEC, decode_visibility=True))
    preds = to_numpy(
        head.predict(
            [_feats(fx), _feats(fx, "rtmcc_feats_flip")],
            dict(flip_test=True),
            FLIP,
        )
    )
    np.testing.assert_allclose(
        preds["keypoint_scores"], fx["rtmcc_vis_scores"], atol=1e-5
    )
    np.testing.assert_allclose(
        preds["keypoints_visible"],
        fx["rtmcc_vis_keypoints_visible"],
        atol=1e-5,
    )


@pytest.mark.parametrize("size", sorted(RTMPOSE_IN_CHANNELS))
def test_rtmpose_head_parameter_counts(fx, size):
    codec = dict(
        type="SimCCLabel",
        input_size=(192, 256),
        sigma=(4.9, 5.66),
        simcc_split_ratio=2.0,
        normalize=False,
        use_dark=False,
    )
    head = keraspose.build(
        dict(
            type="RTMCCHead",
            in_channels=RTMPOSE_IN_CHANNELS[size],
            out_channels=17,
            input_size=(192, 256),
            in_featuremap_size=(6, 8),
            simcc_split_ratio=2.0,
            final_layer_kernel_size=7,
            gau_cfg=dict(
                hidden_dims=256,
                s=128,
                expansion_factor=2,
                dropout_rate=0.0,
                drop_path=0.0,
                act_fn="SiLU",
                use_rel_bias=False,
                pos_enc=False,
            ),
            loss=dict(
                type="KLDiscretLoss",
                use_target_weight=True,
                beta=10.0,
                label_softmax=True,
            ),
            decoder=codec,
        )
    )
    head.build(((None, 8, 6, RTMPOSE_IN_CHANNELS[size]),))
    count = sum(int(np.prod(w.shape)) for w in head.trainable_weights)
    assert count == int(fx[f"params_rtmpose_{size}"])


def test_vis_predict_head_around_rtmcc_head(fx):
    head = keraspose.build(dict(type="VisPredictHead", pose_cfg=HEAD))
    codec = keraspose.build(CODEC)
    targets = codec.batch_encode(
        fx["rtmcc_gt_keypoints"], fx["rtmcc_gt_visible"]
    )
    losses = head.loss(_feats(fx), targets)
    assert set(losses) == {"loss_vis", "acc_vis", "loss_kpt", "acc_pose"}
    assert all(np.isfinite(to_numpy(v)) for v in losses.values())
    preds = head.predict(
        [_feats(fx), _feats(fx, "rtmcc_feats_flip")], dict(flip_test=True), FLIP
    )
    assert preds["keypoints"].shape == (2, K, 2)
    assert preds["keypoints_visible"].shape == (2, K)


def test_rtmcc_head_errors(fx):
    with pytest.raises(ValueError, match="input_size"):
        keraspose.build(dict(HEAD, decoder=dict(CODEC, input_size=(32, 48))))
    with pytest.raises(ValueError, match="simcc_split_ratio"):
        keraspose.build(dict(HEAD, decoder=dict(CODEC, simcc_split_ratio=3.0)))
    with pytest.raises(ValueError, match="not an integer"):
        # 33 * 1.5 = 49.5: the codec rounds to 50 bins, the head truncates
        keraspose.build(
            dict(
                HEAD,
                input_size=(33, 40),
                simcc_split_ratio=1.5,
                decoder=dict(CODEC, input_size=(33, 40), simcc_split_ratio=1.5),
            )
        )
    with pytest.raises(TypeError, match="SimCCLabel"):
        keraspose.build(
            dict(
                HEAD,
                decoder=dict(
                    type="MSRAHeatmap",
                    input_size=INPUT,
                    heatmap_size=(8, 10),
                    sigma=2,
                ),
            )
        )
    with pytest.raises(ValueError, match="multiple input features"):
        keraspose.build(dict(HEAD, in_channels=[8, 16]))
    with pytest.raises(ValueError, match="gau_cfg"):
        keraspose.build(dict(HEAD, gau_cfg=dict(hidden=16)))
    with pytest.raises(ValueError, match="in_featuremap_size"):
        keraspose.build(dict(HEAD, in_featuremap_size=(4,)))
    head = keraspose.build(dict(HEAD, in_featuremap_size=(3, 5)))
    with pytest.raises(ValueError, match="in_featuremap_size"):
        head(_feats(fx))
    head = keraspose.build(dict(HEAD, decoder=None))
    out = head(_feats(fx))
    with pytest.raises(ValueError, match="has no decoder"):
        head.predict(_feats(fx))
    with pytest.raises(ValueError, match="flip_indices"):
        head.predict([_feats(fx)] * 2, dict(flip_test=True))
    with pytest.raises(ValueError, match="keypoint_y_labels"):
        head.loss_by_outputs(
            out,
            {
                "keypoint_x_labels": np.zeros((2, K, 64), "float32"),
                "keypoint_weights": np.ones((2, K), "float32"),
            },
        )
    with pytest.raises(ValueError, match="out_channels"):
        head.loss_by_outputs(
            out,
            {
                "keypoint_x_labels": np.zeros((2, 3, 64), "float32"),
                "keypoint_y_labels": np.zeros((2, 3, 80), "float32"),
                "keypoint_weights": np.ones((2, 3), "float32"),
            },
        )
    with pytest.raises(ValueError, match="bins"):
        head.loss_by_outputs(
            out,
            {
                "keypoint_x_labels": np.zeros((2, K, 60), "float32"),
                "keypoint_y_labels": np.zeros((2, K, 80), "float32"),
                "keypoint_weights": np.ones((2, K), "float32"),
            },
        )

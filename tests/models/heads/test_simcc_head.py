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
INPUT = (16, 24)
CODEC = dict(type="SimCCLabel", input_size=INPUT, sigma=2.0)
HEAD = dict(
    type="SimCCHead",
    in_channels=8,
    out_channels=K,
    input_size=INPUT,
    in_featuremap_size=(2, 3),
    deconv_out_channels=(8,),
    deconv_kernel_sizes=(4,),
    conv_out_channels=(8,),
    conv_kernel_sizes=(3,),
    decoder=CODEC,
)
VARIANTS = {
    "nodeconv": dict(
        deconv_out_channels=None, final_layer=dict(kernel_size=3, padding=1)
    ),
    "nofinal": dict(
        deconv_out_channels=(4,),
        deconv_kernel_sizes=(4,),
        conv_out_channels=None,
        conv_kernel_sizes=None,
        final_layer=None,
    ),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_simcc.npz"))


def _feats(fx, key="simcc_feats"):
    return (fx[key].transpose(0, 2, 3, 1),)


def _loaded_head(fx, prefix="simcc", **kwargs):
    head = keraspose.build(dict(HEAD, **kwargs))
    head(_feats(fx))
    state = state_from_fixture(fx, prefix)
    assert load_mmpose_state(head, state) == set(state)
    return head


def test_simcc_head_component(tmp_path):
    feats = (
        np.random.default_rng(0).normal(size=(2, 3, 2, 8)).astype("float32"),
    )
    run_layer_test(HEAD, feats, tmp_path, ((2, K, 32), (2, K, 48)))


def test_simcc_head_forward_matches_mmpose(fx):
    head = _loaded_head(fx)
    pred_x, pred_y = to_numpy(head(_feats(fx), training=False))
    np.testing.assert_allclose(pred_x, fx["simcc_pred_x"], atol=1e-5)
    np.testing.assert_allclose(pred_y, fx["simcc_pred_y"], atol=1e-5)


@pytest.mark.parametrize("tag", sorted(VARIANTS))
def test_simcc_head_variants_match_mmpose(fx, tag):
    head = _loaded_head(fx, f"simcc_{tag}", **VARIANTS[tag])
    pred_x, pred_y = to_numpy(head(_feats(fx), training=False))
    np.testing.assert_allclose(pred_x, fx[f"simcc_{tag}_pred_x"], atol=1e-5)
    np.testing.assert_allclose(pred_y, fx[f"simcc_{tag}_pred_y"], atol=1e-5)


def test_simcc_head_loss_and_predict_match_mmpose(fx):
    head = _loaded_head(fx)
    codec = keraspose.build(CODEC)
    targets = codec.batch_encode(
        fx["simcc_gt_keypoints"], fx["simcc_gt_visible"]
    )
    # MMPose's fixture ran in eval mode (BatchNorm running statistics)
    losses = head.loss_by_outputs(head(_feats(fx), training=False), targets)
    assert set(losses) == set(head.log_names())
    np.testing.assert_allclose(
        to_numpy(losses["loss_kpt"]), fx["simcc_loss_kpt"], rtol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(losses["acc_pose"]), fx["simcc_acc_pose"], atol=1e-6
    )
    preds = to_numpy(head.predict(_feats(fx)))
    np.testing.assert_allclose(
        preds["keypoints"], fx["simcc_pred_keypoints"], atol=1e-4
    )
    np.testing.assert_allclose(
        preds["keypoint_scores"], fx["simcc_pred_scores"], atol=1e-5
    )
    flip = to_numpy(
        head.predict(
            [_feats(fx), _feats(fx, "simcc_feats_flip")],
            dict(flip_test=True, output_heatmaps=True),
            FLIP,
        )
    )
    np.testing.assert_allclose(
        flip["keypoints"], fx["simcc_flip_keypoints"], atol=1e-4
    )
    np.testing.assert_allclose(
        flip["keypoint_scores"], fx["simcc_flip_scores"], atol=1e-5
    )
    # normalized with the decoder's sigma for this head
    np.testing.assert_allclose(
        flip["keypoint_x_labels"], fx["simcc_flip_x_labels"], atol=1e-6
    )
    np.testing.assert_allclose(
        flip["heatmaps"][0, :, :, :2].transpose(2, 0, 1),
        fx["simcc_flip_heatmaps"],
        atol=1e-6,
    )


def test_simcc_head_decode_visibility_matches_mmpose(fx):
    head = _loaded_head(fx, decoder=dict(CODEC, decode_visibility=True))
    preds = to_numpy(
        head.predict(
            [_feats(fx), _feats(fx, "simcc_feats_flip")],
            dict(flip_test=True),
            FLIP,
        )
    )
    np.testing.assert_allclose(
        preds["keypoint_scores"], fx["simcc_vis_scores"], atol=1e-5
    )
    np.testing.assert_allclose(
        preds["keypoints_visible"],
        fx["simcc_vis_keypoints_visible"],
        atol=1e-5,
    )


def test_simcc_res50_head_parameter_count(fx):
    head = keraspose.build(
        dict(
            type="SimCCHead",
            in_channels=2048,
            out_channels=17,
            input_size=(192, 256),
            in_featuremap_size=(6, 8),
            simcc_split_ratio=2.0,
            loss=dict(type="KLDiscretLoss", use_target_weight=True),
            decoder=dict(
                type="SimCCLabel",
                input_size=(192, 256),
                sigma=6.0,
                simcc_split_ratio=2.0,
            ),
        )
    )
    head.build(((None, 8, 6, 2048),))
    count = sum(int(np.prod(w.shape)) for w in head.trainable_weights)
    assert count == int(fx["params_simcc_res50"])


def test_simcc_head_errors(fx):
    with pytest.raises(ValueError, match="deconv_type"):
        keraspose.build(dict(HEAD, deconv_type="transpose"))
    with pytest.raises(ValueError, match="ViPNASHead"):
        keraspose.build(dict(HEAD, deconv_type="vipnas"))
    with pytest.raises(ValueError, match="same length"):
        keraspose.build(dict(HEAD, deconv_kernel_sizes=(4, 4)))
    with pytest.raises(ValueError, match="input_size"):
        keraspose.build(dict(HEAD, decoder=dict(CODEC, input_size=(16, 32))))
    head = keraspose.build(dict(HEAD, in_featuremap_size=(2, 4)))
    with pytest.raises(ValueError, match="in_featuremap_size"):
        head(_feats(fx))

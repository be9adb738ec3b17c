import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import load_state_dict

K = 17
DECODER = dict(
    type="MSRAHeatmap", input_size=(64, 80), heatmap_size=(16, 20), sigma=2
)


def _head_cfg(**kwargs):
    cfg = dict(
        type="HeatmapHead",
        in_channels=16,
        out_channels=K,
        deconv_out_channels=(8, 8),
        deconv_kernel_sizes=(4, 4),
        conv_out_channels=(8,),
        conv_kernel_sizes=(3,),
        decoder=DECODER,
    )
    cfg.update(kwargs)
    return cfg


def test_heatmap_head_component(tmp_path):
    feats = (
        np.random.default_rng(0).normal(size=(2, 5, 4, 16)).astype("float32"),
    )
    run_layer_test(_head_cfg(), feats, tmp_path, (2, 20, 16, K))


def test_heatmap_head_without_deconv_or_final(tmp_path):
    feats = (
        np.random.default_rng(0).normal(size=(2, 5, 4, 16)).astype("float32"),
    )
    run_layer_test(
        _head_cfg(deconv_out_channels=None, conv_out_channels=None),
        feats,
        tmp_path,
        (2, 5, 4, K),
    )
    head = keraspose.build(_head_cfg(final_layer=None, conv_out_channels=None))
    assert head.final_layer is None
    assert keraspose.to_config(head)["final_layer"] is None


def test_heatmap_head_matches_mmpose_forward(mmpose_fixture):
    f = mmpose_fixture
    head = keraspose.build(_head_cfg())
    feat = f["net_feat"].transpose(0, 2, 3, 1)
    head((feat,))
    state = {k[2:]: v for k, v in f.items() if k.startswith("w:")}
    used = load_state_dict(head, state, "head.")
    assert used == {k for k in state if k.startswith("head.")}
    out = to_numpy(head((feat,), training=False))
    ref = f["net_heatmaps"].transpose(0, 2, 3, 1)
    # outputs reach ~3e3 with the fixture's large weights: float32 tolerance
    # relative to the output scale
    np.testing.assert_allclose(
        out, ref, atol=1e-6 * np.abs(ref).max(), rtol=1e-4
    )


def test_heatmap_head_loss_and_accuracy_match_mmpose(mmpose_fixture):
    f = mmpose_fixture
    head = keraspose.build(_head_cfg())
    pred = f["dec_heatmaps"].transpose(0, 2, 3, 1)
    gt = f["enc_msra_heatmaps"][[0, 2]].transpose(0, 2, 3, 1)
    weights = f["enc_msra_weights"][[0, 2], 0]
    losses = head.loss_by_outputs(
        pred, {"heatmaps": gt, "keypoint_weights": weights}
    )
    assert set(losses) == set(head.log_names()) == {"loss_kpt", "acc_pose"}
    np.testing.assert_allclose(
        to_numpy(losses["acc_pose"]), f["acc_pose"], atol=1e-6
    )
    no_acc = head.loss_by_outputs(
        pred,
        {"heatmaps": gt, "keypoint_weights": weights},
        {"compute_acc": False},
    )
    assert set(no_acc) == {"loss_kpt"}


def test_heatmap_head_predict_with_flip():
    head = keraspose.build(_head_cfg())
    rng = np.random.default_rng(0)
    feats = (rng.normal(size=(2, 5, 4, 16)).astype("float32"),)
    preds = head.predict(feats)
    assert preds["keypoints"].shape == (2, K, 2)
    assert preds["keypoint_scores"].shape == (2, K)
    flipped = head.predict(
        [feats, feats],
        {"flip_test": True, "shift_heatmap": True, "output_heatmaps": True},
        list(range(K)),
    )
    assert flipped["heatmaps"].shape == (2, 20, 16, K)


def test_heatmap_head_errors():
    with pytest.raises(ValueError, match="same length"):
        keraspose.build(_head_cfg(deconv_kernel_sizes=(4,)))
    with pytest.raises(ValueError, match="kernel_size"):
        keraspose.build(_head_cfg(deconv_kernel_sizes=(5, 4)))
    head = keraspose.build(_head_cfg(decoder=None))
    feats = (np.zeros((1, 5, 4, 16), "float32"),)
    with pytest.raises(ValueError, match="has no decoder"):
        head.predict(feats)
    out = head(feats)
    with pytest.raises(ValueError, match="out_channels"):
        head.loss_by_outputs(
            out,
            {
                "heatmaps": np.zeros((1, 20, 16, 5), "float32"),
                "keypoint_weights": np.ones((1, 5), "float32"),
            },
        )
    with pytest.raises(ValueError, match="keypoint_weights"):
        head.loss_by_outputs(out, {"heatmaps": np.zeros((1, 20, 16, K))})

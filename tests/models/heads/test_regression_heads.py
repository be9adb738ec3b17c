import os

import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import load_state_dict
from tests.models.losses.test_regression_losses import flow_weight

K, C = 5, 8
FLIP = [0, 2, 1, 4, 3]
INPUT = (24, 32)
REG_DECODER = dict(type="RegressionLabel", input_size=INPUT)
IPR_DECODER = dict(
    type="IntegralRegressionLabel",
    input_size=INPUT,
    heatmap_size=(6, 8),
    sigma=1.0,
)
CFGS = {
    "head_reg": dict(
        type="RegressionHead", in_channels=C, num_joints=K, decoder=REG_DECODER
    ),
    "head_rle": dict(
        type="RLEHead", in_channels=C, num_joints=K, decoder=REG_DECODER
    ),
    "head_ipr": dict(
        type="IntegralRegressionHead",
        in_channels=C,
        in_featuremap_size=(3, 4),
        num_joints=K,
        deconv_out_channels=(8,),
        deconv_kernel_sizes=(4,),
        conv_out_channels=(8,),
        conv_kernel_sizes=(3,),
        decoder=IPR_DECODER,
    ),
    "head_ipr_debias": dict(
        type="IntegralRegressionHead",
        in_channels=C,
        in_featuremap_size=(3, 4),
        num_joints=K,
        debias=True,
        beta=2.0,
        deconv_out_channels=None,
        decoder=dict(IPR_DECODER, heatmap_size=(3, 4)),
    ),
    "head_dsnt": dict(
        type="DSNTHead",
        in_channels=C,
        in_featuremap_size=(3, 4),
        num_joints=K,
        lambda_t=3,
        deconv_out_channels=(8,),
        deconv_kernel_sizes=(4,),
        decoder=IPR_DECODER,
    ),
}
TEST_CFGS = {
    "head_reg": dict(flip_test=True, shift_coords=True),
    "head_rle": dict(flip_test=True, shift_coords=False),
    "head_ipr": dict(
        flip_test=True,
        shift_coords=True,
        shift_heatmap=True,
        output_heatmaps=True,
    ),
    "head_ipr_debias": dict(flip_test=True, output_heatmaps=True),
    "head_dsnt": dict(flip_test=True, shift_coords=True, shift_heatmap=True),
}
INTEGRAL = ("head_ipr", "head_ipr_debias", "head_dsnt")


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_regression.npz"))


def _cl(x):
    return x.transpose(0, 2, 3, 1)


def _feats(fx, key="head_feat"):
    return (_cl(fx[key]),)


def _mmpose_head(fx, tag):
    """Our head with the fixture's MMPose weights loaded."""
    head = keraspose.build(CFGS[tag])
    head(_feats(fx))
    prefix = f"w:{tag}:"
    state = {k[len(prefix) :]: v for k, v in fx.items() if k.startswith(prefix)}
    if tag == "head_rle":
        dense = {d.name: d for d in head.loss_module.flow_model.flow_layers}
        for i, key in enumerate(fx["rle_flow_keys"]):
            name, kind = key.rsplit(".", 1)
            layer = dense[name.replace(".", "_")]
            if kind == "weight":
                shape = tuple(layer.kernel.shape)[::-1]
            else:
                shape = tuple(layer.bias.shape)
            state[f"loss_module.flow_model.{key}"] = flow_weight(i, shape)
    used = load_state_dict(head, state, "")
    # MMPose's linspace_x / linspace_y are frozen constants here
    assert used == {
        k
        for k in state
        if not k.startswith("linspace") and "num_batches" not in k
    }
    return head, state


def _targets(fx, tag):
    targets = {
        "keypoint_labels": fx[f"{tag}_labels"],
        "keypoint_weights": fx[f"{tag}_weights"],
    }
    if tag == "head_dsnt":
        targets["heatmaps"] = _cl(fx["head_dsnt_gt_heatmaps"])
    return targets


@pytest.mark.parametrize("tag", sorted(CFGS))
def test_regression_head_component(tmp_path, tag):
    feats = (
        np.random.default_rng(0).normal(size=(2, 4, 3, C)).astype("float32"),
    )
    values = 4 if tag == "head_rle" else 2
    if tag in INTEGRAL:
        hw = (4, 3) if tag == "head_ipr_debias" else (8, 6)
        shape = ((2, K, 2), (2, *hw, K))
    else:
        shape = (2, K, values)
    run_layer_test(
        CFGS[tag],
        feats,
        tmp_path,
        shape,
        precision=tag not in INTEGRAL,
        atol=1e-5,
    )


@pytest.mark.parametrize("tag", sorted(CFGS))
def test_forward_matches_mmpose(fx, tag):
    head, _ = _mmpose_head(fx, tag)
    out = to_numpy(head(_feats(fx), training=False))
    if tag in INTEGRAL:
        coords, heatmaps = out
        np.testing.assert_allclose(
            heatmaps, _cl(fx[f"{tag}_heatmaps"]), atol=1e-6, rtol=1e-5
        )
    else:
        coords = out
        pooled = fx["head_feat"].mean(axis=(2, 3))
        np.testing.assert_allclose(
            to_numpy(head((pooled,))), fx[f"{tag}_out"], atol=1e-5
        )
    np.testing.assert_allclose(coords, fx[f"{tag}_out"], atol=1e-5)


@pytest.mark.parametrize("tag", sorted(CFGS))
def test_loss_and_accuracy_match_mmpose(fx, tag):
    head, _ = _mmpose_head(fx, tag)
    if tag == "head_dsnt":
        head.set_epoch(1)
    targets = _targets(fx, tag)
    if tag in INTEGRAL:
        outputs = (fx[f"{tag}_out"], _cl(fx[f"{tag}_heatmaps"]))
    else:
        outputs = fx[f"{tag}_out"]
    losses = to_numpy(head.loss_by_outputs(outputs, targets))
    assert set(losses) == set(head.log_names()) == {"loss_kpt", "acc_pose"}
    np.testing.assert_allclose(
        losses["loss_kpt"], fx[f"{tag}_loss_kpt"], rtol=1e-5, atol=1e-5
    )
    np.testing.assert_allclose(
        losses["acc_pose"], fx[f"{tag}_acc_pose"], atol=1e-6
    )
    # `loss` runs the forward pass itself (training mode)
    from_feats = to_numpy(head.loss(_feats(fx), targets))
    assert np.isfinite(from_feats["loss_kpt"])


def test_dsnt_lambda_t_drops_the_heatmap_loss(fx):
    head, _ = _mmpose_head(fx, "head_dsnt")
    outputs = (fx["head_dsnt_out"], _cl(fx["head_dsnt_heatmaps"]))
    targets = _targets(fx, "head_dsnt")
    head.set_epoch(3)
    late = to_numpy(head.loss_by_outputs(outputs, targets)["loss_kpt"])
    np.testing.assert_allclose(late, fx["head_dsnt_loss_kpt_late"], atol=1e-6)
    assert late < fx["head_dsnt_loss_kpt"]
    plain = keraspose.build(dict(CFGS["head_dsnt"], lambda_t=-1))
    assert plain.current_epoch is None
    plain.set_epoch(10)  # no-op


@pytest.mark.parametrize("tag", sorted(CFGS))
def test_predict_with_flip_matches_mmpose(fx, tag):
    head, _ = _mmpose_head(fx, tag)
    feats, feats_flip = _feats(fx), _feats(fx, "head_feat_flip")
    preds = to_numpy(head.predict([feats, feats_flip], TEST_CFGS[tag], FLIP))
    np.testing.assert_allclose(
        preds["keypoints"], fx[f"{tag}_pred_keypoints"], atol=1e-4, rtol=1e-5
    )
    np.testing.assert_allclose(
        preds["keypoint_scores"], fx[f"{tag}_pred_scores"], atol=1e-5
    )
    if f"{tag}_pred_heatmaps" in fx:
        np.testing.assert_allclose(
            preds["heatmaps"],
            _cl(fx[f"{tag}_pred_heatmaps"]),
            atol=1e-6,
            rtol=1e-5,
        )
    else:
        assert "heatmaps" not in preds
    plain = to_numpy(head.predict(feats))
    np.testing.assert_allclose(
        plain["keypoints"], fx[f"{tag}_plain_keypoints"], atol=1e-4, rtol=1e-5
    )


# MMPose heads of the configs td-reg_res50_8xb64-210e_coco-256x192,
# td-reg_res50_rle-8xb64-210e_coco-256x192 (flow prior included) and
# ipr_res50_dsnt-8xb64-210e_coco-256x256.
MMPOSE_CONFIG_HEADS = {
    "td_reg": (
        dict(type="RegressionHead", in_channels=2048, num_joints=17),
        (8, 6),
    ),
    "td_rle": (
        dict(
            type="RLEHead",
            in_channels=2048,
            num_joints=17,
            loss=dict(type="RLELoss", use_target_weight=True),
        ),
        (8, 6),
    ),
    "ipr_dsnt": (
        dict(
            type="DSNTHead",
            in_channels=2048,
            in_featuremap_size=(8, 8),
            num_joints=17,
            loss=dict(
                type="MultipleLossWrapper",
                losses=[
                    dict(type="SmoothL1Loss", use_target_weight=True),
                    dict(type="JSDiscretLoss", use_target_weight=True),
                ],
            ),
        ),
        (8, 8),
    ),
}


@pytest.mark.parametrize("tag", sorted(MMPOSE_CONFIG_HEADS))
def test_mmpose_config_heads_have_mmpose_parameter_counts(fx, tag):
    cfg, (h, w) = MMPOSE_CONFIG_HEADS[tag]
    head = keraspose.build(cfg)
    head.build(((None, h, w, 2048),))
    count = sum(int(np.prod(v.shape)) for v in head.trainable_weights)
    assert count == int(fx[f"params_{tag}"])
    if tag == "td_rle":
        # + ResNet-50 (23,508,032): MMPose's 23,701,148 for the RLE model
        assert count + 23_508_032 == 23_701_148


def test_rle_flow_is_trained_and_saved(fx, tmp_path):
    head = keraspose.build(CFGS["head_rle"])
    feats = _feats(fx)
    inp = keras.Input(shape=feats[0].shape[1:])
    model = keras.Model(inp, head((inp,)))
    flow = head.loss_module.flow_model
    # MMPose's head init: the flow's Linear layers are normal(0.01), bias 0
    assert np.all(to_numpy(flow.flow_layers[0].bias) == 0)
    assert 0.005 < np.std(to_numpy(flow.flow_layers[1].kernel)) < 0.02
    names = {v.path for v in model.trainable_variables}
    assert len(names) == 2 + 72
    path = os.path.join(tmp_path, "rle.keras")
    for i, var in enumerate(flow.trainable_variables):
        var.assign(flow_weight(i, tuple(var.shape)))
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    loaded_head = loaded.layers[-1]
    targets = _targets(fx, "head_rle")
    out = fx["head_rle_out"]
    np.testing.assert_allclose(
        to_numpy(loaded_head.loss_by_outputs(out, targets)["loss_kpt"]),
        to_numpy(head.loss_by_outputs(out, targets)["loss_kpt"]),
        rtol=1e-6,
    )


def test_vis_predict_head_around_regression_head(fx, tmp_path):
    cfg = dict(type="VisPredictHead", pose_cfg=CFGS["head_reg"])
    feats = _feats(fx)
    run_layer_test(cfg, feats, tmp_path, ((2, K, 2), (2, K)), atol=1e-5)
    head = keraspose.build(cfg)
    losses = head.loss(feats, _targets(fx, "head_reg"))
    assert set(losses) == set(head.log_names())
    assert set(losses) == {"loss_vis", "acc_vis", "loss_kpt", "acc_pose"}
    preds = head.predict(
        [feats, _feats(fx, "head_feat_flip")], {"flip_test": True}, FLIP
    )
    assert preds["keypoints"].shape == (2, K, 2)
    assert preds["keypoints_visible"].shape == (2, K)


def test_mixed_precision_outputs():
    keras.config.set_dtype_policy("mixed_bfloat16")
    feats = (np.ones((1, 4, 3, C), "float32"),)
    for tag in ("head_ipr", "head_dsnt"):
        coords, heatmaps = keraspose.build(CFGS[tag])(feats)
        assert keras.backend.standardize_dtype(coords.dtype) == "float32"
        assert keras.backend.standardize_dtype(heatmaps.dtype) == "float32"
    rle = keraspose.build(CFGS["head_rle"])
    assert rle.loss_module.compute_dtype == "float32"
    out = rle(feats)
    preds = rle.predict(feats)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    assert (
        keras.backend.standardize_dtype(preds["keypoints"].dtype) == "float32"
    )
    losses = rle.loss_by_outputs(
        out,
        {
            "keypoint_labels": np.zeros((1, K, 2), "float32"),
            "keypoint_weights": np.ones((1, K), "float32"),
        },
    )
    assert np.isfinite(to_numpy(losses["loss_kpt"]))


def test_build_errors():
    with pytest.raises(ValueError, match="RLEHead"):
        keraspose.build(dict(CFGS["head_reg"], loss=dict(type="RLELoss")))
    with pytest.raises(ValueError, match="4 values"):
        keraspose.build(dict(CFGS["head_rle"], loss=dict(type="SmoothL1Loss")))
    msra = dict(
        type="MSRAHeatmap", input_size=INPUT, heatmap_size=(6, 8), sigma=2
    )
    with pytest.raises(ValueError, match="RegressionLabel"):
        keraspose.build(dict(CFGS["head_rle"], decoder=msra))
    with pytest.raises(ValueError, match="RegressionLabel"):
        keraspose.build(dict(CFGS["head_ipr"], decoder=msra))
    with pytest.raises(ValueError, match="multiple input"):
        keraspose.build(dict(CFGS["head_reg"], in_channels=[8, 8]))
    with pytest.raises(ValueError, match="MultipleLossWrapper"):
        keraspose.build(dict(CFGS["head_dsnt"], loss=dict(type="L1Loss")))
    with pytest.raises(ValueError, match="one heatmap channel"):
        keraspose.build(dict(CFGS["head_ipr"], final_layer=None))
    with pytest.raises(ValueError, match="final_layer supports"):
        keraspose.build(
            dict(CFGS["head_ipr_debias"], final_layer=dict(groups=2))
        )
    with pytest.raises(ValueError, match="in_featuremap_size"):
        keraspose.build(dict(CFGS["head_ipr"], in_featuremap_size=(3,)))


def test_call_and_loss_errors(fx):
    feats = (np.zeros((1, 4, 3, C + 1), "float32"),)
    for tag in ("head_reg", "head_ipr"):
        with pytest.raises(ValueError, match="in_channels=8"):
            keraspose.build(CFGS[tag])(feats)
    with pytest.raises(ValueError, match="in_featuremap_size"):
        keraspose.build(CFGS["head_ipr"])((np.zeros((1, 5, 3, C), "float32"),))
    head = keraspose.build(CFGS["head_reg"])
    out = head(_feats(fx))
    with pytest.raises(ValueError, match="num_joints"):
        head.loss_by_outputs(
            out,
            {
                "keypoint_labels": np.zeros((2, 3, 2), "float32"),
                "keypoint_weights": np.ones((2, 3), "float32"),
            },
        )
    with pytest.raises(ValueError, match="keypoint_labels"):
        head.loss_by_outputs(out, {"keypoint_weights": np.ones((2, K))})
    with pytest.raises(ValueError, match="flip_indices"):
        head.predict([_feats(fx), _feats(fx)], {"flip_test": True})
    bare = keraspose.build(dict(CFGS["head_reg"], decoder=None))
    with pytest.raises(ValueError, match="has no decoder"):
        bare.predict([_feats(fx), _feats(fx)], {"flip_test": True}, FLIP)
    dsnt = keraspose.build(CFGS["head_dsnt"])
    outputs = dsnt(_feats(fx))
    targets = dict(
        _targets(fx, "head_dsnt"), heatmaps=np.zeros((2, 4, 3, K), "float32")
    )
    with pytest.raises(ValueError, match="heatmap_size"):
        dsnt.loss_by_outputs(outputs, targets)


def test_keypoint_pck_accuracy_with_norm_factor_matches_mmpose(fx):
    from keraspose.models.utils.accuracy import keypoint_pck_accuracy

    acc = keypoint_pck_accuracy(
        fx["acc_pred"],
        fx["acc_gt"],
        fx["acc_mask"],
        thr=0.3,
        norm_factor=fx["acc_norm"],
    )
    np.testing.assert_allclose(to_numpy(acc), fx["acc_avg"], atol=1e-6)
    none_valid = keypoint_pck_accuracy(
        fx["acc_pred"], fx["acc_gt"], np.zeros((4, K)), thr=0.3
    )
    assert float(to_numpy(none_valid)) == 0.0


def test_regression_head_flattens_like_mmpose():
    # in_channels == C*H*W: flattened in PyTorch's (C, H, W) order
    feats = np.random.default_rng(0).normal(size=(2, 2, 3, 4)).astype("f4")
    head = keraspose.build(
        dict(type="RegressionHead", in_channels=24, num_joints=K)
    )
    out = to_numpy(head((feats,)))
    kernel, bias = (to_numpy(w) for w in head.fc.weights)
    flat = feats.transpose(0, 3, 1, 2).reshape(2, -1)
    np.testing.assert_allclose(
        out, (flat @ kernel + bias).reshape(2, K, 2), atol=1e-5
    )
    with pytest.raises(ValueError, match="GlobalAveragePooling"):
        keraspose.build(
            dict(type="RegressionHead", in_channels=7, num_joints=K)
        )((feats,))

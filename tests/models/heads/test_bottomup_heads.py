"""AssociativeEmbeddingHead and DEKRHead against the real MMPose."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import load_state_dict

FIXTURE = (
    Path(__file__).resolve().parents[2] / "fixtures/mmpose_bottomup_heads.npz"
)
FLIP = [0, 2, 1]


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURE))


def _nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _loaded(fx, tag, feat):
    """The fixture's head ``tag`` built from its config with its state."""
    head = keraspose.build(json.loads(str(fx[f"{tag}_cfg"])))
    head((feat,))
    state = {
        k[2:]: v.astype("float32") * 2.0**-6
        for k, v in fx.items()
        if k.startswith(f"w:{tag}.")
    }
    used = load_state_dict(head, state, f"{tag}.")
    # DEKR's regular_matrix is a constant buffer (skipped by the converter)
    expected = {k for k in state if not k.endswith("regular_matrix")}
    assert used == expected, sorted(expected - used)
    return head


# --- AssociativeEmbeddingHead -----------------------------------------------


def test_ae_head_component(tmp_path):
    feats = (np.random.default_rng(0).normal(size=(2, 4, 5, 6)),)
    feats = (feats[0].astype("float32"),)
    cfg = dict(
        type="AssociativeEmbeddingHead",
        in_channels=6,
        num_keypoints=3,
        tag_dim=2,
        deconv_out_channels=(8,),
        deconv_kernel_sizes=(4,),
    )
    run_layer_test(
        cfg, feats, tmp_path, ((2, 8, 10, 3), (2, 8, 10, 6)), train=True
    )
    head = keraspose.build(dict(cfg, tag_per_keypoint=False))
    assert head.out_channels == 5
    assert keraspose.build(keraspose.to_config(head)).out_channels == 5


def test_ae_head_matches_mmpose(fx):
    feat = _nhwc(fx["ae_feat"])
    head = _loaded(fx, "ae", feat)
    heatmaps, tags = to_numpy(head((feat,), training=False))
    np.testing.assert_allclose(heatmaps, _nhwc(fx["ae_heatmaps"]), atol=1e-5)
    np.testing.assert_allclose(tags, _nhwc(fx["ae_tags"]), atol=1e-5)

    # flip test with restore_heatmap_size: the maps handed to the decoder
    captured = {}
    decode_device = head.decoder.decode_device

    def capture(h, t):
        captured["maps"] = to_numpy((h, t))
        return decode_device(h, t)

    head.decoder.decode_device = capture
    feat_flip = _nhwc(fx["ae_feat_flip"])
    test_cfg = dict(
        flip_test=True, shift_heatmap=True, restore_heatmap_size=True
    )
    preds = head.predict(
        [(feat,), (feat_flip,)], test_cfg, FLIP, input_size=(20, 16)
    )
    h, t = captured["maps"]
    np.testing.assert_allclose(h, _nhwc(fx["ae_flip_heatmaps"]), atol=1e-5)
    np.testing.assert_allclose(t, _nhwc(fx["ae_flip_tags"]), atol=1e-5)
    host = head.postprocess(to_numpy(preds), test_cfg)
    assert host["keypoints"].shape == (2, 4, 3, 2)
    assert host["instance_mask"].dtype == bool

    # loss (one instance per image, where MMPose's loss runs)
    targets = dict(
        heatmaps=_nhwc(fx["ae_loss_heatmaps"]),
        keypoint_indices=fx["ae_loss_indices"].astype("int32"),
        keypoint_weights=fx["ae_loss_weights"],
        heatmap_mask=fx["ae_loss_mask"],
    )
    # MMPose's loss() ran with the head in eval mode (BN running stats)
    outputs = head((feat,), training=False)
    losses = to_numpy(head.loss_by_outputs(outputs, targets))
    assert list(losses) == head.log_names()
    for name in ("loss_kpt", "loss_pull", "loss_push"):
        np.testing.assert_allclose(
            losses[name], fx[f"ae_{name}"], rtol=1e-5, atol=1e-7
        )


def test_ae_head_multiscale_and_errors():
    head = keraspose.build(
        dict(
            type="AssociativeEmbeddingHead",
            in_channels=4,
            num_keypoints=2,
            deconv_out_channels=None,
            decoder=dict(
                type="AssociativeEmbedding",
                input_size=(16, 16),
                heatmap_size=(4, 4),
                decode_topk=3,
                decode_max_instances=2,
            ),
        )
    )
    rng = np.random.default_rng(0)
    small = (rng.normal(size=(1, 4, 4, 4)).astype("float32"),)
    large = (rng.normal(size=(1, 8, 8, 4)).astype("float32"),)
    preds = head.predict([small, large], dict(multiscale_test=True))
    # averaged at the first scale's size, tags of the first scale only
    hm_small, tags_small = head(small)
    hm_large = keraspose.models.heads.heatmap_heads.ae_head.aggregate_heatmaps(
        [head(large)[0]], size=(4, 4)
    )
    np.testing.assert_allclose(
        to_numpy(preds["tags"]), to_numpy(tags_small), atol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(preds["heatmaps"]),
        (to_numpy(hm_small) + to_numpy(hm_large)) / 2,
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="input_size"):
        head.predict(
            [small, small],
            dict(restore_heatmap_size=True, flip_test=True),
            [1, 0],
        )
    with pytest.raises(ValueError, match="num_keypoints"):
        head.loss_by_outputs(
            head(small),
            dict(
                heatmaps=np.zeros((1, 4, 4, 3)),
                keypoint_indices=np.zeros((1, 1, 3, 2), "int32"),
                keypoint_weights=np.zeros((1, 1, 3)),
            ),
        )
    with pytest.raises(ValueError, match="keypoint_indices"):
        head.loss_by_outputs(head(small), dict(heatmaps=np.zeros((1, 4, 4, 2))))


# --- DEKRHead ---------------------------------------------------------------


def _dekr_cfg(**kwargs):
    cfg = dict(
        type="DEKRHead",
        in_channels=6,
        num_keypoints=3,
        num_heatmap_filters=4,
        num_displacement_filters_per_keypoint=2,
    )
    cfg.update(kwargs)
    return cfg


def test_dekr_head_component(tmp_path):
    feats = (
        np.random.default_rng(0).normal(size=(2, 5, 6, 6)).astype("float32"),
    )
    head = run_layer_test(
        _dekr_cfg(rescore_cfg=dict(in_channels=12, norm_indexes=(0, 1))),
        feats,
        tmp_path,
        ((2, 5, 6, 4), (2, 5, 6, 6)),
    )
    assert head.rescore_net is not None
    assert keraspose.to_config(head)["rescore_cfg"]["in_channels"] == 12


def test_dekr_head_matches_mmpose(fx):
    feat = _nhwc(fx["dekr_feat"])
    head = _loaded(fx, "dekr", feat)
    heatmaps, displacements = to_numpy(head((feat,), training=False))
    np.testing.assert_allclose(heatmaps, _nhwc(fx["dekr_heatmaps"]), atol=1e-5)
    np.testing.assert_allclose(
        displacements, _nhwc(fx["dekr_displacements"]), atol=1e-5
    )

    # flip test: the maps handed to the decoder
    captured = {}
    decode_device = head.decoder.decode_device

    def capture(h, d):
        captured["maps"] = to_numpy((h, d))
        return decode_device(h, d)

    head.decoder.decode_device = capture
    feat_flip = _nhwc(fx["dekr_feat_flip"])
    skeleton = fx["dekr_skeleton"].tolist()
    test_cfg = dict(flip_test=True, shift_heatmap=True, nms_dist_thr=0.05)
    feats = [(feat,), (feat_flip,)]
    preds = head.predict(
        feats, test_cfg, FLIP, input_size=(28, 24), skeleton_links=skeleton
    )
    h, d = captured["maps"]
    np.testing.assert_allclose(h, _nhwc(fx["dekr_flip_heatmaps"]), atol=1e-5)
    np.testing.assert_allclose(
        d, _nhwc(fx["dekr_flip_displacements"]), atol=1e-5
    )

    # full predict: decode, rescore, NMS; instances in MMPose's order
    plain_cfg = dict(test_cfg, nms_dist_thr=0)
    plain = head.predict(feats, plain_cfg, FLIP, input_size=(28, 24))
    for out, cfg, tag in (
        (preds, test_cfg, "dekr_pred"),
        (plain, plain_cfg, "dekr_pred_plain"),
    ):
        host = head.postprocess(to_numpy(out), cfg)
        n = int(host["instance_mask"][0].sum())
        ref_kpts, ref_scores = fx[f"{tag}_keypoints"], fx[f"{tag}_scores"]
        assert n == len(ref_kpts)
        np.testing.assert_allclose(
            host["keypoints"][0, :n], ref_kpts, atol=1e-5, rtol=1e-5
        )
        np.testing.assert_allclose(
            host["keypoint_scores"][0, :n], ref_scores, atol=1e-5
        )
        assert not host["instance_mask"][0, n:].any()


def test_dekr_head_loss_matches_mmpose(fx):
    feat = _nhwc(fx["dekr_loss_feat"])
    head = _loaded(fx, "dekr", feat)
    targets = dict(
        heatmaps=_nhwc(fx["dekr_loss_heatmaps"]),
        heatmap_weights=_nhwc(fx["dekr_loss_heatmap_weights"]),
        displacements=_nhwc(fx["dekr_loss_displacements"]),
        displacement_weights=_nhwc(fx["dekr_loss_displacement_weights"]),
        heatmap_mask=fx["dekr_loss_mask"],
    )
    # MMPose's loss() runs the model in its current (eval) mode
    outputs = head((feat,), training=False)
    losses = to_numpy(head.loss_by_outputs(outputs, targets))
    assert list(losses) == head.log_names()
    np.testing.assert_allclose(
        losses["loss/heatmap"], fx["dekr_loss_heatmap"], rtol=1e-5
    )
    np.testing.assert_allclose(
        losses["loss/displacement"], fx["dekr_loss_displacement"], rtol=1e-5
    )
    with pytest.raises(ValueError, match="displacement_weights"):
        head.loss_by_outputs(
            outputs, {k: targets[k] for k in list(targets)[:3]}
        )


def test_dekr_head_errors():
    head = keraspose.build(_dekr_cfg())
    feats = (np.zeros((1, 4, 4, 6), "float32"),)
    with pytest.raises(NotImplementedError, match="multi-scale"):
        head.predict([feats], dict(multiscale_test=True))
    with pytest.raises(ValueError, match="no decoder"):
        head.predict(feats, {})
    with pytest.raises(ValueError, match="num_keypoints"):
        keraspose.build(_dekr_cfg(num_keypoints=0))


def _hrnet_w32(multiscale_output=False):
    stage4 = dict(
        num_modules=3,
        num_branches=4,
        block="BASIC",
        num_blocks=(4, 4, 4, 4),
        num_channels=(32, 64, 128, 256),
    )
    if multiscale_output:
        stage4["multiscale_output"] = True
    return dict(
        type="HRNet",
        in_channels=3,
        extra=dict(
            stage1=dict(
                num_modules=1,
                num_branches=1,
                block="BOTTLENECK",
                num_blocks=(4,),
                num_channels=(64,),
            ),
            stage2=dict(
                num_modules=1,
                num_branches=2,
                block="BASIC",
                num_blocks=(4, 4),
                num_channels=(32, 64),
            ),
            stage3=dict(
                num_modules=4,
                num_branches=3,
                block="BASIC",
                num_blocks=(4, 4, 4),
                num_channels=(32, 64, 128),
            ),
            stage4=stage4,
        ),
    )


def _count(layer):
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


@pytest.mark.parametrize("tag", ["ae_w32", "dekr_w32"])
def test_bottomup_config_param_counts(fx, tag):
    """Trainable parameters of the models of MMPose's AE / DEKR
    HRNet-W32 512x512 COCO configs (AE: 28,536,674)."""
    from tests.mmpose_weights import zero_kernels

    if tag == "ae_w32":
        backbone = _hrnet_w32()
        neck = None
        head = dict(
            type="AssociativeEmbeddingHead",
            in_channels=32,
            num_keypoints=17,
            tag_dim=1,
            tag_per_keypoint=True,
            deconv_out_channels=None,
        )
    else:
        backbone = _hrnet_w32(multiscale_output=True)
        neck = dict(type="FeatureMapProcessor", concat=True)
        head = dict(
            type="DEKRHead",
            in_channels=480,
            num_keypoints=17,
            rescore_cfg=dict(in_channels=74, norm_indexes=(5, 6)),
        )
    backbone = zero_kernels(keraspose.build(backbone))
    x = keras.KerasTensor((1, 64, 64, 3))
    feats = backbone(x)
    if neck is not None:
        feats = keraspose.build(neck)(feats)
    head = zero_kernels(keraspose.build(head))
    head(feats)
    total = _count(backbone) + _count(head)
    assert total == int(fx[f"params_{tag}"])
    if tag == "ae_w32":
        assert total == 28_536_674


def test_dekr_head_loads_mmpose_0x_state(fx):
    """MMPose's DEKR load hook: 0.x names, negated displacement conv, root
    heatmap channel first, top-level rescore net."""
    feat = _nhwc(fx["dekr_feat"])
    head = keraspose.build(json.loads(str(fx["dekr_cfg"])))
    head((feat,))
    state = {
        k[len("w:dekr.") :]: v.astype("float32") * 2.0**-6
        for k, v in fx.items()
        if k.startswith("w:dekr.") and not k.endswith("regular_matrix")
    }
    old = {}
    for key, value in state.items():
        if key.startswith("displacement_conv_layers"):
            if key.startswith("displacement_conv_layers.3."):
                value = -value
            key = key.replace("displacement_conv_layers", "offset_conv_layers")
        elif key.startswith("heatmap_conv_layers.2."):
            value = np.concatenate([value[-1:], value[:-1]])
        old[key] = value
    report = keraspose.converters.load_state_dict(head, old, strict=False)
    assert not report.unexpected and not report.missing
    assert len(report.loaded) == len(state)
    heatmaps, displacements = to_numpy(head((feat,), training=False))
    np.testing.assert_allclose(heatmaps, _nhwc(fx["dekr_heatmaps"]), atol=1e-5)
    np.testing.assert_allclose(
        displacements, _nhwc(fx["dekr_displacements"]), atol=1e-5
    )

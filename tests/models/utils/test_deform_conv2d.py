"""DeformConv2d, AdaptiveActivationBlock and RescoreNet (DEKR's blocks)."""

import json
from pathlib import Path

import numpy as np
import pytest

import keraspose
from keraspose.models.utils.deform_conv2d import DeformConv2d
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

FIXTURE = (
    Path(__file__).resolve().parents[2] / "fixtures/mmpose_bottomup_heads.npz"
)


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURE))


@pytest.mark.parametrize("tag", ["basic", "groups", "dilated", "k2"])
def test_deform_conv2d_matches_mmcv(fx, tag):
    cfg = json.loads(str(fx[f"dcn_{tag}_cfg"]))
    layer = DeformConv2d(
        cfg["o"],
        cfg["k"],
        strides=cfg["s"],
        padding=cfg["p"],
        dilation_rate=cfg["d"],
        groups=cfg["g"],
        deform_groups=cfg["dg"],
    )
    x = fx[f"dcn_{tag}_x"].transpose(0, 2, 3, 1)
    offset = fx[f"dcn_{tag}_offset"].transpose(0, 2, 3, 1)
    layer(x, offset)
    layer.kernel.assign(fx[f"dcn_{tag}_weight"].transpose(2, 3, 1, 0))
    out = to_numpy(layer(x, offset))
    ref = fx[f"dcn_{tag}_out"].transpose(0, 2, 3, 1)
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_deform_conv2d_zero_offsets_is_a_convolution():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 6, 5, 4)).astype("float32")
    dcn = DeformConv2d(6, 3, padding=1, groups=2, deform_groups=2)
    conv = keraspose.build(
        dict(type="Conv2d", filters=6, kernel_size=3, padding=1, groups=2)
    )
    zeros = np.zeros((1, 6, 5, 36), "float32")
    dcn(x, zeros)
    conv(x)
    dcn.kernel.assign(conv.kernel)
    conv.bias.assign(np.zeros(6, "float32"))
    np.testing.assert_allclose(
        to_numpy(dcn(x, zeros)), to_numpy(conv(x)), atol=1e-5
    )


def test_deform_conv2d_component(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 6, 4)).astype("float32")
    offset = rng.normal(size=(2, 5, 6, 36)).astype("float32")
    run_layer_test(
        dict(
            type="DeformConv2d",
            filters=4,
            kernel_size=3,
            padding=1,
            groups=2,
            deform_groups=2,
        ),
        (x, offset),
        tmp_path,
        (2, 5, 6, 4),
    )


def test_deform_conv2d_errors():
    with pytest.raises(ValueError, match="divisible by `groups`"):
        DeformConv2d(5, 3, groups=2)
    layer = DeformConv2d(4, 3, padding=1, deform_groups=2)
    with pytest.raises(ValueError, match="36 channels"):
        layer(np.zeros((1, 4, 4, 4), "float32"), np.zeros((1, 4, 4, 18)))
    layer = DeformConv2d(4, 3, padding=1, deform_groups=3)
    with pytest.raises(ValueError, match="divisible by"):
        layer(np.zeros((1, 4, 4, 4), "float32"), np.zeros((1, 4, 4, 54)))


def test_adaptive_activation_block_component(tmp_path):
    x = np.random.default_rng(2).normal(size=(2, 5, 4, 6)).astype("float32")
    run_layer_test(
        dict(
            type="AdaptiveActivationBlock",
            in_channels=6,
            out_channels=6,
            groups=3,
        ),
        x,
        tmp_path,
        (2, 5, 4, 6),
    )
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        keraspose.build(
            dict(type="AdaptiveActivationBlock", in_channels=6, out_channels=3)
        )
    with pytest.raises(ValueError, match="divisible by groups"):
        keraspose.build(
            dict(
                type="AdaptiveActivationBlock",
                in_channels=6,
                out_channels=6,
                groups=4,
            )
        )


def test_rescore_net_component_and_mmpose(tmp_path, fx):
    kpts = fx["dekr_rescore_keypoints"]
    scores = fx["dekr_rescore_scores"]
    skeleton = fx["dekr_skeleton"].tolist()
    cfg = dict(type="RescoreNet", in_channels=12, norm_indexes=(0, 1))
    run_layer_test(
        cfg,
        (kpts, scores),
        tmp_path,
        (4,),
        call_kwargs=dict(skeleton=skeleton),
    )
    from tests.mmpose_weights import load_state_dict

    net = keraspose.build(cfg)
    net(kpts, scores, skeleton=skeleton)
    state = {
        k[len("w:dekr.") :]: v.astype("float32") * 2.0**-6
        for k, v in fx.items()
        if k.startswith("w:dekr.rescore_net.")
    }
    used = load_state_dict(net, state, "rescore_net.")
    assert len(used) == 6
    out = to_numpy(net(kpts, scores, skeleton=skeleton))
    np.testing.assert_allclose(out, fx["dekr_rescore_out"], atol=1e-5)
    with pytest.raises(ValueError, match="expects 12 features"):
        net(kpts[:, :2], scores[:, :2], skeleton=skeleton)
    with pytest.raises(ValueError, match="norm_indexes"):
        keraspose.build(dict(cfg, norm_indexes=(0,)))

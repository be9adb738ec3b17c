import json

import keras
import numpy as np
import pytest

import keraspose
from keraspose.models.utils.make_divisible import make_divisible
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import build_with_zero_kernels
from tests.mmpose_weights import fixture_state
from tests.mmpose_weights import load_state_dict

TINY = dict(type="MobileNetV2", widen_factor=0.1, out_indices=(1, 7))


@pytest.fixture(scope="module")
def fixture():
    return dict(np.load(FIXTURES / "mmpose_mobilenet_litehrnet.npz"))


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def test_mobilenet_v2_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 32, 24, 3)).astype("float32")
    # Mixed precision is covered by the block test (the backbone only
    # chains InvertedResiduals); skipping it here saves a full rebuild.
    run_layer_test(
        TINY, x, tmp_path, ((2, 8, 6, 8), (2, 1, 1, 1280)), precision=False
    )


@pytest.mark.parametrize(
    "cfg,out_shape",
    [
        (dict(in_channels=8, out_channels=8, stride=1, expand_ratio=2), 8),
        (dict(in_channels=8, out_channels=16, stride=2, expand_ratio=1), 4),
    ],
)
def test_inverted_residual_component(tmp_path, cfg, out_shape):
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 8)).astype("float32")
    layer = run_layer_test(
        dict(type="InvertedResidual", **cfg),
        x,
        tmp_path,
        (2, out_shape, out_shape, cfg["out_channels"]),
    )
    # no expansion conv when expand_ratio == 1, as in MMPose
    assert [c.name for c in layer.conv] == (
        ["conv_0", "conv_1", "conv_2"]
        if cfg["expand_ratio"] != 1
        else ["conv_0", "conv_1"]
    )
    assert layer.use_res_connect == (cfg["stride"] == 1)


def test_mobilenet_v2_matches_mmpose_forward(fixture):
    f = fixture
    cfg = json.loads(str(f["mnv2_config"]))
    images = f["mnv2_images"].astype(np.float32).transpose(0, 2, 3, 1) / 32
    net = build_with_zero_kernels(cfg, (None, *images.shape[1:]))
    state = fixture_state(f, "mnv2")
    assert load_state_dict(net, state, "") == set(state)
    inputs = keras.Input(images.shape[1:])
    model = keras.Model(inputs, net(inputs, training=False))
    feats = model.predict(images, verbose=0)
    assert len(feats) == len(cfg["out_indices"])
    for i, feat in enumerate(feats):
        ref = f[f"mnv2_out{i}"].transpose(0, 2, 3, 1)
        assert feat.shape == ref.shape
        np.testing.assert_allclose(feat, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("frozen", [0, 3, 7])
def test_frozen_stages_parameter_counts(fixture, frozen):
    cfg = json.loads(str(fixture["mnv2_config"]))
    net = build_with_zero_kernels(
        dict(cfg, frozen_stages=frozen), (None, 32, 32, 3)
    )
    expected = int(fixture[f"mnv2_frozen{frozen}_trainable"])
    assert _count(net.trainable_weights) == expected


@pytest.mark.parametrize("width", [0.5, 1.4])
def test_width_parameter_counts(fixture, width):
    net = build_with_zero_kernels(
        dict(type="MobileNetV2", widen_factor=width), (None, 32, 32, 3)
    )
    assert _count(net.trainable_weights) == int(
        fixture[f"params_mnv2_w{width}"]
    )
    # conv2 widens only for widen_factor > 1, as in MMPose
    assert net.feat_dim == (1792 if width > 1 else 1280)


def test_frozen_stages_and_norm_eval():
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    net = keraspose.build(dict(TINY, frozen_stages=2))
    net.build((None, 32, 32, 3))
    frozen = {w.path for w in net.non_trainable_weights}
    assert any("conv1/conv/kernel" in p for p in frozen)
    assert any("layer2_1/conv_1/conv/kernel" in p for p in frozen)
    assert not any("layer3_0/conv_0/conv/kernel" in p for p in frozen)
    moving = [w for w in net.weights if "moving_mean" in w.path]
    before = {w.path: to_numpy(w) for w in moving}
    net(x, training=True)
    changed = {
        w.path.split("/")[1]
        for w in moving
        if not np.array_equal(to_numpy(w), before[w.path])
    }
    # MMPose's quirk: conv1's parameters are frozen but not its statistics;
    # the frozen layer1 and layer2 keep theirs.
    assert "conv1" in changed
    assert not any(n.startswith(("layer1", "layer2")) for n in changed)
    assert "layer3_0" in changed and "conv2" in changed

    # norm_eval: training=True changes no moving statistics at all.
    net = keraspose.build(dict(TINY, norm_eval=True))
    net.build((None, 32, 32, 3))
    before = [to_numpy(w) for w in net.non_trainable_weights]
    net(x, training=True)
    for a, w in zip(before, net.non_trainable_weights):
        np.testing.assert_array_equal(a, to_numpy(w))
    assert net.trainable_weights


def test_defaults_and_channels():
    net = keraspose.build(dict(type="MobileNetV2", widen_factor=0.1))
    assert net.out_indices == (7,)
    assert net.act_cfg == dict(type="ReLU6")
    stage_out = [stage[-1].out_channels for stage in net.layers]
    assert stage_out == [8, 8, 8, 8, 16, 16, 32]
    assert [len(stage) for stage in net.layers] == [1, 2, 3, 4, 3, 3, 1]
    assert net.layers[5][0].stride == 2 and net.layers[4][0].stride == 1
    # MMPose's make_divisible rounding
    assert make_divisible(32 * 0.1, 8) == 8
    assert make_divisible(96 * 0.1, 8) == 16  # bumped: 8 < 0.9 * 9.6
    assert make_divisible(24 * 0.75, 8) == 24  # 18 + 4 rounds to 16 -> 24
    assert make_divisible(64, 8, min_value=80) == 80
    # outputs come in layer order whatever the order of out_indices
    net = keraspose.build(dict(TINY, out_indices=(7, 0)))
    shapes = [f.shape for f in net(np.zeros((1, 32, 32, 3), "float32"))]
    assert shapes == [(1, 16, 16, 8), (1, 1, 1, 1280)]
    with pytest.warns(UserWarning, match="pretrained"):
        keraspose.build(
            dict(TINY, init_cfg=dict(type="Pretrained", checkpoint="x.pth"))
        )


def test_mobilenet_v2_bad_arguments():
    for bad in (dict(out_indices=(8,)), dict(out_indices=(-1,))):
        with pytest.raises(ValueError, match="out_indices"):
            keraspose.build(dict(type="MobileNetV2", **bad))
    for value in (0, -1.0):
        with pytest.raises(ValueError, match="widen_factor"):
            keraspose.build(dict(type="MobileNetV2", widen_factor=value))
    for value in (8, -2):
        with pytest.raises(ValueError, match=f"frozen_stages={value}"):
            keraspose.build(dict(type="MobileNetV2", frozen_stages=value))
    with pytest.raises(ValueError, match="stride=3"):
        keraspose.build(
            dict(
                type="InvertedResidual",
                in_channels=8,
                out_channels=8,
                stride=3,
                expand_ratio=6,
            )
        )
    with pytest.raises(ValueError, match="norm_cfg"):
        keraspose.build(dict(type="MobileNetV2", norm_cfg=dict(type="GN")))

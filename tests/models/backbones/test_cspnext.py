import json

import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import build_with_zero_kernels
from tests.mmpose_weights import fixture_state
from tests.mmpose_weights import load_state_dict

# One stage with SPP, channel attention and 2-4-8 channels: fast.
TINY = dict(
    type="CSPNeXt",
    widen_factor=0.0625,
    arch_ovewrite=[[64, 128, 1, True, True]],
    spp_kernel_sizes=(3, 5),
    out_indices=(0, 1),
)
TWO_STAGES = dict(
    TINY, arch_ovewrite=[[64, 128, 1, True, False], [128, 256, 1, False, True]]
)


@pytest.fixture(scope="module")
def fixture():
    return dict(np.load(FIXTURES / "mmpose_cspnext.npz"))


def _count_trainable(cfg, input_shape=(None, 256, 192, 3)):
    net = build_with_zero_kernels(cfg, input_shape)
    return sum(int(np.prod(w.shape)) for w in net.trainable_weights)


def test_cspnext_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 32, 24, 3)).astype("float32")
    run_layer_test(TINY, x, tmp_path, ((2, 16, 12, 4), (2, 8, 6, 8)))


@pytest.mark.parametrize("tag", ["p5", "p6dw"])
def test_cspnext_matches_mmdet_forward(fixture, tag):
    f = fixture
    cfg = json.loads(str(f[f"{tag}_config"]))
    images = f[f"{tag}_images"].astype(np.float32).transpose(0, 2, 3, 1) / 32
    net = build_with_zero_kernels(
        dict(type="CSPNeXt", **cfg), (None, *images.shape[1:])
    )
    state = fixture_state(f, tag)
    used = load_state_dict(net, state, "")
    assert used == set(state)
    inputs = keras.Input(images.shape[1:])
    model = keras.Model(inputs, net(inputs, training=False))
    feats = model.predict(images, verbose=0)
    feats = feats if isinstance(feats, list | tuple) else [feats]
    assert len(feats) == len(cfg["out_indices"])
    for i, feat in zip(cfg["out_indices"], feats):
        ref = f[f"{tag}_out{i}"].transpose(0, 2, 3, 1)
        assert feat.shape == ref.shape
        np.testing.assert_allclose(feat, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("size", ["t", "s", "m", "l"])
def test_rtmpose_backbone_parameter_counts(fixture, size):
    # The backbone dicts of rtmpose-{t,s,m,l}_8xb256-420e_coco-256x192.py.
    factors = dict(t=(0.167, 0.375), s=(0.33, 0.5), m=(0.67, 0.75), l=(1, 1))
    deepen, widen = factors[size]
    cfg = dict(
        _scope_="mmdet",
        type="CSPNeXt",
        arch="P5",
        expand_ratio=0.5,
        deepen_factor=deepen,
        widen_factor=widen,
        out_indices=(4,),
        channel_attention=True,
        norm_cfg=dict(type="SyncBN"),
        act_cfg=dict(type="SiLU"),
    )
    assert _count_trainable(cfg) == int(fixture[f"params_rtmpose_{size}"])


@pytest.mark.parametrize("tag,frozen", [("p5", 1), ("p5", 2), ("p6dw", 0)])
def test_frozen_stages_parameter_counts(fixture, tag, frozen):
    cfg = json.loads(str(fixture[f"{tag}_config"]))
    cfg = dict(type="CSPNeXt", frozen_stages=frozen, **cfg)
    count = _count_trainable(cfg, (None, 64, 64, 3))
    assert count == int(fixture[f"{tag}_frozen{frozen}_trainable"])


def test_frozen_stages_and_norm_eval():
    x = np.random.default_rng(0).normal(size=(2, 32, 24, 3)).astype("float32")
    net = keraspose.build(dict(TWO_STAGES, frozen_stages=1, out_indices=(1, 2)))
    net.build((None, 32, 24, 3))
    frozen = {w.path for w in net.non_trainable_weights}
    assert any("stem_0/conv/kernel" in p for p in frozen)
    assert any("stage1_1/blocks_0/conv2/depthwise_conv" in p for p in frozen)
    assert not any("stage2_0/conv/kernel" in p for p in frozen)
    # Frozen stages run BatchNorm in inference mode, as MMPose's eval().
    stage1_train = to_numpy(net(x, training=True)[0])
    np.testing.assert_allclose(stage1_train, to_numpy(net(x)[0]), atol=1e-6)
    moving = [w for w in net.weights if "moving_mean" in w.path]
    before = {w.path: to_numpy(w) for w in moving}
    net(x, training=True)
    changed = {
        w.path
        for w in moving
        if not np.array_equal(to_numpy(w), before[w.path])
    }
    assert changed and all("stage2" in p for p in changed)

    # norm_eval: training=True changes no moving statistics at all.
    net = keraspose.build(dict(TINY, norm_eval=True))
    net.build((None, 32, 24, 3))
    before = [to_numpy(w) for w in net.non_trainable_weights]
    net(x, training=True)
    for a, w in zip(before, net.non_trainable_weights):
        np.testing.assert_array_equal(a, to_numpy(w))
    assert net.trainable_weights


def test_out_indices_order_and_defaults():
    x = np.zeros((1, 64, 64, 3), "float32")
    net = keraspose.build(
        dict(type="CSPNeXt", deepen_factor=0.167, widen_factor=0.125)
    )
    assert net.out_indices == (2, 3, 4)
    assert net.norm_cfg == dict(type="BN", momentum=0.03, eps=0.001)
    bn = net.stem[0].bn
    assert bn.epsilon == pytest.approx(0.001)
    assert bn.momentum == pytest.approx(0.97)
    assert [len(s) for s in net.stages] == [2, 2, 2, 3]  # stage4: SPP
    assert net.stages[3][1].kernel_sizes == (5, 9, 13)
    assert net.feat_dim == 128
    # As mmdet: outputs in layer order whatever the out_indices order.
    net = keraspose.build(dict(TWO_STAGES, out_indices=(2, 0)))
    shapes = [f.shape for f in net(x)]
    assert shapes == [(1, 32, 32, 4), (1, 8, 8, 16)]


def test_init_cfg():
    with pytest.warns(UserWarning, match="pretrained"):
        net = keraspose.build(
            dict(TINY, init_cfg=[dict(type="Pretrained", checkpoint="x.pth")])
        )
    assert net.get_config()["init_cfg"] is None
    # mmdet's default Kaiming(a=sqrt(5), fan_in, uniform): PyTorch's default
    # conv init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), zero biases.
    net = keraspose.build(TINY)
    net.build((None, 16, 16, 3))
    kernel = to_numpy(net.stages[0][0].conv.kernel)  # 3x3x4 fan_in 36
    assert np.abs(kernel).max() <= 1 / 6
    fc = net.stages[0][-1].attention.fc
    assert not to_numpy(fc.bias).any()


def test_cspnext_bad_arguments():
    with pytest.raises(ValueError, match="arch in"):
        keraspose.build(dict(type="CSPNeXt", arch="P7"))
    with pytest.raises(ValueError, match="out_indices"):
        keraspose.build(dict(type="CSPNeXt", out_indices=(5,)))
    with pytest.raises(ValueError, match="out_indices"):
        keraspose.build(dict(type="CSPNeXt", arch="P6", out_indices=(6,)))
    with pytest.raises(ValueError, match="frozen_stages"):
        keraspose.build(dict(type="CSPNeXt", frozen_stages=5))
    with pytest.raises(ValueError, match="frozen_stages"):
        keraspose.build(dict(type="CSPNeXt", frozen_stages=-2))
    with pytest.raises(ValueError, match="arch_ovewrite"):
        keraspose.build(dict(type="CSPNeXt", arch_ovewrite=[[64, 128, 3]]))
    with pytest.raises(ValueError, match="odd"):
        keraspose.build(dict(type="CSPNeXt", spp_kernel_sizes=(4,)))
    with pytest.raises(ValueError, match="norm_cfg"):
        keraspose.build(dict(type="CSPNeXt", norm_cfg=dict(type="GN")))

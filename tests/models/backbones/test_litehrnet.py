import json

import keras
import numpy as np
import pytest

import keraspose
from keraspose.models.utils.channel_shuffle import channel_shuffle
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import fixture_state
from tests.mmpose_weights import load_state_dict
from tests.mmpose_weights import zero_kernels


def _spec(**kw):
    base = dict(
        num_modules=(1,),
        num_branches=(2,),
        num_blocks=(1,),
        module_type=("LITE",),
        with_fuse=(True,),
        reduce_ratios=(4,),
        num_channels=((8, 16),),
    )
    base.update(kw)
    return base


def _extra(**kw):
    return dict(
        stem=dict(stem_channels=8, out_channels=8, expand_ratio=1),
        num_stages=1,
        stages_spec=_spec(**kw),
        with_head=True,
    )


TINY = dict(type="LiteHRNet", extra=_extra())


@pytest.fixture(scope="module")
def fixture():
    return dict(np.load(FIXTURES / "mmpose_mobilenet_litehrnet.npz"))


def _images(f, key):
    return f[key].astype(np.float32).transpose(0, 2, 3, 1) / 32


def test_litehrnet_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 16, 24, 3)).astype("float32")
    run_layer_test(TINY, x, tmp_path, (2, 4, 6, 8))


def _x(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


BLOCKS = {
    "spatial_weighting": (
        dict(type="SpatialWeighting", channels=8, ratio=4),
        _x((2, 5, 3, 8)),
        (2, 5, 3, 8),
    ),
    "cross_resolution_weighting": (
        dict(type="CrossResolutionWeighting", channels=(4, 8), ratio=4),
        (_x((2, 9, 7, 4)), _x((2, 5, 4, 8), 1)),
        [(2, 9, 7, 4), (2, 5, 4, 8)],
    ),
    "conditional_channel_weighting": (
        dict(
            type="ConditionalChannelWeighting",
            in_channels=(8, 16),
            stride=1,
            reduce_ratio=4,
        ),
        (_x((2, 8, 6, 8)), _x((2, 4, 3, 16), 1)),
        [(2, 8, 6, 8), (2, 4, 3, 16)],
    ),
    "stem": (
        dict(
            type="Stem",
            in_channels=3,
            stem_channels=8,
            out_channels=12,
            expand_ratio=2,
        ),
        _x((2, 17, 10, 3)),
        (2, 5, 3, 12),
    ),
    "shuffle_unit": (
        dict(type="ShuffleUnit", in_channels=8, out_channels=8),
        _x((2, 6, 5, 8)),
        (2, 6, 5, 8),
    ),
    "shuffle_unit_strided": (
        dict(type="ShuffleUnit", in_channels=8, out_channels=12, stride=2),
        _x((2, 6, 5, 8)),
        (2, 3, 3, 12),
    ),
    "iterative_head": (
        dict(type="IterativeHead", in_channels=(8, 16)),
        (_x((2, 9, 7, 8)), _x((2, 5, 4, 16), 1)),
        [(2, 9, 7, 8), (2, 5, 4, 8)],
    ),
    "naive_module": (
        dict(
            type="LiteHRModule",
            num_branches=2,
            num_blocks=1,
            in_channels=(8, 16),
            reduce_ratio=4,
            module_type="NAIVE",
            multiscale_output=True,
        ),
        (_x((2, 8, 6, 8)), _x((2, 4, 3, 16), 1)),
        [(2, 8, 6, 8), (2, 4, 3, 16)],
    ),
}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_litehrnet_blocks_component(tmp_path, name):
    cfg, x, shape = BLOCKS[name]
    # Training and mixed precision run on the whole backbone above.
    run_layer_test(cfg, x, tmp_path, shape, train=False, precision=False)


def _check_forward(model, x, f, tag, n):
    feats = model.predict(x, verbose=0)
    feats = feats if isinstance(feats, list | tuple) else [feats]
    assert len(feats) == n
    for i, feat in enumerate(feats):
        ref = f[f"{tag}_out{i}"].transpose(0, 2, 3, 1)
        assert feat.shape == ref.shape
        np.testing.assert_allclose(feat, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("tag", ["lhr_fuse", "lhr_odd"])
def test_litehrnet_matches_mmpose_forward(fixture, tag):
    f = fixture
    cfg = json.loads(str(f[f"{tag}_config"]))
    images = _images(f, f"{tag}_images")
    net = zero_kernels(keraspose.build(cfg))
    net.build((None, *images.shape[1:]))
    state = fixture_state(f, tag)
    assert load_state_dict(net, state, "") == set(state)
    inputs = keras.Input(images.shape[1:])
    model = keras.Model(inputs, net(inputs, training=False))
    _check_forward(model, images, f, tag, 1)


def test_lite_hr_module_matches_mmpose_forward(fixture):
    # Fused single output (multiscale_output=False), with MMPose's quirks.
    f = fixture
    cfg = json.loads(str(f["module_config"]))
    xs = [_images(f, f"module_images{i}") for i in range(3)]
    module = zero_kernels(keraspose.build(dict(type="LiteHRModule", **cfg)))
    module.build([(None, *x.shape[1:]) for x in xs])
    state = fixture_state(f, "module")
    assert load_state_dict(module, state, "") == set(state)
    inputs = [keras.Input(x.shape[1:]) for x in xs]
    model = keras.Model(inputs, module(inputs, training=False))
    _check_forward(model, xs, f, "module", 1)


def test_channel_shuffle_matches_nchw_definition():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 12)).astype("float32")
    # MMPose: view (N, g, C/g, H, W), transpose(1, 2), flatten, on NCHW.
    nchw = x.transpose(0, 3, 1, 2)
    ref = nchw.reshape(2, 3, 4, 3, 4).transpose(0, 2, 1, 3, 4)
    ref = ref.reshape(2, 12, 3, 4).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(to_numpy(channel_shuffle(x, 3)), ref)
    with pytest.raises(ValueError, match="groups=5"):
        channel_shuffle(x, 5)


def test_norm_eval_and_init_cfg():
    x = _x((2, 16, 16, 3))
    net = keraspose.build(dict(TINY, norm_eval=True))
    net.build((None, 16, 16, 3))
    before = [to_numpy(w) for w in net.non_trainable_weights]
    net(x, training=True)
    for a, w in zip(before, net.non_trainable_weights):
        np.testing.assert_array_equal(a, to_numpy(w))
    # MMPose's init: Normal(std=0.001) for convolutions except the stem's
    # direct ConvModules, which MMCV re-initialises (Kaiming fan-out).
    pw = to_numpy(
        net.stages[0][0].layers[0].spatial_weighting[0].conv1.conv.kernel
    )
    assert np.abs(pw).max() < 0.01
    stem_kernel = to_numpy(net.stem.conv1.conv.kernel)
    assert np.abs(stem_kernel).std() > 0.05
    branch1 = to_numpy(net.stem.branch1[0].conv.kernel)
    assert np.abs(branch1).max() < 0.01
    with pytest.warns(UserWarning, match="pretrained"):
        net = keraspose.build(
            dict(
                TINY,
                init_cfg=[
                    dict(type="Pretrained", checkpoint="x.pth"),
                    dict(type="Normal", std=0.01, layer=["Conv2d"]),
                ],
            )
        )
    assert net.get_config()["init_cfg"] == [
        dict(type="Normal", std=0.01, layer=["Conv2d"])
    ]


def test_transitions_and_names():
    extra = _extra(
        num_modules=(1, 2),
        num_branches=(2, 4),
        num_blocks=(1, 1),
        module_type=("LITE", "NAIVE"),
        with_fuse=(True, True),
        reduce_ratios=(4, 4),
        num_channels=((8, 16), (12, 16, 24, 32)),
    )
    extra["num_stages"] = 2
    net = zero_kernels(keraspose.build(dict(type="LiteHRNet", extra=extra)))
    net.build((None, 32, 32, 3))
    names = [[layer.name for layer in path] for path in net.transitions[1]]
    assert names[0] == [f"transition1_0_{k}" for k in range(5)]
    assert names[1] == []
    assert names[3][:5] == [f"transition1_3_0_{k}" for k in range(5)]
    assert len(names[3]) == 10
    assert [m.name for m in net.stages[1]] == ["stage1_0", "stage1_1"]
    assert net.feat_dim == 12
    feats = net(keras.Input((32, 32, 3)))
    assert [tuple(f.shape) for f in feats] == [(None, 8, 8, 12)]


def test_litehrnet_bad_extra():
    def build(**kw):
        return keraspose.build(dict(type="LiteHRNet", extra=_extra(**kw)))

    with pytest.raises(ValueError, match=r"Stage 0.*num_channels"):
        build(num_channels=((8, 16, 32),))
    with pytest.raises(ValueError, match=r"Stage 0.*module_type='FANCY'"):
        build(module_type=("FANCY",))
    with pytest.raises(ValueError, match=r"reduce_ratios"):
        build(reduce_ratios=())
    with pytest.raises(ValueError, match="with_head"):
        extra = _extra()
        del extra["with_head"]
        keraspose.build(dict(type="LiteHRNet", extra=extra))
    with pytest.raises(ValueError, match="even"):
        build(num_channels=((8, 15),))
    with pytest.raises(ValueError, match="at least 2 branches"):
        build(num_branches=(1,), num_channels=((8,),))
    with pytest.raises(ValueError, match="stem_channels"):
        keraspose.build(
            dict(
                type="Stem",
                in_channels=3,
                stem_channels=7,
                out_channels=8,
                expand_ratio=1,
            )
        )
    # Fusion needs branch sizes that halve exactly (MMPose fails too).
    net = zero_kernels(keraspose.build(TINY))
    with pytest.raises(ValueError, match="halve exactly"):
        net.build((None, 36, 36, 3))
    # Without fusion, odd sizes are fine.
    net = keraspose.build(dict(type="LiteHRNet", extra=_extra(with_fuse=(0,))))
    net = zero_kernels(net)
    feats = net(keras.Input((36, 36, 3)))
    assert tuple(feats[0].shape) == (None, 9, 9, 8)

import json

import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import fixture_state
from tests.mmpose_weights import load_state_dict


def _stage(branches, block, channels, modules=1, blocks=None):
    return dict(
        num_modules=modules,
        num_branches=branches,
        block=block,
        num_blocks=tuple(blocks or (1,) * branches),
        num_channels=tuple(channels),
    )


# Three stages of 1-2 tiny branches: fast.
TINY_EXTRA = dict(
    stage1=_stage(1, "BOTTLENECK", (2,)),
    stage2=_stage(2, "BASIC", (4, 8)),
    stage3=_stage(2, "BASIC", (4, 8)),
    stage4=_stage(3, "BASIC", (4, 8, 8)),
)
TINY = dict(type="HRNet", extra=TINY_EXTRA)
# Even fewer layers for the (compile-heavy) component tests.
SMALL_EXTRA = dict(
    stage1=_stage(1, "BOTTLENECK", (1,)),
    stage2=_stage(1, "BASIC", (4,)),
    stage3=_stage(1, "BASIC", (4,)),
    stage4=_stage(2, "BASIC", (4, 8)),
)


@pytest.fixture(scope="module")
def fixture():
    return dict(np.load(FIXTURES / "mmpose_hrnet.npz"))


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


@pytest.mark.parametrize("multiscale", [False, True])
def test_hrnet_component(tmp_path, multiscale):
    extra = dict(
        SMALL_EXTRA,
        stage4=dict(SMALL_EXTRA["stage4"], multiscale_output=multiscale),
    )
    x = np.random.default_rng(0).normal(size=(2, 16, 8, 3)).astype("float32")
    shapes = ((2, 4, 2, 4), (2, 2, 1, 8))
    # a Model with a single output unwraps the 1-tuple
    run_layer_test(
        dict(type="HRNet", extra=extra),
        x,
        tmp_path,
        shapes if multiscale else shapes[0],
    )


def test_hr_module_component(tmp_path):
    cfg = dict(
        type="HRModule",
        num_branches=2,
        blocks="BOTTLENECK",
        num_blocks=(1, 1),
        in_channels=(4, 4),
        num_channels=(1, 2),
        multiscale_output=True,
    )
    rng = np.random.default_rng(0)
    x = (
        rng.normal(size=(2, 4, 4, 4)).astype("float32"),
        rng.normal(size=(2, 2, 2, 4)).astype("float32"),
    )
    run_layer_test(cfg, x, tmp_path, [(2, 4, 4, 4), (2, 2, 2, 8)])


@pytest.mark.parametrize("tag", ["ms", "ss"])
def test_hrnet_matches_mmpose_forward(fixture, tag):
    f = fixture
    cfg = json.loads(str(f[f"{tag}_config"]))
    images = f[f"{tag}_images"].astype(np.float32).transpose(0, 2, 3, 1) / 32
    net = keraspose.build(dict(type="HRNet", **cfg))
    net.build((None, *images.shape[1:]))
    state = fixture_state(f, tag)
    used = load_state_dict(net, state, "")
    assert used == set(state)
    inputs = keras.Input(images.shape[1:])
    model = keras.Model(inputs, net(inputs, training=False))
    feats = model.predict(images, verbose=0)
    feats = feats if isinstance(feats, list | tuple) else [feats]
    refs = [f[k] for k in sorted(f) if k.startswith(f"{tag}_out")]
    assert len(feats) == len(refs)
    for feat, ref in zip(feats, refs):
        ref = ref.transpose(0, 2, 3, 1)
        assert feat.shape == ref.shape
        np.testing.assert_allclose(feat, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("frozen", [-1, 0, 1, 2, 3, 4])
def test_frozen_stages_parameter_counts(fixture, frozen):
    cfg = json.loads(str(fixture["ss_config"]))
    net = keraspose.build(dict(type="HRNet", frozen_stages=frozen, **cfg))
    net.build((None, 64, 64, 3))
    expected = int(fixture[f"ss_frozen{frozen}_trainable"])
    assert _count(net.trainable_weights) == expected


def test_frozen_stages_and_norm_eval():
    x = np.random.default_rng(0).normal(size=(2, 32, 16, 3)).astype("float32")
    net = keraspose.build(dict(TINY, frozen_stages=2))
    net.build((None, 32, 16, 3))
    frozen = {w.path for w in net.non_trainable_weights}
    assert any("/conv1/kernel" in p and "layer" not in p for p in frozen)
    assert any("stage2_0/fuse_layers_0_1_0/kernel" in p for p in frozen)
    assert any("transition1_1_0_0/kernel" in p for p in frozen)
    assert not any("stage3_0/" in p and "kernel" in p for p in frozen)
    moving = [w for w in net.weights if "moving_mean" in w.path]
    before = {w.path: to_numpy(w) for w in moving}
    net(x, training=True)
    changed = {
        w.path
        for w in moving
        if not np.array_equal(to_numpy(w), before[w.path])
    }
    assert changed and all(
        p.split("/")[1][:6] in ("stage3", "stage4", "transi") for p in changed
    )
    assert any("transition3" in p for p in changed)

    # norm_eval: training=True changes no moving statistics at all.
    net = keraspose.build(dict(TINY, norm_eval=True))
    net.build((None, 32, 16, 3))
    before = [to_numpy(w) for w in net.non_trainable_weights]
    np.testing.assert_allclose(
        to_numpy(net(x, training=True)[0]), to_numpy(net(x)[0]), atol=1e-6
    )
    for a, w in zip(before, net.non_trainable_weights):
        np.testing.assert_array_equal(a, to_numpy(w))
    assert net.trainable_weights


def test_init_cfg_and_zero_init_residual():
    keras.utils.set_random_seed(0)
    net = keraspose.build(dict(TINY, zero_init_residual=True))
    net.build((None, 32, 16, 3))
    # MMPose's default init_cfg: conv kernels N(0, 0.001), BN gamma 1.
    kernels = np.concatenate(
        [to_numpy(w).ravel() for w in net.weights if w.path.endswith("/kernel")]
    )
    assert abs(kernels.std() - 0.001) < 1e-4
    assert abs(kernels.mean()) < 1e-4
    # zero_init_residual: each block's last BN starts with gamma 0.
    block = net.layer1[0]
    assert not to_numpy(block.norms[-1].gamma).any()
    assert to_numpy(block.norms[0].gamma).all()
    assert not to_numpy(net.stages[0][0].branches[1][0].norms[-1].gamma).any()
    # ... unless init_cfg is a Pretrained dict (which warns).
    with pytest.warns(UserWarning, match="pretrained"):
        net = keraspose.build(
            dict(
                TINY,
                zero_init_residual=True,
                init_cfg=dict(type="Pretrained", checkpoint="x.pth"),
            )
        )
    assert net.get_config()["init_cfg"] is None
    net.build((None, 32, 16, 3))
    assert to_numpy(net.layer1[0].norms[-1].gamma).all()


def test_layer_names_and_defaults():
    net = keraspose.build(TINY)
    assert net.norm_cfg == dict(type="BN")
    assert net.frozen_stages == -1 and not net.zero_init_residual
    assert net.upsample_cfg == dict(mode="nearest", align_corners=None)
    net.build((None, 32, 16, 3))
    paths = {w.path.split("/", 1)[1] for w in net.weights}
    for path in (
        "conv1/kernel",
        "bn2/gamma",
        "layer1_0/downsample_0/kernel",
        "transition1_1_0_0/kernel",
        "transition3_2_0_1/moving_variance",
        "stage2_0/branches_1_0/conv2/kernel",
        "stage4_0/fuse_layers_0_2_0/kernel",
        "stage3_0/fuse_layers_1_0_0_0/kernel",
        "stage3_0/fuse_layers_1_0_0_1/beta",
    ):
        assert path in paths, path
    # multiscale_output=False: only the highest resolution is fused.
    assert not any("stage4_0/fuse_layers_1" in p for p in paths)
    assert "stage3_0/fuse_layers_0_1_0/kernel" in paths


def test_bad_extra():
    def build(**stages):
        return keraspose.build(dict(TINY, extra=dict(TINY_EXTRA, **stages)))

    with pytest.raises(ValueError, match=r"stage3.*num_channels.*\(4, 8, 8\)"):
        build(stage3=_stage(2, "BASIC", (4, 8, 8)))
    with pytest.raises(ValueError, match=r"stage2.*num_blocks.*\(1,\)"):
        build(stage2=dict(_stage(2, "BASIC", (4, 8)), num_blocks=(1,)))
    with pytest.raises(ValueError, match=r"stage4.*block.*'BASICS'"):
        build(stage4=dict(TINY_EXTRA["stage4"], block="BASICS"))
    with pytest.raises(ValueError, match=r"stage2.*missing.*num_modules"):
        stage2 = dict(TINY_EXTRA["stage2"])
        del stage2["num_modules"]
        build(stage2=stage2)
    with pytest.raises(ValueError, match=r"extra\['stage4'\].*None"):
        keraspose.build(
            dict(TINY, extra=dict(TINY_EXTRA, stage4=None)),
        )
    with pytest.raises(ValueError, match=r"stage3.*num_modules.*0"):
        build(stage3=dict(TINY_EXTRA["stage3"], num_modules=0))
    with pytest.raises(ValueError, match=r"stage1.*num_branches"):
        build(stage1=_stage(2, "BASIC", (4, 4)))
    with pytest.raises(ValueError, match=r"upsample.*'linear'"):
        keraspose.build(
            dict(TINY, extra=dict(TINY_EXTRA, upsample=dict(mode="linear")))
        )
    # MMPose feeds a channel-changing transition the lowest resolution.
    with pytest.raises(ValueError, match="branch 0"):
        build(stage3=_stage(2, "BASIC", (6, 8)))
    with pytest.raises(ValueError, match="frozen_stages"):
        keraspose.build(dict(TINY, frozen_stages=5))
    with pytest.raises(ValueError, match="in_channels=3"):
        keraspose.build(TINY).build((None, 32, 16, 1))
    with pytest.raises(ValueError, match="blocks"):
        keraspose.build(
            dict(
                type="HRModule",
                num_branches=1,
                blocks="BASICS",
                num_blocks=(1,),
                in_channels=(4,),
                num_channels=(4,),
            )
        )

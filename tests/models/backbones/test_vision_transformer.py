import json

import keras
import numpy as np
import pytest

import keraspose
from keraspose.models.backbones.vision_transformer import resize_pos_embed
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.mmpose_weights import build_with_zero_kernels
from tests.mmpose_weights import fixture_state
from tests.mmpose_weights import load_state_dict

ARCH = dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32)
# ViTPose's arguments on a tiny ViT: 32x24 images, 4-pixel patches padded
# by 2 -> a 9x7 grid.
TINY = dict(
    type="mmpretrain.VisionTransformer",
    arch=ARCH,
    img_size=(32, 24),
    patch_size=4,
    with_cls_token=False,
    out_type="featmap",
    patch_cfg=dict(padding=2),
)


@pytest.fixture(scope="module")
def fixture():
    return dict(np.load(FIXTURES / "mmpretrain_vit.npz"))


def _images(f, key):
    return f[key].astype(np.float32).transpose(0, 2, 3, 1) / 32


def test_vision_transformer_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 32, 24, 3)).astype("float32")
    cfg = dict(
        TINY, out_indices=(0, 1), drop_path_rate=0.1, layer_scale_init_value=1
    )
    run_layer_test(cfg, x, tmp_path, ((2, 9, 7, 16), (2, 9, 7, 16)))


@pytest.mark.parametrize("tag", ["vitpose", "raw", "avg", "cls"])
def test_vision_transformer_matches_mmpretrain(fixture, tag):
    f = fixture
    cfg = json.loads(str(f[f"{tag}_config"]))
    first = _images(f, f"{tag}_images0")
    net = build_with_zero_kernels(
        dict(type="VisionTransformer", **cfg), (None, *first.shape[1:])
    )
    state = fixture_state(f, tag)
    used = load_state_dict(net, state, "")
    assert used == set(state)
    assert len(net.weights) == len(state)
    # At img_size, then at another size (position embeddings resized).
    for j in (0, 1):
        images = _images(f, f"{tag}_images{j}")
        inputs = keras.Input(images.shape[1:])
        model = keras.Model(inputs, net(inputs, training=False))
        feats = model.predict(images, verbose=0)
        feats = feats if isinstance(feats, list | tuple) else [feats]
        num = len([k for k in f if k.startswith(f"{tag}_images{j}_out")])
        assert len(feats) == num == len(net.out_indices)
        for i, feat in enumerate(feats):
            ref = f[f"{tag}_images{j}_out{i}"]
            if ref.ndim == 4:
                ref = ref.transpose(0, 2, 3, 1)
            assert feat.shape == ref.shape
            np.testing.assert_allclose(feat, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "tag,frozen", [("vitpose", 1), ("vitpose", 2), ("raw", 2)]
)
def test_frozen_stages_parameter_counts(fixture, tag, frozen):
    cfg = json.loads(str(fixture[f"{tag}_config"]))
    cfg = dict(type="VisionTransformer", frozen_stages=frozen, **cfg)
    net = build_with_zero_kernels(cfg, (None, 32, 24, 3))
    count = sum(int(np.prod(w.shape)) for w in net.trainable_weights)
    assert count == int(fixture[f"{tag}_frozen{frozen}_trainable"])


def test_frozen_stages_run_in_inference_mode():
    x = np.random.default_rng(0).normal(size=(2, 32, 24, 3)).astype("float32")
    cfg = dict(TINY, drop_rate=0.5, drop_path_rate=0.5)
    net = keraspose.build(dict(cfg, frozen_stages=2))
    net.build((None, 32, 24, 3))
    frozen = {w.path.split("/", 1)[1] for w in net.non_trainable_weights}
    assert {"pos_embed", "patch_embed/projection/kernel"} <= frozen
    assert {"layers_1/ffn/layers_1/bias", "ln1/gamma"} <= frozen
    assert not net.trainable_weights
    # mmpretrain's frozen parts are in eval(): no dropout, no drop path.
    np.testing.assert_allclose(
        to_numpy(net(x, training=True)[0]), to_numpy(net(x)[0]), atol=1e-6
    )
    # frozen_stages=1 keeps layer 2 and ln1 trainable; 0 freezes nothing.
    net = keraspose.build(dict(cfg, frozen_stages=1))
    net.build((None, 32, 24, 3))
    trainable = {w.path.split("/", 1)[1] for w in net.trainable_weights}
    assert "ln1/gamma" in trainable and "pos_embed" not in trainable
    assert not any(p.startswith("layers_0") for p in trainable)
    net = keraspose.build(dict(cfg, frozen_stages=0))
    net.build((None, 32, 24, 3))
    assert not net.non_trainable_weights


def test_drop_path_in_training():
    x = np.random.default_rng(0).normal(size=(4, 32, 24, 3)).astype("float32")
    net = keraspose.build(dict(TINY, drop_path_rate=0.5, drop_rate=0.1))
    assert [layer.drop_path_rate for layer in net.layers] == [0.0, 0.5]
    train = to_numpy(net(x, training=True)[0])
    assert train.shape == (4, 9, 7, 16)
    assert np.isfinite(train).all()
    assert not np.allclose(train, to_numpy(net(x)[0]))


def test_out_indices_and_output_types():
    x = np.zeros((1, 32, 24, 3), "float32")
    net = keraspose.build(dict(TINY, out_indices=(-1, 0)))
    assert net.out_indices == (1, 0)
    assert net.get_config()["out_indices"] == (1, 0)
    assert len(net(x)) == 2  # in layer order, as mmpretrain
    shapes = {
        "featmap": (1, 9, 7, 16),
        "raw": (1, 64, 16),
        "cls_token": (1, 16),
        "avg_featmap": (1, 16),
    }
    for out_type, shape in shapes.items():
        net = keraspose.build(
            dict(
                TINY,
                arch=dict(ARCH, num_layers=1),
                with_cls_token=True,
                out_type=out_type,
            )
        )
        assert net(x)[0].shape == shape
        assert net.compute_output_shape(x.shape) == (shape,)


def test_defaults_and_arch_zoo():
    net = keraspose.build(dict(type="VisionTransformer", arch="deit-tiny"))
    assert net.out_type == "cls_token" and net.out_indices == (11,)
    assert net.img_size == (224, 224) and net.patch_resolution == (14, 14)
    assert net.layers[0].ln1.epsilon == pytest.approx(1e-6)
    assert net.patch_embed.padding == "corner"
    small = keraspose.build(dict(type="VisionTransformer", arch="Small"))
    assert small.arch_settings == dict(
        embed_dims=768, num_layers=8, num_heads=8, feedforward_channels=2304
    )
    # ViTPose's patch grid for 256x192 images with padding 2.
    vit = keraspose.build(
        dict(
            type="VisionTransformer",
            arch="base",
            img_size=(256, 192),
            patch_cfg=dict(padding=2),
            with_cls_token=False,
            out_type="featmap",
        )
    )
    assert vit.patch_resolution == (16, 12)


def test_init():
    with pytest.warns(UserWarning, match="pretrained"):
        net = keraspose.build(
            dict(
                TINY,
                with_cls_token=True,
                out_type="raw",
                layer_scale_init_value=0.25,
                init_cfg=dict(type="Pretrained", checkpoint="x.pth"),
            )
        )
    assert "init_cfg" not in net.get_config()
    net.build((None, 32, 24, 3))
    pos = to_numpy(net.pos_embed)
    assert pos.shape == (1, 64, 16) and 0.01 < pos.std() < 0.03
    assert not to_numpy(net.cls_token).any()
    layer = net.layers[0]
    np.testing.assert_array_equal(to_numpy(layer.attn.gamma1.weight), 0.25)
    np.testing.assert_array_equal(to_numpy(layer.ffn.gamma2.weight), 0.25)
    # mmpretrain's init_weights: Xavier FFN kernels with N(0, 1e-6) biases.
    assert np.abs(to_numpy(layer.ffn.fc_out.bias)).max() < 1e-4
    # PyTorch's default init elsewhere: U(+-1/sqrt(fan_in)).
    assert np.abs(to_numpy(layer.attn.qkv.kernel)).max() <= 0.25
    assert np.abs(to_numpy(layer.attn.qkv.bias)).max() <= 0.25


def test_resize_pos_embed_keeps_extra_tokens():
    rng = np.random.default_rng(0)
    pos = rng.normal(size=(1, 1 + 4 * 3, 8)).astype("float32")
    same = resize_pos_embed(pos, (4, 3), (4, 3))
    assert same is pos
    out = to_numpy(resize_pos_embed(pos, (4, 3), (8, 6), mode="bilinear"))
    assert out.shape == (1, 49, 8)
    np.testing.assert_array_equal(out[:, 0], pos[:, 0])
    with pytest.raises(ValueError, match="does not match"):
        resize_pos_embed(pos, (4, 4), (8, 6))


def test_vision_transformer_bad_arguments():
    base = dict(type="VisionTransformer", arch=ARCH, img_size=32)
    with pytest.raises(ValueError, match="'tiny'.*deit-tiny"):
        keraspose.build(dict(base, arch="tiny"))
    with pytest.raises(ValueError, match=r"missing \['num_heads'\]"):
        keraspose.build(
            dict(
                base,
                arch=dict(embed_dims=8, num_layers=1, feedforward_channels=8),
            )
        )
    with pytest.raises(ValueError, match=r"out_indices=\(0, 2\)"):
        keraspose.build(dict(base, out_indices=(0, 2)))
    with pytest.raises(ValueError, match="out_indices=-3"):
        keraspose.build(dict(base, out_indices=-3))
    with pytest.raises(ValueError, match="out_type='map'"):
        keraspose.build(dict(base, out_type="map"))
    with pytest.raises(ValueError, match="with_cls_token"):
        keraspose.build(dict(base, with_cls_token=False))
    with pytest.raises(ValueError, match="frozen_stages=3"):
        keraspose.build(dict(base, frozen_stages=3))
    with pytest.raises(ValueError, match="interpolate_mode='nearest'"):
        keraspose.build(dict(base, interpolate_mode="nearest"))
    with pytest.raises(ValueError, match="Received 1"):
        keraspose.build(dict(base, layer_cfgs=[dict()]))
    with pytest.raises(ValueError, match="norm_cfg"):
        keraspose.build(dict(base, norm_cfg=dict(type="BN")))
    with pytest.raises(ValueError, match="padding='valid'"):
        keraspose.build(dict(base, patch_cfg=dict(padding="valid")))
    with pytest.raises(ValueError, match="ffn_type='swiglu_fused'"):
        keraspose.build(dict(base, layer_cfgs=dict(ffn_type="swiglu_fused")))

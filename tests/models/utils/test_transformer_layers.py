import numpy as np
import pytest

import keraspose
from keraspose.models.utils.drop_path import parse_dropout_layer
from keraspose.models.utils.layer_norm import build_layer_norm
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

RNG = np.random.default_rng(0)
TOKENS = RNG.normal(size=(2, 5, 8)).astype("float32")


def test_layer_scale_component(tmp_path):
    cfg = dict(type="LayerScale", dim=8, layer_scale_init_value=0.5)
    run_layer_test(cfg, TOKENS, tmp_path, (2, 5, 8))
    layer = keraspose.build(cfg)
    np.testing.assert_array_equal(to_numpy(layer(TOKENS)), 0.5 * TOKENS)
    assert layer.weight.name == "weight"  # mmpretrain's parameter name


def test_patch_embed_component(tmp_path):
    x = RNG.normal(size=(2, 10, 7, 3)).astype("float32")
    cfg = dict(
        type="PatchEmbed",
        embed_dims=8,
        kernel_size=4,
        stride=4,
        norm_cfg=dict(type="LN"),
        input_size=(10, 7),
    )
    layer = run_layer_test(cfg, x, tmp_path, (2, 3, 2, 8))
    # "corner": 10x7 padded to 12x8 at the bottom/right, as MMCV.
    assert layer.init_out_size == (3, 2)
    same = keraspose.build(dict(cfg, padding="same", norm_cfg=None))
    corner = keraspose.build(dict(cfg, padding="corner", norm_cfg=None))
    same.build(x.shape)
    corner.build(x.shape)
    corner.set_weights(same.get_weights())
    a, b = to_numpy(same(x)), to_numpy(corner(x))
    assert a.shape == b.shape and not np.allclose(a, b)
    conv = keraspose.build(dict(cfg, padding=2, input_size=(256, 192)))
    assert conv.init_out_size == (65, 49)
    assert keraspose.build(dict(cfg, input_size=None)).init_out_size is None


def test_multihead_attention_component(tmp_path):
    cfg = dict(
        type="MultiheadAttention",
        embed_dims=8,
        num_heads=2,
        layer_scale_init_value=0.5,
        dropout_layer=dict(type="DropPath", drop_prob=0.1),
    )
    layer = run_layer_test(cfg, TOKENS, tmp_path, (2, 5, 8))
    assert layer.gamma1 is not None


def test_multihead_attention_paths_agree():
    attn = keraspose.build(
        dict(type="MultiheadAttention", embed_dims=8, num_heads=2)
    )
    fused = to_numpy(attn(TOKENS))
    # The explicit path (taken with attention dropout in training), here
    # with a zero dropout rate: the same numbers.
    attn.attn_drop = 0.5
    attn.attn_dropout.rate = 0.0
    explicit = to_numpy(attn(TOKENS, training=True))
    np.testing.assert_allclose(explicit, fused, atol=1e-6)
    single = keraspose.build(
        dict(
            type="MultiheadAttention",
            embed_dims=8,
            num_heads=1,
            v_shortcut=True,
            qk_scale=3.0,
        )
    )
    assert single(TOKENS).shape == (2, 5, 8)


def test_ffn_component(tmp_path):
    cfg = dict(
        type="FFN",
        embed_dims=8,
        feedforward_channels=16,
        num_fcs=3,
        act_cfg=dict(type="GELU"),
        dropout_layer=dict(type="Dropout", drop_prob=0.1),
        layer_scale_init_value=0.5,
    )
    layer = run_layer_test(cfg, TOKENS, tmp_path, (2, 5, 8))
    names = [sub.name for sub in layer.linears]
    assert names == ["layers_0_0", "layers_1_0", "layers_2"]
    plain = keraspose.build(dict(cfg, add_identity=False, num_fcs=2))
    with_id = keraspose.build(dict(cfg, num_fcs=2))
    plain.build(TOKENS.shape)
    with_id.build(TOKENS.shape)
    with_id.set_weights(plain.get_weights())
    np.testing.assert_allclose(
        to_numpy(with_id(TOKENS, identity=2 * TOKENS)),
        to_numpy(plain(TOKENS)) + 2 * TOKENS,
        atol=1e-6,
    )


def test_transformer_encoder_layer_component(tmp_path):
    cfg = dict(
        type="TransformerEncoderLayer",
        embed_dims=8,
        num_heads=2,
        feedforward_channels=16,
        drop_path_rate=0.1,
        norm_cfg=dict(type="LN", eps=1e-6),
    )
    layer = run_layer_test(cfg, TOKENS, tmp_path, (2, 5, 8))
    assert layer.ln1.epsilon == pytest.approx(1e-6)
    assert layer.attn._out_drop_type == "DropPath"


def test_transformer_layers_bad_arguments():
    with pytest.raises(ValueError, match="num_heads=3"):
        keraspose.build(
            dict(type="MultiheadAttention", embed_dims=8, num_heads=3)
        )
    with pytest.raises(ValueError, match="num_heads=2"):
        keraspose.build(
            dict(
                type="MultiheadAttention",
                embed_dims=8,
                num_heads=2,
                v_shortcut=True,
            )
        )
    with pytest.raises(ValueError, match="num_fcs"):
        keraspose.build(dict(type="FFN", num_fcs=1))
    with pytest.raises(ValueError, match="dropout_layer"):
        parse_dropout_layer(dict(type="DropBlock", drop_prob=0.1))
    with pytest.raises(ValueError, match="drop_prob"):
        parse_dropout_layer(dict(type="DropPath", drop_prob=1.5))
    assert parse_dropout_layer(dict(type="DropPath")) == ("DropPath", 0.1)
    with pytest.raises(ValueError, match="conv_type"):
        keraspose.build(dict(type="PatchEmbed", conv_type="Conv3d"))
    with pytest.raises(ValueError, match="norm_cfg"):
        build_layer_norm(dict(type="GN"), name="n")
    with pytest.raises(ValueError, match="momentum"):
        build_layer_norm(dict(type="LN", momentum=0.1), name="n")

import keras
import numpy as np
import pytest

import keraspose
from keraspose.models.utils.rtmcc_block import rope
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.models.mmpose_simcc_weights import load_mmpose_state
from tests.models.mmpose_simcc_weights import state_from_fixture

GAU_CASES = {
    "self_rel": dict(
        num_token=5, in_token_dims=8, out_token_dims=8, s=8, act_fn="SiLU"
    ),
    "self_rope_bias": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=8,
        s=8,
        act_fn="ReLU",
        use_rel_bias=False,
        pos_enc=True,
        bias=True,
    ),
    "self_proj": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=6,
        s=8,
        expansion_factor=3,
        pos_enc=True,
    ),
    "self_short": dict(num_token=7, in_token_dims=8, out_token_dims=8, s=4),
    "cross_rel": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=8,
        s=8,
        attn_type="cross-attn",
        pos_enc=True,
        bias=True,
    ),
    "cross_plain": dict(
        num_token=5,
        in_token_dims=8,
        out_token_dims=6,
        s=8,
        attn_type="cross-attn",
        use_rel_bias=False,
        act_fn="ReLU",
    ),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_simcc.npz"))


def _inputs(fx, tag):
    x = fx[f"gau_{tag}_in"]
    if f"gau_{tag}_k" in fx:
        return (x, fx[f"gau_{tag}_k"], fx[f"gau_{tag}_v"])
    return x


@pytest.mark.parametrize("tag", sorted(GAU_CASES))
def test_rtmcc_block_matches_mmpose(fx, tag):
    gau = keraspose.build(dict(type="RTMCCBlock", **GAU_CASES[tag]))
    inputs = _inputs(fx, tag)
    gau(inputs)
    state = state_from_fixture(fx, f"gau_{tag}")
    used = load_mmpose_state(gau, state)
    assert used == set(state)
    trainable = sum(int(np.prod(w.shape)) for w in gau.trainable_weights)
    assert trainable == sum(v.size for v in state.values())
    out = to_numpy(gau(inputs, training=False))
    np.testing.assert_allclose(out, fx[f"gau_{tag}_out"], atol=1e-5, rtol=1e-5)


def test_rtmcc_block_component_self_attention(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    cfg = dict(
        type="RTMCCBlock",
        num_token=5,
        in_token_dims=8,
        out_token_dims=8,
        s=8,
        pos_enc=True,
        dropout_rate=0.1,
        drop_path=0.1,
    )
    run_layer_test(cfg, x, tmp_path, (2, 5, 8))


def test_rtmcc_block_component_cross_attention(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    kv = rng.normal(size=(2, 7, 8)).astype("float32")
    cfg = dict(
        type="RTMCCBlock",
        num_token=5,
        in_token_dims=8,
        out_token_dims=6,
        s=8,
        attn_type="cross-attn",
        pos_enc=True,
        bias=True,
    )
    run_layer_test(cfg, (x, kv, kv), tmp_path, (2, 5, 6))


def test_scale_and_scale_norm_components(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 3, 8)).astype("float32")
    run_layer_test(dict(type="Scale", dim=8, init_value=0.5), x, tmp_path)
    run_layer_test(dict(type="ScaleNorm", dim=8, eps=1e-4), x, tmp_path)
    frozen = keraspose.build(dict(type="Scale", dim=8, trainable=False))
    frozen(x)
    assert not frozen.trainable_weights
    norm = keraspose.build(dict(type="ScaleNorm", dim=8))
    y = to_numpy(norm(x))
    np.testing.assert_allclose(
        np.linalg.norm(y, axis=-1), np.sqrt(8), rtol=1e-5
    )


def test_scale_norm_gradient_is_finite_at_zero():
    norm = keraspose.build(dict(type="ScaleNorm", dim=4))
    x = keras.Input((3, 4))
    model = keras.Model(x, norm(x))
    model.compile(optimizer="sgd", loss="mse")
    loss = model.train_on_batch(
        np.zeros((2, 3, 4), "float32"), np.ones((2, 3, 4), "float32")
    )
    assert np.isfinite(loss)
    assert np.isfinite(to_numpy(norm.g)).all()


def test_drop_path_and_dropout_only_in_training():
    x = np.random.default_rng(0).normal(size=(64, 5, 8)).astype("float32")
    gau = keraspose.build(
        dict(
            type="RTMCCBlock",
            num_token=5,
            in_token_dims=8,
            out_token_dims=8,
            s=8,
            drop_path=0.5,
        )
    )
    eval_out = to_numpy(gau(x, training=False))
    np.testing.assert_allclose(to_numpy(gau(x)), eval_out)
    train_out = to_numpy(gau(x, training=True))
    residual = x * to_numpy(gau.res_scale.scale)
    dropped = np.all(np.isclose(train_out, residual, atol=1e-6), axis=(1, 2))
    kept = np.all(
        np.isclose(train_out - residual, 2 * (eval_out - residual), atol=1e-5),
        axis=(1, 2),
    )
    assert (dropped | kept).all()
    assert 10 < dropped.sum() < 54


def test_rope_matches_formula():
    x = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    out = to_numpy(rope(x, 1))
    half = 3
    # MMPose's "inv_freq" grows with i; angles are float32 products
    freq = -np.arange(half, dtype=np.float32) / np.float32(half)
    inv = np.float32(10000.0 ** -freq.astype(np.float64))
    ang = (np.arange(5, dtype=np.float32)[:, None] * inv).astype(np.float64)
    x1, x2 = x[..., :half], x[..., half:]
    ref = np.concatenate(
        [
            x1 * np.cos(ang) - x2 * np.sin(ang),
            x2 * np.cos(ang) + x1 * np.sin(ang),
        ],
        -1,
    )
    np.testing.assert_allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize(
    "cfg,match",
    [
        (dict(attn_type="both"), "attn_type"),
        (dict(act_fn="GELU"), "act_fn"),
        (dict(s=7, pos_enc=True), "even s"),
        (dict(dropout_rate=1.0), "dropout_rate"),
        (dict(drop_path=-0.1), "drop_path"),
        (dict(num_token=0), "num_token"),
    ],
)
def test_rtmcc_block_bad_arguments(cfg, match):
    base = dict(type="RTMCCBlock", num_token=5, in_token_dims=8, s=8)
    base["out_token_dims"] = 8
    with pytest.raises(ValueError, match=match):
        keraspose.build({**base, **cfg})


def test_rtmcc_block_more_tokens_than_num_token():
    gau = keraspose.build(
        dict(
            type="RTMCCBlock",
            num_token=3,
            in_token_dims=8,
            out_token_dims=8,
            s=8,
        )
    )
    with pytest.raises(ValueError, match="num_token=3"):
        gau(np.zeros((1, 5, 8), "float32"))

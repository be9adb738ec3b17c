import keras
import numpy as np
import pytest

import keraspose
from tests.codecs.spr_cases import DEC_CASES
from tests.codecs.spr_cases import ENC_CASES
from tests.codecs.spr_cases import HEATMAP
from tests.codecs.spr_cases import INPUT
from tests.codecs.spr_cases import K
from tests.codecs.spr_cases import spr_codec
from tests.conftest import FIXTURES
from tests.helpers import run_object_test

ENC_KEYS = (
    "heatmaps",
    "heatmap_weights",
    "displacements",
    "displacement_weights",
)


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_spr.npz"))


def _last(x):
    return np.moveaxis(x, -3, -1)


def _dec_inputs(fx, codec):
    hm = _last(fx["dec_heatmaps"])
    if not codec.generate_keypoint_heatmaps:
        hm = hm[..., -1:]
    return hm, _last(fx["dec_displacements"])


@pytest.mark.parametrize("tag", sorted(ENC_CASES))
def test_encode_matches_mmpose(fx, tag):
    codec = spr_codec(**ENC_CASES[tag])
    enc = codec.encode(fx["enc_keypoints"], fx["enc_visible"])
    assert set(enc) == set(codec.field_keys)
    for key in ENC_KEYS:
        ref = _last(fx[f"enc_{tag}_{key}"])
        assert enc[key].shape == ref.shape and enc[key].dtype == np.float32
        np.testing.assert_allclose(enc[key], ref, atol=1e-7, rtol=1e-6)
    # the displacement windows (integer truncation, overlaps) are exact
    np.testing.assert_array_equal(
        enc["displacements"] != 0,
        _last(fx[f"enc_{tag}_displacements"]) != 0,
    )


def test_encode_without_instances(fx):
    codec = spr_codec(**ENC_CASES["kpt_center"])
    enc = codec.encode(np.zeros((0, K, 2)), np.zeros((0, K)))
    for key in ENC_KEYS:
        np.testing.assert_array_equal(enc[key], _last(fx[f"enc_empty_{key}"]))


def test_encode_nan_keypoints_are_invisible(fx):
    codec = spr_codec(**ENC_CASES["kpt_center"])
    kpts, vis = fx["enc_keypoints"].copy(), fx["enc_visible"].copy()
    kpts[1, 1] = np.nan  # invisible already: same targets
    enc = codec.encode(kpts, vis)
    for key in ENC_KEYS:
        np.testing.assert_allclose(
            enc[key], _last(fx[f"enc_kpt_center_{key}"]), atol=1e-7
        )
        assert np.isfinite(enc[key]).all()


def test_default_sigmas_follow_mmpose():
    assert spr_codec().sigma == ((24 * 32) ** 0.5 / 32,)
    big = keraspose.build(
        dict(
            type="SPR",
            input_size=(512, 512),
            heatmap_size=(128, 128),
            generate_keypoint_heatmaps=True,
        )
    )
    assert big.sigma == (4.0, 2.0)


@pytest.mark.parametrize("tag", sorted(DEC_CASES))
def test_decode_matches_mmpose(fx, tag):
    codec = spr_codec(**DEC_CASES[tag])
    out = codec.decode(*_dec_inputs(fx, codec))
    m = codec.decode_max_instances
    assert out["keypoints"].shape == (2, m, K, 2)
    assert out["root_scores"].shape == (2, m)
    assert out["keypoint_scores"].shape == (2, m, K)
    assert out["instance_mask"].dtype == bool
    count = fx[f"dec_{tag}_count"]
    np.testing.assert_array_equal(out["instance_mask"].sum(1), count)
    for b, n in enumerate(count):
        assert out["instance_mask"][b, :n].all()
        np.testing.assert_allclose(
            out["keypoints"][b, :n],
            fx[f"dec_{tag}_keypoints"][b, :n],
            atol=1e-4,
        )
        np.testing.assert_allclose(
            out["root_scores"][b, :n],
            fx[f"dec_{tag}_root_scores"][b, :n],
            atol=1e-6,
        )
        ref = fx[f"dec_{tag}_keypoint_scores"][b, :n]
        if np.isnan(ref).all():  # MMPose: None without keypoint heatmaps
            np.testing.assert_array_equal(out["keypoint_scores"][b, :n], 1)
        else:
            np.testing.assert_allclose(
                out["keypoint_scores"][b, :n], ref, atol=1e-6
            )
        # padding is zero
        assert not out["keypoints"][b, n:].any()
        assert not out["root_scores"][b, n:].any()


def test_decode_one_image(fx):
    codec = spr_codec(**DEC_CASES["default"])
    hm, dp = _dec_inputs(fx, codec)
    out = codec.decode(hm[1], dp[1])
    n = fx["dec_default_count"][1]
    assert out["keypoints"].shape == (1, 30, K, 2)
    np.testing.assert_allclose(
        out["keypoints"][0, :n], fx["dec_default_keypoints"][1, :n], atol=1e-4
    )


def test_decode_device_is_jit_compatible_and_pads(fx):
    # more instances than heatmap pixels: fixed shapes through padding
    codec = spr_codec(
        sigma=(2, 1), generate_keypoint_heatmaps=True, decode_max_instances=40
    )
    hm, dp = _dec_inputs(fx, codec)
    hm, dp = hm[:, :6, :5], dp[:, :6, :5]

    class Decode(keras.layers.Layer):
        def call(self, hm, dp):
            out = codec.decode_device(hm, dp)
            return [out[key] for key in sorted(out)]

    x_hm = keras.Input(hm.shape[1:])
    x_dp = keras.Input(dp.shape[1:])
    model = keras.Model([x_hm, x_dp], Decode()(x_hm, x_dp))
    outs = model.predict([hm, dp], verbose=0)
    ref = codec.decode_device(hm, dp)
    for key, value in zip(sorted(ref), outs):
        expected = keras.ops.convert_to_numpy(ref[key])
        assert value.shape == expected.shape
        assert value.shape[1] == 40
        np.testing.assert_allclose(value, expected, atol=1e-6)
    assert not keras.ops.convert_to_numpy(ref["instance_mask"])[:, 30:].any()


def test_decode_host_puts_valid_instances_first():
    codec = spr_codec(sigma=2)
    preds = dict(
        keypoints=np.arange(2 * 3 * K * 2, dtype=np.float32).reshape(
            2, 3, K, 2
        ),
        root_scores=np.array([[0.25, 0.75, 0.5], [0.1, 0.2, 0.3]], "float32"),
        keypoint_scores=np.ones((2, 3, K), np.float32),
        instance_mask=np.array([[False, True, True], [False, False, False]]),
        extra=np.zeros(2),
    )
    out = codec.decode_host(preds)
    np.testing.assert_array_equal(
        out["instance_mask"], [[True, True, False], [False, False, False]]
    )
    np.testing.assert_array_equal(out["root_scores"], [[0.75, 0.5, 0], [0] * 3])
    np.testing.assert_array_equal(
        out["keypoints"][0, :2], preds["keypoints"][0, 1:]
    )
    assert "extra" in out
    with pytest.raises(ValueError, match="instance_mask"):
        codec.decode_host(dict(keypoints=preds["keypoints"]))


def test_spr_object_round_trip(fx):
    for cfg in (ENC_CASES["bbox_center"], DEC_CASES["top4_k3"]):
        codec = spr_codec(**cfg)
        hm, dp = _dec_inputs(fx, codec)
        run_object_test(
            dict(type="SPR", input_size=INPUT, heatmap_size=HEATMAP, **cfg),
            lambda c, hm=hm, dp=dp: c.decode(hm, dp),
        )
        run_object_test(
            dict(type="SPR", input_size=INPUT, heatmap_size=HEATMAP, **cfg),
            lambda c: c.encode(fx["enc_keypoints"], fx["enc_visible"]),
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sigma=2, generate_keypoint_heatmaps=True), "two sigmas"),
        (dict(generate_keypoint_heatmaps=True), "sigma"),
        (dict(sigma=0), "sigma"),
        (dict(root_type="center"), "root_type"),
        (dict(decode_nms_kernel=4), "decode_nms_kernel"),
        (dict(decode_max_instances=0), "decode_max_instances"),
        (dict(heatmap_size=(0, 4)), "heatmap_size"),
    ],
)
def test_bad_config_raises(kwargs, match):
    kwargs = dict(dict(input_size=INPUT, heatmap_size=HEATMAP), **kwargs)
    with pytest.raises(ValueError, match=match):
        keraspose.build(dict(type="SPR", **kwargs))


def test_bad_inputs_raise():
    codec = spr_codec(sigma=2)
    with pytest.raises(ValueError, match="keypoints"):
        codec.encode(np.zeros((K, 2)))
    with pytest.raises(ValueError, match="displacements"):
        codec.decode_device(np.zeros((1, 4, 4, 1)), np.zeros((4, 4, 6)))

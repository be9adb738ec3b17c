import keras
import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

INPUT = (32, 40)
ENC_CASES = {
    "g6": dict(sigma=6.0),
    "g_pair": dict(sigma=(4.9, 5.66), normalize=False),
    "g2_r15": dict(sigma=2.0, simcc_split_ratio=1.5),
    "g3_r25": dict(sigma=3.0, simcc_split_ratio=2.5, input_size=(33, 41)),
    "std": dict(smoothing_type="standard"),
    "std_ls": dict(smoothing_type="standard", label_smooth_weight=0.1),
    "std_r3": dict(smoothing_type="standard", simcc_split_ratio=3.0),
}
DEC_CASES = {
    "plain": dict(sigma=(3.0, 3.5)),
    "dark": dict(sigma=(3.0, 3.5), use_dark=True),
    "dark6": dict(sigma=6.0, use_dark=True),
    "vis": dict(sigma=(3.0, 3.5), decode_visibility=True),
    "vis_beta": dict(sigma=2.0, decode_visibility=True, decode_beta=20.0),
    "dark_vis": dict(sigma=(3.0, 3.5), use_dark=True, decode_visibility=True),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_simcc.npz"))


def _codec(**kwargs):
    kwargs.setdefault("input_size", INPUT)
    return keraspose.build(dict(type="SimCCLabel", **kwargs))


def test_simcc_label_object_round_trip(fx):
    sx, sy = fx["dec_simcc_x"], fx["dec_simcc_y"]
    for cfg in (
        dict(sigma=(3.0, 3.5), use_dark=True, decode_visibility=True),
        dict(smoothing_type="standard", label_smooth_weight=0.2, sigma=4),
    ):
        run_object_test(
            dict(type="SimCCLabel", input_size=INPUT, **cfg),
            lambda codec: codec.decode((sx, sy)),
        )
        run_object_test(
            dict(type="SimCCLabel", input_size=INPUT, **cfg),
            lambda codec: codec.encode(fx["enc_keypoints"], fx["enc_visible"]),
        )


@pytest.mark.parametrize("tag", sorted(ENC_CASES))
def test_encode_matches_mmpose(fx, tag):
    codec = _codec(**ENC_CASES[tag])
    enc = codec.encode(fx["enc_keypoints"], fx["enc_visible"])
    assert set(enc) == set(codec.label_keys)
    for key, suffix in (
        ("keypoint_x_labels", "x"),
        ("keypoint_y_labels", "y"),
    ):
        ref = fx[f"enc_{tag}_{suffix}"]
        assert enc[key].shape == ref.shape and enc[key].dtype == np.float32
        np.testing.assert_allclose(enc[key], ref, atol=1e-6, rtol=1e-5)
    np.testing.assert_array_equal(enc["keypoint_weights"], fx[f"enc_{tag}_w"])


def test_batch_encode_concatenates_labels(fx):
    codec = _codec(sigma=6.0)
    kpts, vis = fx["enc_keypoints"], fx["enc_visible"]
    batch = codec.batch_encode(kpts, vis)
    assert batch["keypoint_x_labels"].shape == (2, 6, 64)
    assert batch["keypoint_weights"].shape == (2, 6)
    np.testing.assert_allclose(batch["keypoint_x_labels"], fx["enc_g6_x"])


@pytest.mark.parametrize("tag", sorted(DEC_CASES))
def test_decode_matches_mmpose(fx, tag):
    codec = _codec(**DEC_CASES[tag])
    kpts, scores = codec.decode((fx["dec_simcc_x"], fx["dec_simcc_y"]))
    if codec.decode_visibility:
        scores, vis = scores  # MMPose's (keypoints, (scores, visibility))
        ref_vis = fx[f"dec_{tag}_visibility"]
        vis = to_numpy(vis)
        assert vis.shape == ref_vis.shape
        finite = np.isfinite(ref_vis)
        # With DARK, MMPose takes the visibility softmax of 450x the log of
        # OpenCV's blur, whose float32 FMA rounding (~1e-7) no keras.ops
        # convolution reproduces bit for bit: ~3e-5 differences remain.
        atol = 1e-4 if codec.use_dark else 1e-6
        np.testing.assert_allclose(vis[finite], ref_vis[finite], atol=atol)
    kpts, scores = to_numpy(kpts), to_numpy(scores)
    ref_k = fx[f"dec_{tag}_keypoints"]
    # MMPose's DARK gives NaN on an all-zero vector (0 / 0 in its blur
    # rescaling); keraspose leaves it unscaled and stays finite.
    nan = np.isnan(ref_k)
    assert np.isfinite(kpts).all()
    np.testing.assert_allclose(kpts[~nan], ref_k[~nan], atol=1e-4)
    np.testing.assert_allclose(scores, fx[f"dec_{tag}_scores"], atol=1e-6)


def test_decode_one_sample_and_mmpose_signature(fx):
    codec = _codec(sigma=(3.0, 3.5))
    kpts, scores = codec.decode(fx["dec_simcc_x"][0], fx["dec_simcc_y"][0])
    assert kpts.shape == (1, 6, 2) and scores.shape == (1, 6)
    np.testing.assert_allclose(
        to_numpy(kpts)[0], fx["dec_plain_keypoints"][0], atol=1e-6
    )


def test_decode_is_jit_compatible(fx):
    codec = _codec(sigma=(3.0, 3.5), use_dark=True, decode_visibility=True)
    x = keras.Input((6, 64))
    y = keras.Input((6, 80))

    class Decode(keras.layers.Layer):
        def call(self, inputs):
            kpts, (scores, vis) = codec.decode(inputs)
            return kpts, scores, vis

    model = keras.Model([x, y], Decode()((x, y)))
    kpts, scores, vis = model.predict(
        [fx["dec_simcc_x"], fx["dec_simcc_y"]], verbose=0
    )
    ref = fx["dec_dark_vis_keypoints"]
    ok = np.isfinite(ref)
    np.testing.assert_allclose(kpts[ok], ref[ok], atol=1e-4)


def test_decode_mixed_precision_inputs(fx):
    codec = _codec(sigma=(3.0, 3.5))
    sx = keras.ops.cast(fx["dec_simcc_x"], "bfloat16")
    sy = keras.ops.cast(fx["dec_simcc_y"], "bfloat16")
    kpts, scores = codec.decode((sx, sy))
    assert keras.backend.standardize_dtype(kpts.dtype) == "float32"
    assert keras.backend.standardize_dtype(scores.dtype) == "float32"


def test_encode_decode_round_trip():
    codec = _codec(sigma=(2.0, 2.5), use_dark=True)
    kpts = np.array([[[10.3, 20.7], [25.1, 5.4]]], "float32")
    enc = codec.encode(kpts)
    out, scores = codec.decode(
        (enc["keypoint_x_labels"], enc["keypoint_y_labels"])
    )
    # the labels are centred on round(x * 2) / 2
    np.testing.assert_allclose(to_numpy(out), [[[10.5, 20.5], [25.0, 5.5]]])
    assert (to_numpy(scores) > 0).all()


@pytest.mark.parametrize(
    "cfg,match",
    [
        (dict(simcc_split_ratio=0), "simcc_split_ratio"),
        (dict(simcc_split_ratio=-2.0), "simcc_split_ratio"),
        (dict(smoothing_type="laplace"), "smoothing_type"),
        (dict(sigma=0), "sigma"),
        (dict(sigma=(1.0, 2.0, 3.0)), "sigma"),
        (dict(sigma="wide"), "sigma"),
        (dict(sigma=(2.0, -1.0)), "sigma"),
        (
            dict(smoothing_type="standard", label_smooth_weight=1.0),
            "label_smooth_weight",
        ),
        (
            dict(smoothing_type="standard", label_smooth_weight=-0.1),
            "label_smooth_weight",
        ),
        (dict(label_smooth_weight=0.1), "standard"),
        (dict(input_size=(32,)), "input_size"),
        (dict(input_size=(0, 32)), "input_size"),
    ],
)
def test_bad_arguments_raise_at_construction(cfg, match):
    with pytest.raises(ValueError, match=match):
        _codec(**cfg)


def test_bad_encode_and_decode_inputs():
    codec = _codec()
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        codec.encode(np.zeros((6, 2)))
    with pytest.raises(ValueError, match="keypoints_visible"):
        codec.encode(np.zeros((1, 6, 2)), np.ones((1, 5)))
    with pytest.raises(ValueError, match="pair"):
        codec.decode(np.zeros((1, 6, 64), "float32"))
    with pytest.raises(ValueError, match=r"\(B, K, Wx\)"):
        codec.decode((np.zeros((1, 1, 6, 64)), np.zeros((1, 1, 6, 80))))

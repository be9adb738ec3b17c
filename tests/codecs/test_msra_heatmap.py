import numpy as np
import pytest

import keraspose
from tests.helpers import run_object_test
from tests.helpers import to_numpy

SIZES = dict(input_size=(64, 80), heatmap_size=(16, 20))
CONFIGS = {
    "msra": dict(sigma=2),
    "msra_s15": dict(sigma=1.5),
    "dark": dict(sigma=2, unbiased=True),
}


def _codec(**kwargs):
    return keraspose.build(dict(type="MSRAHeatmap", **SIZES, **kwargs))


def test_msra_heatmap_object_round_trip():
    hm = np.random.default_rng(0).uniform(size=(2, 20, 16, 3)).astype("float32")
    run_object_test(
        dict(type="MSRAHeatmap", **SIZES, sigma=2, unbiased=True),
        lambda codec: codec.decode(hm),
    )


@pytest.mark.parametrize("tag", sorted(CONFIGS))
def test_encode_matches_mmpose(mmpose_fixture, tag):
    f = mmpose_fixture
    codec = _codec(**CONFIGS[tag])
    for i, (k, v) in enumerate(zip(f["enc_keypoints"], f["enc_visible"])):
        enc = codec.encode(k, v)
        np.testing.assert_allclose(
            enc["heatmaps"],
            f[f"enc_{tag}_heatmaps"][i].transpose(1, 2, 0),
            atol=1e-5,
        )
        np.testing.assert_array_equal(
            enc["keypoint_weights"], f[f"enc_{tag}_weights"][i]
        )


@pytest.mark.parametrize(
    "tag,cfg",
    [
        ("msra", dict(sigma=2)),
        ("dark", dict(sigma=2, unbiased=True)),
        ("dark7", dict(sigma=2, unbiased=True, blur_kernel_size=7)),
    ],
)
def test_decode_matches_mmpose(mmpose_fixture, tag, cfg):
    f = mmpose_fixture
    codec = _codec(**cfg)
    kpts, scores = codec.decode(f["dec_heatmaps"].transpose(0, 2, 3, 1))
    np.testing.assert_allclose(
        to_numpy(kpts), f[f"dec_{tag}_keypoints"], atol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(scores), f[f"dec_{tag}_scores"], atol=1e-5
    )


def test_dark_decode_of_smooth_targets_matches_mmpose(mmpose_fixture):
    f = mmpose_fixture
    codec = _codec(sigma=2, unbiased=True)
    hm = f["enc_dark_heatmaps"][:2].transpose(0, 2, 3, 1)
    kpts, _ = codec.decode(hm)
    np.testing.assert_allclose(
        to_numpy(kpts), f["dec_smooth_keypoints"], atol=1e-5
    )


def test_encode_decode_round_trip_inside_image():
    codec = _codec(sigma=2, unbiased=True)
    kpts = np.array([[[20.3, 30.7], [40.2, 50.9]]], "float32")
    enc = codec.encode(kpts)
    out, _ = codec.decode(enc["heatmaps"])
    np.testing.assert_allclose(to_numpy(out), kpts, atol=0.05)


def test_nan_and_out_of_image_keypoints_get_zero_weight():
    codec = _codec(sigma=2)
    kpts = np.array(
        [[[np.nan, 3.0], [500.0, 10.0], [10.0, -300.0], [30.0, 40.0]]],
        "float32",
    )
    enc = codec.encode(kpts, np.ones((1, 4), "float32"))
    assert np.isfinite(enc["heatmaps"]).all()
    np.testing.assert_array_equal(enc["keypoint_weights"], [[0, 0, 0, 1]])
    assert enc["heatmaps"][..., :3].max() == 0
    batch = codec.batch_encode(np.repeat(kpts, 3, 0), None)
    assert batch["heatmaps"].shape == (3, 20, 16, 4)
    assert batch["keypoint_weights"].shape == (3, 4)


def test_bad_codec_inputs():
    codec = _codec(sigma=2)
    with pytest.raises(ValueError, match="single-instance"):
        codec.encode(np.zeros((2, 3, 2), "float32"))
    with pytest.raises(ValueError, match=r"shape \(N, K, 2\)"):
        codec.encode(np.zeros((3, 2), "float32"))
    with pytest.raises(ValueError, match="keypoints_visible"):
        codec.encode(np.zeros((1, 3, 2)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="sigma"):
        _codec(sigma=0)
    with pytest.raises(ValueError, match="odd blur_kernel_size"):
        _codec(sigma=2, blur_kernel_size=4)

import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

SIZES = dict(input_size=(64, 80), heatmap_size=(16, 20))


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_heatmap.npz"))


def _codec(kernel_size=11):
    return keraspose.build(
        dict(type="MegviiHeatmap", **SIZES, kernel_size=kernel_size)
    )


def _cl(x):
    return x.transpose(0, 2, 3, 1)


def test_megvii_heatmap_object_round_trip():
    hm = np.random.default_rng(0).uniform(size=(2, 20, 16, 3)) * 255
    run_object_test(
        dict(type="MegviiHeatmap", **SIZES, kernel_size=7),
        lambda codec: codec.decode(hm.astype("float32")),
    )


@pytest.mark.parametrize("ks", [11, 5, 3, 9, 23])
def test_encode_matches_mmpose_cv2(fx, ks):
    # Peaks are 255: relative 1e-6 (OpenCV sums reflected taps in another
    # order, a float32 ulp apart).
    codec = _codec(ks)
    for i, (k, v) in enumerate(zip(fx["enc_keypoints"], fx["enc_visible"])):
        enc = codec.encode(k, v)
        np.testing.assert_allclose(
            enc["heatmaps"],
            fx[f"megvii_k{ks}_heatmaps"][i].transpose(1, 2, 0),
            rtol=1e-6,
            atol=1e-6,
        )
        np.testing.assert_array_equal(
            enc["keypoint_weights"], fx[f"megvii_k{ks}_weights"][i]
        )


@pytest.mark.parametrize("ks", [11, 9, 5])
def test_decode_matches_mmpose(fx, ks):
    codec = _codec(ks)
    kpts, scores = codec.decode(_cl(fx["dec_megvii_heatmaps"]))
    np.testing.assert_allclose(
        to_numpy(kpts), fx[f"dec_megvii_k{ks}_keypoints"], atol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(scores), fx[f"dec_megvii_k{ks}_scores"], rtol=1e-6
    )


def test_encode_decode_and_quirks():
    codec = _codec()
    kpts = np.array(
        [[[33.0, 41.0], [-2.0, 5.0], [np.nan, 1.0], [64.0, 3.0]]], "float32"
    )
    enc = codec.encode(kpts, np.array([[1.0, 1.0, 1.0, 0.0]]))
    hm = enc["heatmaps"]
    # int(-0.5) == 0: a keypoint just left of the image is still encoded
    np.testing.assert_array_equal(enc["keypoint_weights"], [[1, 1, 0, 0]])
    assert hm[10, 8, 0] == 255.0 and hm[1, 0, 1] == 255.0
    assert hm[..., 2:].max() == 0
    # a ramp makes the right and lower neighbours higher
    ramp = 0.01 * (np.arange(16) + np.arange(20)[:, None])[..., None]
    out, scores = codec.decode(hm + ramp)
    # integer peak + 0.25 toward the higher neighbour + 0.5, times 4
    np.testing.assert_allclose(to_numpy(out)[0, 0], [35.0, 43.0])
    np.testing.assert_allclose(to_numpy(scores)[0, 0], 1.5, atol=0.01)
    # at the border the reflected blur exceeds the impulse's 255 (as cv2)
    assert hm[0, 0, 1] > 255.0
    # all-zero channel: (-1, -1) * scale and score 0.5 (MMPose gives NaN)
    out, scores = codec.decode(hm)
    np.testing.assert_allclose(to_numpy(out)[0, 2], [-4.0, -4.0])
    np.testing.assert_allclose(to_numpy(scores)[0, 2], 0.5)


def test_graph_encoder_matches_numpy_encoder():
    tf = pytest.importorskip("tensorflow")
    from keraspose.datasets.transforms.graph_encoding import graph_encode

    kp = np.array(
        [[[3.3, 40.1], [np.nan, 3.0], [-30, 5], [63.9, 79.9], [-0.5, 0.0]]],
        "float32",
    )
    vis = np.array([[1.0, 1.0, 1.0, 2.0, 0.0]], "float32")
    for ks in (3, 11, 23):
        codec = _codec(ks)
        ref = codec.encode(kp, vis)
        ours = graph_encode(codec, tf.constant(kp), tf.constant(vis))
        np.testing.assert_allclose(ours["heatmaps"], ref["heatmaps"], rtol=1e-6)
        np.testing.assert_array_equal(
            ours["keypoint_weights"], ref["keypoint_weights"]
        )


def test_bad_arguments():
    for ks in (4, 0, 2.0, True):
        with pytest.raises(ValueError, match="kernel_size"):
            _codec(ks)
    with pytest.raises(ValueError, match="single-instance"):
        _codec().encode(np.zeros((2, 3, 2), "float32"))
    with pytest.raises(ValueError, match=r"\(B, H, W, K\)"):
        _codec().decode(np.zeros((20, 16), "float32"))

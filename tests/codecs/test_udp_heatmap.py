import numpy as np
import pytest

import keraspose
from keraspose.codecs.utils.opencv_blur import blur_matrix
from keraspose.codecs.utils.opencv_blur import reflect101_indices
from keraspose.codecs.utils.refinement import opencv_gaussian_blur
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

SIZES = dict(input_size=(64, 80), heatmap_size=(16, 20))
# Coordinates are in input pixels (up to 80): within 1e-5, absolute or
# relative (float32 here, float64 at MMPose's end; TensorFlow's convolution
# sums in another order and DARK's Newton step amplifies it a little).
TOL = dict(atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_heatmap.npz"))


def _codec(**kwargs):
    return keraspose.build(dict(type="UDPHeatmap", **SIZES, **kwargs))


def _cl(x):
    return x.transpose(0, 2, 3, 1)


@pytest.mark.parametrize("heatmap_type", ["gaussian", "combined"])
def test_udp_heatmap_object_round_trip(heatmap_type):
    c = 3 if heatmap_type == "combined" else 1
    hm = np.random.default_rng(0).uniform(size=(2, 20, 16, 3 * c))
    run_object_test(
        dict(
            type="UDPHeatmap",
            **SIZES,
            heatmap_type=heatmap_type,
            sigma=1.5,
            radius_factor=0.1,
            blur_kernel_size=7,
        ),
        lambda codec: codec.decode(hm.astype("float32")),
    )


@pytest.mark.parametrize("tag,sigma", [("s2", 2.0), ("s15", 1.5), ("s3", 3)])
def test_gaussian_encode_matches_mmpose(fx, tag, sigma):
    codec = _codec(sigma=sigma)
    for i, (k, v) in enumerate(zip(fx["enc_keypoints"], fx["enc_visible"])):
        enc = codec.encode(k, v)
        np.testing.assert_allclose(
            enc["heatmaps"],
            fx[f"udp_gauss_{tag}_heatmaps"][i].transpose(1, 2, 0),
            atol=1e-6,
        )
        np.testing.assert_array_equal(
            enc["keypoint_weights"], fx[f"udp_gauss_{tag}_weights"][i]
        )


@pytest.mark.parametrize("tag,rf", [("default", 0.0546875), ("r15", 0.15)])
def test_combined_encode_matches_mmpose(fx, tag, rf):
    codec = _codec(heatmap_type="combined", radius_factor=rf)
    for i, (k, v) in enumerate(zip(fx["enc_keypoints"], fx["enc_visible"])):
        enc = codec.encode(k, v)
        assert enc["heatmaps"].shape == (20, 16, 18)
        np.testing.assert_allclose(
            enc["heatmaps"],
            fx[f"udp_comb_{tag}_heatmaps"][i].transpose(1, 2, 0),
            atol=1e-6,
        )
        np.testing.assert_array_equal(
            enc["keypoint_weights"], fx[f"udp_comb_{tag}_weights"][i]
        )


@pytest.mark.parametrize("tag,bks", [("b11", 11), ("b7", 7)])
def test_gaussian_decode_matches_mmpose(fx, tag, bks):
    # Includes keypoints with no positive maximum, refined through MMPose's
    # wrap-around flat indexing.
    codec = _codec(sigma=2.0, blur_kernel_size=bks)
    kpts, scores = codec.decode(_cl(fx["dec_udp_gauss_heatmaps"]))
    np.testing.assert_allclose(
        to_numpy(kpts), fx[f"dec_udp_gauss_{tag}_keypoints"], **TOL
    )
    np.testing.assert_allclose(
        to_numpy(scores), fx[f"dec_udp_gauss_{tag}_scores"], atol=1e-6
    )


@pytest.mark.parametrize(
    "tag,size,rf", [("default", (16, 20), 0.0546875), ("small", (8, 10), 0.15)]
)
def test_combined_decode_matches_mmpose(fx, tag, size, rf):
    codec = keraspose.build(
        dict(
            type="UDPHeatmap",
            input_size=(64, 80),
            heatmap_size=size,
            heatmap_type="combined",
            radius_factor=rf,
        )
    )
    kpts, scores = codec.decode(_cl(fx[f"dec_udp_comb_{tag}_heatmaps"]))
    np.testing.assert_allclose(
        to_numpy(kpts), fx[f"dec_udp_comb_{tag}_keypoints"], **TOL
    )
    np.testing.assert_allclose(
        to_numpy(scores), fx[f"dec_udp_comb_{tag}_scores"], atol=1e-6
    )


@pytest.mark.parametrize("ks", [3, 5, 7, 9, 11, 23])
def test_opencv_gaussian_blur_matches_cv2(fx, ks):
    # (5, 7) map: kernels up to 23 reflect several times (BORDER_REFLECT_101)
    x = fx["cv_blur_input"]
    ref = fx[f"cv_blur_k{ks}"]
    ours = opencv_gaussian_blur(x[None, :, :, None], ks)
    np.testing.assert_allclose(to_numpy(ours)[0, :, :, 0], ref, atol=1e-6)
    host = blur_matrix(5, ks) @ x @ blur_matrix(7, ks).T
    np.testing.assert_allclose(host, ref, atol=1e-6)


def test_reflect101_indices():
    assert reflect101_indices(4, 2).tolist() == [2, 1, 0, 1, 2, 3, 2, 1]
    assert reflect101_indices(3, 5).tolist() == [
        *[1, 0, 1, 2, 1],
        *[0, 1, 2],
        *[1, 0, 1, 2, 1],
    ]
    assert reflect101_indices(1, 2).tolist() == [0] * 5


def test_decode_scale_quirk_and_round_trip():
    # Encode uses (input - 1) / (heatmap - 1), decode input / (heatmap - 1).
    codec = _codec(sigma=2.0)
    kpts = np.array([[[20.3, 30.7], [40.2, 50.9]]], "float32")
    enc = codec.encode(kpts)
    out, scores = codec.decode(enc["heatmaps"])
    hm_kpts = kpts / codec.scale_factor
    expected = hm_kpts / np.array([15.0, 19.0]) * np.array([64.0, 80.0])
    np.testing.assert_allclose(to_numpy(out), expected, atol=0.02)
    np.testing.assert_allclose(to_numpy(scores), 1.0, atol=0.05)
    comb = _codec(heatmap_type="combined")
    out, _ = comb.decode(comb.encode(kpts)["heatmaps"])
    np.testing.assert_allclose(to_numpy(out), expected, atol=1e-4)


def test_nan_and_out_of_image_keypoints():
    codec = _codec()
    kpts = np.array(
        [[[np.nan, 3.0], [500.0, 10.0], [10.0, -300.0], [30.0, 40.0]]],
        "float32",
    )
    enc = codec.encode(kpts, np.ones((1, 4), "float32"))
    assert np.isfinite(enc["heatmaps"]).all()
    np.testing.assert_array_equal(enc["keypoint_weights"], [[0, 0, 0, 1]])
    assert enc["heatmaps"][..., :3].max() == 0
    comb = _codec(heatmap_type="combined").encode(kpts, None)
    assert np.isfinite(comb["heatmaps"]).all()
    # MMPose's combined encoding keeps out-of-image keypoints' weights
    np.testing.assert_array_equal(comb["keypoint_weights"], [[0, 1, 1, 1]])
    assert comb["heatmaps"][..., :3].max() == 0
    batch = codec.batch_encode(np.repeat(kpts, 3, 0), None)
    assert batch["heatmaps"].shape == (3, 20, 16, 4)
    assert batch["keypoint_weights"].shape == (3, 4)


@pytest.mark.parametrize("heatmap_type", ["gaussian", "combined"])
def test_decode_jit_and_mixed_precision(heatmap_type):
    import keras

    codec = _codec(heatmap_type=heatmap_type)
    kpts = np.array([[[20.3, 30.7], [40.2, 50.9]]], "float32")
    hm = codec.batch_encode(np.repeat(kpts, 2, 0))["heatmaps"]
    eager = to_numpy(codec.decode(hm))
    model = keras.Sequential([keras.layers.Lambda(codec.decode)])
    compiled = model.predict(hm, verbose=0)
    np.testing.assert_allclose(compiled[0], eager[0], atol=1e-5)
    half = to_numpy(codec.decode(keras.ops.cast(hm, "bfloat16")))
    assert half[0].dtype == np.float32
    np.testing.assert_allclose(half[0], eager[0], atol=0.5)


@pytest.mark.parametrize("heatmap_type", ["gaussian", "combined"])
def test_graph_encoder_matches_numpy_encoder(heatmap_type):
    tf = pytest.importorskip("tensorflow")
    from keraspose.datasets.transforms.graph_encoding import graph_encode

    kp = np.array(
        [
            [
                [3.3, 40.1],
                [np.nan, 3.0],
                [-30, 5],
                [63.0, 79.0],
                [-3.1, -2.2],
                [0.0, 0.0],
                [31.5, 39.9],
            ]
        ],
        "float32",
    )
    vis = np.array([[1.0, 1.0, 1.0, 0.0, 1.0, 2.0, 1.0]], "float32")
    for sigma in (2.0, 1.5, 3):
        codec = _codec(heatmap_type=heatmap_type, sigma=sigma)
        ref = codec.encode(kp, vis)
        ours = graph_encode(codec, tf.constant(kp), tf.constant(vis))
        np.testing.assert_allclose(ours["heatmaps"], ref["heatmaps"], atol=1e-6)
        np.testing.assert_array_equal(
            ours["keypoint_weights"], ref["keypoint_weights"]
        )


def test_bad_arguments():
    with pytest.raises(ValueError, match="heatmap_type"):
        _codec(heatmap_type="offset")
    with pytest.raises(ValueError, match="sigma"):
        _codec(sigma=0)
    with pytest.raises(ValueError, match="radius_factor"):
        _codec(radius_factor=-1)
    with pytest.raises(ValueError, match="blur_kernel_size"):
        _codec(blur_kernel_size=4)
    with pytest.raises(ValueError, match="at least 2x2"):
        keraspose.build(
            dict(type="UDPHeatmap", input_size=(8, 8), heatmap_size=(1, 4))
        )
    codec = _codec()
    with pytest.raises(ValueError, match="single-instance"):
        codec.encode(np.zeros((2, 3, 2), "float32"))
    with pytest.raises(ValueError, match="3K channels"):
        _codec(heatmap_type="combined").decode(np.zeros((1, 20, 16, 4)))

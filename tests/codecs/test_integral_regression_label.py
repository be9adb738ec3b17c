import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

SIZES = dict(input_size=(64, 80), heatmap_size=(16, 20))
CONFIGS = {
    "norm": dict(sigma=2),
    "raw": dict(sigma=2, normalize=False),
    "dark": dict(sigma=1.5, unbiased=True),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_regression.npz"))


def _codec(**kwargs):
    return keraspose.build(
        dict(type="IntegralRegressionLabel", **SIZES, **kwargs)
    )


def test_integral_regression_label_object_round_trip():
    out = np.random.default_rng(0).uniform(size=(2, 3, 2)).astype("float32")
    run_object_test(
        dict(
            type="IntegralRegressionLabel",
            **SIZES,
            sigma=2,
            unbiased=True,
            blur_kernel_size=7,
            normalize=False,
        ),
        lambda codec: codec.decode(out),
    )


@pytest.mark.parametrize("tag", sorted(CONFIGS))
def test_encode_matches_mmpose(fx, tag):
    codec = _codec(**CONFIGS[tag])
    for i, (k, v) in enumerate(zip(fx["ipr_keypoints"], fx["ipr_visible"])):
        enc = codec.encode(k, v)
        assert set(enc) == {"keypoint_labels", "heatmaps", "keypoint_weights"}
        np.testing.assert_allclose(
            enc["heatmaps"],
            fx[f"ipr_{tag}_heatmaps"][i].transpose(1, 2, 0),
            atol=1e-6,
            rtol=1e-5,
        )
        np.testing.assert_array_equal(
            enc["keypoint_labels"], fx[f"ipr_{tag}_keypoint_labels"][i]
        )
        np.testing.assert_array_equal(
            enc["keypoint_weights"], fx[f"ipr_{tag}_keypoint_weights"][i]
        )
    # weights are RegressionLabel's: outside keypoints get 0 even when their
    # Gaussian reaches the heatmap
    assert fx["ipr_norm_keypoint_weights"][0, 0, 3] == 0
    assert fx["ipr_norm_heatmaps"][0, 3].sum() > 0


@pytest.mark.parametrize("tag", sorted(CONFIGS))
def test_decode_matches_mmpose(fx, tag):
    kpts, scores = _codec(**CONFIGS[tag]).decode(fx["reg_dec2"])
    np.testing.assert_allclose(
        to_numpy(kpts), fx[f"ipr_{tag}_dec_keypoints"], rtol=1e-6, atol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(scores), fx[f"ipr_{tag}_dec_scores"], atol=1e-6
    )


def test_batch_encode_shapes():
    codec = _codec(sigma=2)
    kpts = np.random.default_rng(1).uniform(0, 60, size=(3, 4, 2))
    out = codec.batch_encode(kpts)
    assert out["heatmaps"].shape == (3, 20, 16, 4)
    assert out["keypoint_labels"].shape == (3, 4, 2)
    assert out["keypoint_weights"].shape == (3, 4)
    np.testing.assert_allclose(out["heatmaps"].sum(axis=(1, 2)), 1, atol=1e-5)


@pytest.mark.parametrize("tag", sorted(CONFIGS))
def test_graph_encoder_equals_encode(fx, tag):
    tf = pytest.importorskip("tensorflow")
    from keraspose.datasets.transforms.graph_encoding import graph_encode

    codec = _codec(**CONFIGS[tag])
    for k, v in zip(fx["ipr_keypoints"], fx["ipr_visible"]):
        k = k.copy()
        k[0, 6] = np.nan
        ref = codec.encode(k, v)
        ours = graph_encode(codec, tf.constant(k), tf.constant(v))
        assert set(ours) == set(ref)
        for key in ref:
            np.testing.assert_allclose(
                np.asarray(ours[key]), ref[key], atol=1e-7, rtol=1e-6
            )


def test_errors():
    with pytest.raises(ValueError, match="sigma"):
        _codec(sigma=0)
    with pytest.raises(ValueError, match="single-instance"):
        _codec(sigma=2).encode(np.zeros((2, 3, 2)))

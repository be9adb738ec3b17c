import numpy as np
import pytest

import keraspose
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

INPUT = (48, 64)


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_regression.npz"))


def _codec():
    return keraspose.build(dict(type="RegressionLabel", input_size=INPUT))


def test_regression_label_object_round_trip():
    out = np.random.default_rng(0).uniform(size=(2, 3, 4)).astype("float32")
    run_object_test(
        dict(type="RegressionLabel", input_size=INPUT),
        lambda codec: codec.decode(out),
    )


def test_encode_matches_mmpose(fx):
    codec = _codec()
    for i, (k, v) in enumerate(zip(fx["reg_keypoints"], fx["reg_visible"])):
        enc = codec.encode(k, v)
        assert set(enc) == {"keypoint_labels", "keypoint_weights"}
        assert enc["keypoint_labels"].dtype == np.float32
        np.testing.assert_array_equal(
            enc["keypoint_labels"], fx["reg_labels"][i]
        )
        np.testing.assert_array_equal(
            enc["keypoint_weights"], fx["reg_weights"][i]
        )
    # the fixture covers borders, outside and invisible keypoints
    assert fx["reg_weights"][0, 0, :7].tolist() == [1, 1, 0, 0, 0, 0, 0]
    enc = codec.encode(fx["reg_keypoints"][1])
    np.testing.assert_array_equal(
        enc["keypoint_labels"], fx["reg_labels_novis"]
    )
    np.testing.assert_array_equal(
        enc["keypoint_weights"], fx["reg_weights_novis"]
    )


@pytest.mark.parametrize("dim", ["2", "4"])
def test_decode_matches_mmpose(fx, dim):
    kpts, scores = _codec().decode(fx[f"reg_dec{dim}"])
    np.testing.assert_allclose(
        to_numpy(kpts), fx[f"reg_dec{dim}_keypoints"], rtol=1e-6, atol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(scores), fx[f"reg_dec{dim}_scores"], atol=1e-6
    )


def test_batch_encode_and_unbatched_decode():
    codec = _codec()
    kpts = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [np.nan, 1.0]]])
    out = codec.batch_encode(kpts, np.ones((2, 2)))
    assert out["keypoint_labels"].shape == (2, 2, 2)
    assert out["keypoint_weights"].tolist() == [[1, 1], [1, 0]]
    # a non-finite keypoint gets label 0 and weight 0 (not NaN)
    assert out["keypoint_labels"][1, 1].tolist() == [0.0, 0.0]
    k, s = codec.decode(out["keypoint_labels"][0])
    np.testing.assert_allclose(to_numpy(k), kpts[:1], atol=1e-5)
    assert to_numpy(s).shape == (1, 2)


def test_graph_encoder_equals_encode(fx):
    tf = pytest.importorskip("tensorflow")
    from keraspose.datasets.transforms.graph_encoding import graph_encode

    codec = _codec()
    for k, v in zip(fx["reg_keypoints"], fx["reg_visible"]):
        k = k.copy()
        k[1, 3] = np.nan
        ref = codec.encode(k, v)
        ours = graph_encode(codec, tf.constant(k), tf.constant(v))
        assert set(ours) == set(ref)
        for key in ref:
            np.testing.assert_array_equal(np.asarray(ours[key]), ref[key])


def test_errors():
    with pytest.raises(ValueError, match="input_size"):
        keraspose.build(dict(type="RegressionLabel", input_size=(0, 3)))
    codec = _codec()
    with pytest.raises(ValueError, match=r"\(B, K, 2\)"):
        codec.decode(np.zeros((1, 3, 3), "float32"))
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        codec.encode(np.zeros((3, 2)))

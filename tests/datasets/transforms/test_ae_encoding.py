"""The tf.data twin of AssociativeEmbedding.encode gives the same numbers."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.datasets.transforms.graph_encoding import graph_encode  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402

CASES = {
    "default": dict(),
    "s2": dict(sigma=2.0),
    "udp": dict(sigma=1.5, use_udp=True),
}
SIG = (
    tf.TensorSpec((None, 5, 2), tf.float32),
    tf.TensorSpec((None, 5), tf.float32),
)


def _codec(tag):
    return keraspose.build(
        dict(
            type="AssociativeEmbedding",
            input_size=(48, 64),
            heatmap_size=(12, 16),
            **CASES[tag],
        )
    )


@pytest.mark.parametrize("tag", sorted(CASES))
def test_graph_encoder_equals_encode(tag):
    f = np.load(FIXTURES / "mmpose_ae.npz")
    codec = _codec(tag)
    fn = tf.function(
        lambda k, v: graph_encode(codec, k, v), input_signature=SIG
    )
    for i, (kpts, vis) in enumerate(zip(f["enc_keypoints"], f["enc_visible"])):
        ref = codec.encode(kpts, vis)
        ours = fn(tf.constant(kpts), tf.constant(vis))
        assert set(ours) == set(ref)
        for key in ref:
            assert tuple(ours[key].shape) == ref[key].shape
            assert ours[key].dtype.as_numpy_dtype == ref[key].dtype
        # float32 exp of TensorFlow and NumPy differ in the last bits
        np.testing.assert_allclose(
            ours["heatmaps"].numpy(), ref["heatmaps"], atol=1e-6
        )
        np.testing.assert_allclose(
            ours["heatmaps"].numpy(),
            f[f"enc_{tag}_heatmaps"][i].transpose(1, 2, 0),
            atol=1e-6,
        )
        for key in ("keypoint_indices", "keypoint_weights"):
            np.testing.assert_array_equal(ours[key].numpy(), ref[key])
        np.testing.assert_array_equal(
            ours["keypoint_indices"].numpy(), f[f"enc_{tag}_indices"][i]
        )


def test_graph_encoder_no_instance_and_nan():
    codec = _codec("default")
    fn = tf.function(
        lambda k, v: graph_encode(codec, k, v), input_signature=SIG
    )
    out = fn(tf.zeros((0, 5, 2)), tf.zeros((0, 5)))
    assert out["heatmaps"].shape == (16, 12, 5)
    assert not out["heatmaps"].numpy().any()
    assert out["keypoint_indices"].shape == (0, 5, 2)
    kpts = np.full((1, 5, 2), np.nan, np.float32)
    kpts[0, 0] = [10.0, 20.0]
    vis = np.ones((1, 5), np.float32)
    ref = codec.encode(kpts, vis)
    out = fn(tf.constant(kpts), tf.constant(vis))
    np.testing.assert_array_equal(
        out["keypoint_indices"].numpy(), ref["keypoint_indices"]
    )
    np.testing.assert_allclose(
        out["heatmaps"].numpy(), ref["heatmaps"], atol=1e-6
    )

"""The tf.data twin of SimCCLabel.encode gives the same numbers."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.datasets.transforms.graph_encoding import graph_encode  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402

SUFFIX = dict(
    keypoint_x_labels="x", keypoint_y_labels="y", keypoint_weights="w"
)
CASES = {
    "g6": dict(sigma=6.0),
    "g_pair": dict(sigma=(4.9, 5.66), normalize=False),
    "g2_r15": dict(sigma=2.0, simcc_split_ratio=1.5),
    "g3_r25": dict(sigma=3.0, simcc_split_ratio=2.5, input_size=(33, 41)),
    "std": dict(smoothing_type="standard"),
    "std_ls": dict(smoothing_type="standard", label_smooth_weight=0.1),
    "std_r3": dict(smoothing_type="standard", simcc_split_ratio=3.0),
}


@pytest.mark.parametrize("tag", sorted(CASES))
def test_graph_encoder_equals_encode(tag):
    f = np.load(FIXTURES / "mmpose_simcc.npz")
    cfg = dict(CASES[tag])
    codec = keraspose.build(
        dict(
            type="SimCCLabel", input_size=cfg.pop("input_size", (32, 40)), **cfg
        )
    )
    kpts, vis = f["enc_keypoints"], f["enc_visible"]
    ref = codec.encode(kpts, vis)
    fn = tf.function(lambda k, v: graph_encode(codec, k, v))
    ours = fn(tf.constant(kpts), tf.constant(vis))
    assert set(ours) == set(ref)
    for key in ref:
        assert tuple(ours[key].shape) == ref[key].shape
        assert ours[key].dtype == tf.float32
        # float32 exp of TensorFlow and NumPy differ by at most an ulp
        np.testing.assert_allclose(
            ours[key].numpy(), ref[key], rtol=1e-6, atol=1e-9
        )
        # ... and both equal MMPose
        np.testing.assert_allclose(
            ours[key].numpy(), f[f"enc_{tag}_{SUFFIX[key]}"], atol=1e-6
        )


def test_generate_target_with_simcc_label_single_instance():
    codec = dict(type="SimCCLabel", input_size=(32, 40), sigma=(2.0, 3.0))
    t = keraspose.build(dict(type="GenerateTarget", encoder=codec))
    sample = {
        "transformed_keypoints": tf.constant(
            [[3.2, 5.6], [34.0, 2.0], [np.nan, 1.0]], tf.float32
        ),
        "keypoints_visible": tf.constant([1.0, 1.0, 1.0]),
    }
    out = t(sample)
    assert out["keypoint_x_labels"].shape == (3, 64)
    assert out["keypoint_y_labels"].shape == (3, 80)
    np.testing.assert_array_equal(out["keypoint_weights"], [1.0, 1.0, 0.0])
    ref = keraspose.build(codec).encode(
        np.array([[[3.2, 5.6], [34.0, 2.0], [np.nan, 1.0]]], "float32")
    )
    np.testing.assert_allclose(
        out["keypoint_x_labels"],
        ref["keypoint_x_labels"][0],
        rtol=1e-6,
        atol=1e-9,  # TensorFlow flushes float32 denormals to zero
    )

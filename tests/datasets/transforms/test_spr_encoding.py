"""The tf.data twin of SPR.encode gives the same numbers (and MMPose's)."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.datasets.transforms.graph_encoding import graph_encode  # noqa: E402
from tests.codecs.spr_cases import ENC_CASES as CASES  # noqa: E402
from tests.codecs.spr_cases import HEATMAP  # noqa: E402
from tests.codecs.spr_cases import INPUT  # noqa: E402
from tests.codecs.spr_cases import K  # noqa: E402
from tests.codecs.spr_cases import spr_codec  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_spr.npz"))


def _graph_encoder(codec):
    return tf.function(
        lambda k, v: graph_encode(codec, k, v),
        input_signature=[
            tf.TensorSpec([None, K, 2], tf.float32),
            tf.TensorSpec([None, K], tf.float32),
        ],
    )


@pytest.mark.parametrize("tag", sorted(CASES))
def test_graph_encoder_equals_encode(fx, tag):
    codec = spr_codec(**CASES[tag])
    kpts, vis = fx["enc_keypoints"], fx["enc_visible"]
    ref = codec.encode(kpts, vis)
    ours = _graph_encoder(codec)(tf.constant(kpts), tf.constant(vis))
    assert set(ours) == set(ref)
    for key in ref:
        assert tuple(ours[key].shape) == ref[key].shape
        assert ours[key].dtype == tf.float32
        # float32 exp of TensorFlow and NumPy differ by at most an ulp
        np.testing.assert_allclose(
            ours[key].numpy(), ref[key], rtol=1e-6, atol=1e-9
        )
        np.testing.assert_allclose(
            ours[key].numpy(),
            np.moveaxis(fx[f"enc_{tag}_{key}"], 0, -1),
            rtol=1e-6,
            atol=1e-7,
        )
    # displacement windows and overlap choices are exact
    np.testing.assert_array_equal(
        ours["displacements"].numpy(), ref["displacements"]
    )
    np.testing.assert_array_equal(
        ours["displacement_weights"].numpy(), ref["displacement_weights"]
    )


def test_graph_encoder_without_instances(fx):
    codec = spr_codec(**CASES["kpt_center"])
    ours = _graph_encoder(codec)(tf.zeros([0, K, 2]), tf.zeros([0, K]))
    for key, value in ours.items():
        np.testing.assert_array_equal(
            value.numpy(), np.moveaxis(fx[f"enc_empty_{key}"], 0, -1)
        )


def test_generate_target_with_spr_multi_instance(fx):
    codec = dict(
        type="SPR",
        input_size=INPUT,
        heatmap_size=HEATMAP,
        **CASES["kpt_center"],
    )
    t = keraspose.build(dict(type="GenerateTarget", encoder=codec))
    kpts, vis = fx["enc_keypoints"], fx["enc_visible"]
    kpts = kpts.copy()
    kpts[4, 0] = np.nan  # invisible instance: NaN changes nothing
    out = t(
        {
            "transformed_keypoints": tf.constant(kpts),
            "keypoints_visible": tf.constant(vis),
        }
    )
    for key in ("heatmaps", "displacements", "displacement_weights"):
        np.testing.assert_allclose(
            out[key].numpy(),
            np.moveaxis(fx[f"enc_kpt_center_{key}"], 0, -1),
            rtol=1e-6,
            atol=1e-7,
        )

import keras
import numpy as np
import pytest

import keraspose
from keraspose.codecs.utils.heatmap_nms import batch_heatmap_nms
from tests.conftest import FIXTURES
from tests.helpers import run_object_test
from tests.helpers import to_numpy

ENC_SIZES = dict(input_size=(48, 64), heatmap_size=(12, 16))
DEC_SIZES = dict(input_size=(96, 80), heatmap_size=(24, 20), sigma=2.0)
ORDER = [0, 1, 2, 4, 3]
ENC_CASES = {
    "default": dict(),
    "s2": dict(sigma=2.0),
    "udp": dict(sigma=1.5, use_udp=True),
}
# (tag dim L, codec arguments); see tools/make_mmpose_ae_fixtures.py
DEC_CASES = {
    "plain": (1, dict(decode_center_shift=0.5, decode_topk=6)),
    "udp": (1, dict(use_udp=True, decode_gaussian_kernel=3, decode_topk=6)),
    "udp_k5": (1, dict(use_udp=True, decode_gaussian_kernel=5, decode_topk=8)),
    "flip_max2": (
        2,
        dict(decode_max_instances=2, decode_nms_kernel=3, decode_topk=5),
    ),
    "thr": (
        1,
        dict(decode_tag_thr=0.4, decode_keypoint_thr=0.2, decode_topk=4),
    ),
}
# Coordinates in input pixels (up to 96): within 1e-5, absolute or relative.
# UDP refinement blurs on the device (float32, another summation order than
# OpenCV) and its Newton step amplifies that a little.
TOL = dict(atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_ae.npz"))


def _cl(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _dec_codec(**kwargs):
    return keraspose.build(
        dict(
            type="AssociativeEmbedding",
            **DEC_SIZES,
            decode_keypoint_order=ORDER,
            **kwargs,
        )
    )


def test_object_round_trip(fx):
    hm, tags = _cl(fx["dec_heatmaps_l1"]), _cl(fx["dec_tags_l1"])
    codec = run_object_test(
        dict(
            type="AssociativeEmbedding",
            **DEC_SIZES,
            use_udp=True,
            decode_keypoint_order=ORDER,
            decode_nms_kernel=3,
            decode_gaussian_kernel=5,
            decode_keypoint_thr=0.2,
            decode_tag_thr=0.8,
            decode_topk=7,
            decode_center_shift=0.5,
            decode_max_instances=6,
        ),
        lambda c: c.decode(hm, tags),
    )
    assert codec.label_keys == ("keypoint_indices", "keypoint_weights")
    assert codec.field_keys == ("heatmaps",)


@pytest.mark.parametrize("tag", sorted(ENC_CASES))
def test_encode_matches_mmpose(fx, tag):
    codec = keraspose.build(
        dict(type="AssociativeEmbedding", **ENC_SIZES, **ENC_CASES[tag])
    )
    for i, (k, v) in enumerate(zip(fx["enc_keypoints"], fx["enc_visible"])):
        enc = codec.encode(k, v)
        assert enc["heatmaps"].shape == (16, 12, 5)
        assert enc["keypoint_indices"].dtype == np.int32
        np.testing.assert_allclose(
            enc["heatmaps"],
            fx[f"enc_{tag}_heatmaps"][i].transpose(1, 2, 0),
            atol=1e-6,
        )
        np.testing.assert_array_equal(
            enc["keypoint_indices"], fx[f"enc_{tag}_indices"][i]
        )
        np.testing.assert_array_equal(
            enc["keypoint_weights"], fx[f"enc_{tag}_weights"][i]
        )


def test_encode_default_sigma_and_no_instance():
    codec = keraspose.build(dict(type="AssociativeEmbedding", **ENC_SIZES))
    assert codec.sigma == pytest.approx((12 * 16) ** 0.5 / 64)
    enc = codec.encode(np.zeros((0, 3, 2)), np.zeros((0, 3)))
    assert enc["heatmaps"].shape == (16, 12, 3)
    assert not enc["heatmaps"].any()
    assert enc["keypoint_indices"].shape == (0, 3, 2)
    # NaN keypoints are invisible and invalid
    enc = codec.encode(np.full((1, 3, 2), np.nan), np.ones((1, 3)))
    assert not enc["heatmaps"].any()
    assert not enc["keypoint_indices"][..., 1].any()


@pytest.mark.parametrize("tag", sorted(DEC_CASES))
def test_decode_matches_mmpose(fx, tag):
    tag_dim, kwargs = DEC_CASES[tag]
    codec = _dec_codec(**kwargs)
    out = codec.decode(
        _cl(fx[f"dec_heatmaps_l{tag_dim}"]), _cl(fx[f"dec_tags_l{tag_dim}"])
    )
    count = fx[f"dec_{tag}_count"]
    m = fx[f"dec_{tag}_keypoints"].shape[1]
    expected_m = kwargs.get("decode_max_instances") or m
    assert out["keypoints"].shape == (2, expected_m, 5, 2)
    np.testing.assert_array_equal(out["instance_mask"].sum(1), count)
    for b, n in enumerate(count):
        assert out["instance_mask"][b, :n].all()
        np.testing.assert_allclose(
            out["keypoints"][b, :n], fx[f"dec_{tag}_keypoints"][b, :n], **TOL
        )
        np.testing.assert_allclose(
            out["keypoint_scores"][b, :n],
            fx[f"dec_{tag}_scores"][b, :n],
            **TOL,
        )
        np.testing.assert_allclose(
            out["bbox_scores"][b, :n],
            fx[f"dec_{tag}_instance_scores"][b, :n],
            **TOL,
        )
        assert not out["keypoints"][b, n:].any()


class _DecodeDevice(keras.layers.Layer):
    def __init__(self, codec, **kwargs):
        super().__init__(**kwargs)
        self.codec = codec

    def call(self, heatmaps, tags):
        return self.codec.decode_device(heatmaps, tags)


@pytest.mark.parametrize("use_udp", [False, True])
def test_decode_device_compiled_equals_eager(fx, use_udp):
    codec = _dec_codec(use_udp=use_udp, decode_topk=6)
    hm, tags = _cl(fx["dec_heatmaps_l2"]), _cl(fx["dec_tags_l2"])
    eager = to_numpy(codec.decode_device(hm, tags))
    assert eager["topk_vals"].shape == (2, 5, 6)
    assert eager["topk_tags"].shape == (2, 5, 6, 2)
    assert eager["topk_locs"].shape == (2, 5, 6, 2)
    hm_in = keras.Input(shape=hm.shape[1:])
    tag_in = keras.Input(shape=tags.shape[1:])
    model = keras.Model([hm_in, tag_in], _DecodeDevice(codec)(hm_in, tag_in))
    compiled = model.predict([hm, tags], batch_size=2, verbose=0)
    for key, value in eager.items():
        np.testing.assert_allclose(compiled[key], value, atol=1e-6)
    # mixed precision inputs are decoded in float32
    half = to_numpy(
        codec.decode_device(hm.astype("float16"), tags.astype("float16"))
    )
    assert half["topk_vals"].dtype == np.float32


def test_decode_pads_and_handles_empty_images(fx):
    codec = _dec_codec(decode_topk=6)
    hm, tags = _cl(fx["dec_heatmaps_l1"]), _cl(fx["dec_tags_l1"])
    hm[1] = 0.0  # no candidate in the second image
    out = codec.decode(hm, tags)
    count = fx["dec_plain_count"][0]
    assert out["keypoints"].shape == (2, count, 5, 2)
    assert out["instance_mask"][0].all()
    assert not out["instance_mask"][1].any()
    out = codec.decode(np.zeros_like(hm), tags)
    assert out["keypoints"].shape == (2, 1, 5, 2)
    assert not out["instance_mask"].any()
    # one unbatched image
    single = codec.decode(hm[0], tags[0])
    assert single["keypoints"].shape[0] == 1


@pytest.mark.parametrize("ks", [3, 5])
def test_batch_heatmap_nms_matches_mmpose(fx, ks):
    out = to_numpy(batch_heatmap_nms(_cl(fx["nms_input"]), ks))
    np.testing.assert_array_equal(out, _cl(fx[f"nms_k{ks}"]))


@pytest.mark.parametrize("ks", [0, 2, 4.0, True])
def test_batch_heatmap_nms_rejects_bad_kernel(ks):
    with pytest.raises(ValueError, match="odd"):
        batch_heatmap_nms(np.zeros((1, 4, 4, 1), "float32"), ks)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(decode_nms_kernel=4), "decode_nms_kernel"),
        (dict(decode_gaussian_kernel=2), "decode_gaussian_kernel"),
        (dict(decode_keypoint_order=[0, 2]), "permutation"),
        (dict(decode_topk=0), "decode_topk"),
        (dict(decode_max_instances=0), "decode_max_instances"),
        (dict(sigma=-1.0), "sigma"),
        (dict(heatmap_size=(1, 20), use_udp=True), "heatmap_size"),
    ],
)
def test_bad_config_raises(kwargs, match):
    cfg = dict(type="AssociativeEmbedding", **DEC_SIZES)
    cfg.update(kwargs)
    with pytest.raises(ValueError, match=match):
        keraspose.build(cfg)


def test_bad_decode_inputs_raise():
    codec = _dec_codec()
    hm = np.zeros((1, 20, 24, 5), "float32")
    with pytest.raises(ValueError, match="L\\*K"):
        codec.decode(hm, np.zeros((1, 20, 24, 7), "float32"))
    with pytest.raises(ValueError, match="decode_keypoint_order"):
        codec.decode(hm[..., :4], np.zeros((1, 20, 24, 4), "float32"))
    with pytest.raises(ValueError, match="decode_topk"):
        codec.decode(hm[:, :2, :2], np.zeros((1, 2, 2, 5), "float32"))

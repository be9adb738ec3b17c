"""Every transform: builds from its dict, config round trip, behaviour."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.datasets.transforms import Compose  # noqa: E402
from keraspose.registry import to_config  # noqa: E402

K = 5
FLIP = [0, 2, 1, 4, 3]


def _sample(seed=0, h=60, w=80):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    kpts = rng.uniform(10, 50, (K, 2)).astype(np.float32)
    return {
        "img": tf.constant(img),
        "img_shape": tf.constant([h, w], tf.int32),
        "bbox": tf.constant([5.0, 8.0, 60.0, 52.0]),
        "keypoints": tf.constant(kpts),
        "keypoints_visible": tf.constant([1.0, 1.0, 0.0, 1.0, 1.0]),
        "flip_indices": tf.constant(FLIP, tf.int32),
        "upper_body_ids": tf.constant([0, 1, 2], tf.int32),
        "lower_body_ids": tf.constant([3, 4], tf.int32),
        "dataset_keypoint_weights": tf.constant([1.0, 2.0, 2.0, 1.0, 1.0]),
    }


CONFIGS = [
    dict(type="GetBBoxCenterScale", padding=1.5),
    dict(type="RandomFlip", prob=0.5, direction="horizontal"),
    dict(
        type="RandomFlip", prob=[0.3, 0.3], direction=["horizontal", "vertical"]
    ),
    dict(type="RandomHalfBody", prob=1.0, min_total_keypoints=2),
    dict(type="RandomBBoxTransform", rotate_prob=1.0),
    dict(type="TopdownAffine", input_size=(32, 48), use_udp=True),
    dict(type="PhotometricDistortion"),
]


def _prepared(seed=0):
    s = _sample(seed)
    return keraspose.build(dict(type="GetBBoxCenterScale"))(s)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c["type"])
def test_transform_config_round_trip_same_outputs(cfg):
    t = keraspose.build(cfg)
    rebuilt = keraspose.build(to_config(t))
    assert to_config(rebuilt) == to_config(t)
    seed = tf.constant([3, 4], tf.int64)
    a = t(_prepared(), seed)
    b = rebuilt(_prepared(), seed)
    assert a.keys() == b.keys()
    for key in a:
        if hasattr(a[key], "numpy"):
            np.testing.assert_array_equal(
                np.asarray(a[key]), np.asarray(b[key])
            )


def test_stateless_seeds_reproducible_and_varying():
    pipe = Compose(
        [
            dict(type="GetBBoxCenterScale"),
            dict(type="RandomFlip"),
            dict(type="RandomBBoxTransform"),
            dict(type="TopdownAffine", input_size=(32, 48)),
        ]
    )
    outs = [
        pipe(_sample(), tf.constant([s, 0], tf.int64))["bbox_scale"].numpy()
        for s in (1, 1, 2, 3, 4)
    ]
    np.testing.assert_array_equal(outs[0], outs[1])
    assert len({tuple(o) for o in outs}) >= 3


def test_random_flip_swaps_identities_and_is_involution():
    from keraspose.datasets.transforms.random_flip import flip_sample

    s = _sample()
    s["bbox_center"] = tf.constant([30.0, 20.0])
    once = flip_sample(s, "horizontal")
    kp = s["keypoints"].numpy()
    flipped = once["keypoints"].numpy()
    np.testing.assert_allclose(flipped[:, 0], 79 - kp[FLIP, 0])
    np.testing.assert_allclose(flipped[:, 1], kp[FLIP, 1])
    np.testing.assert_array_equal(
        once["keypoints_visible"].numpy(), s["keypoints_visible"].numpy()[FLIP]
    )
    np.testing.assert_allclose(once["bbox"].numpy(), [19, 8, 74, 52])
    np.testing.assert_allclose(once["bbox_center"].numpy(), [49, 20])
    twice = flip_sample(once, "horizontal")
    np.testing.assert_array_equal(twice["img"].numpy(), s["img"].numpy())
    np.testing.assert_allclose(twice["keypoints"].numpy(), kp, rtol=1e-5)
    kept = flip_sample(s, "horizontal", take=False)
    np.testing.assert_array_equal(kept["img"].numpy(), s["img"].numpy())


def test_random_bbox_transform_distribution():
    t = keraspose.build(dict(type="RandomBBoxTransform"))
    base = _prepared()
    scales, rots, shifted = [], [], []
    for i in range(400):
        out = t(dict(base), tf.constant([i, 7], tf.int64))
        ratio = out["bbox_scale"].numpy() / base["bbox_scale"].numpy()
        scales.append(ratio[0])
        rots.append(float(out["bbox_rotation"]))
        shifted.append(not np.allclose(out["bbox_center"], base["bbox_center"]))
    scales, rots = np.array(scales), np.array(rots)
    assert 0.5 <= scales.min() and scales.max() <= 1.5
    assert abs(scales.mean() - 1.0) < 0.05
    assert np.abs(rots).max() <= 80.0
    assert 0.5 < np.mean(rots != 0) < 0.7  # rotate_prob 0.6
    assert 0.2 < np.mean(shifted) < 0.4  # shift_prob 0.3


def test_topdown_affine_keypoints_follow_pixels():
    """A bright dot at a keypoint lands where the keypoint lands."""
    img = np.zeros((100, 120, 3), np.uint8)
    img[40:43, 70:73] = 255
    s = {
        "img": tf.constant(img),
        "bbox_center": tf.constant([60.0, 50.0]),
        "bbox_scale": tf.constant([80.0, 90.0]),
        "bbox_rotation": tf.constant(30.0),
        "keypoints": tf.constant([[71.0, 41.0]]),
    }
    for use_udp in (False, True):
        t = keraspose.build(
            dict(type="TopdownAffine", input_size=(64, 80), use_udp=use_udp)
        )
        out = t(dict(s))
        warped = out["img"].numpy()[..., 0].astype(np.float64)
        ys, xs = np.mgrid[: warped.shape[0], : warped.shape[1]]
        cx = (warped * xs).sum() / warped.sum()
        cy = (warped * ys).sum() / warped.sum()
        kx, ky = out["transformed_keypoints"].numpy()[0]
        assert abs(cx - kx) < 0.5 and abs(cy - ky) < 0.5


def test_photometric_distortion_keeps_geometry_and_dtype():
    t = keraspose.build(dict(type="PhotometricDistortion"))
    s = _sample()
    changed = 0
    for i in range(10):
        out = t(dict(s), tf.constant([i, 1], tf.int64))
        assert out["img"].dtype == tf.uint8
        assert out["img"].shape == s["img"].shape
        changed += int(not np.array_equal(out["img"], s["img"]))
        np.testing.assert_array_equal(out["keypoints"], s["keypoints"])
    assert changed >= 5


def test_generate_target_dataset_weights_and_fallback():
    codec = dict(
        type="MSRAHeatmap", input_size=(32, 48), heatmap_size=(8, 12), sigma=1
    )
    s = keraspose.build(dict(type="TopdownAffine", input_size=(32, 48)))(
        _prepared()
    )
    t = keraspose.build(
        dict(
            type="GenerateTarget",
            encoder=codec,
            use_dataset_keypoint_weights=True,
        )
    )
    out = t(dict(s))
    assert out["heatmaps"].shape == (12, 8, K)
    plain = keraspose.build(dict(type="GenerateTarget", encoder=codec))(dict(s))
    np.testing.assert_allclose(
        out["keypoint_weights"],
        plain["keypoint_weights"] * np.array([1, 2, 2, 1, 1]),
    )
    # The tf.numpy_function fallback equals the native graph encoder.
    from keraspose.datasets.transforms.graph_encoding import graph_encode
    from keraspose.datasets.transforms.graph_encoding import (
        numpy_function_encode,
    )

    enc = keraspose.build(codec)
    kp = s["transformed_keypoints"][None]
    vis = s["keypoints_visible"][None]
    native = graph_encode(enc, kp, vis)
    generic = numpy_function_encode(enc, kp, vis)
    for key in native:
        np.testing.assert_allclose(native[key], generic[key], atol=1e-6)


def test_graph_encoder_matches_numpy_encoder_dark_and_nan():
    enc = keraspose.build(
        dict(
            type="MSRAHeatmap",
            input_size=(32, 48),
            heatmap_size=(8, 12),
            sigma=2,
            unbiased=True,
        )
    )
    kp = np.array([[[3.3, 40.1], [np.nan, 3.0], [-30, 5], [31.9, 47.9]]])
    vis = np.array([[1.0, 1.0, 1.0, 0.0]])
    ref = enc.encode(kp, vis)
    from keraspose.datasets.transforms.graph_encoding import graph_encode

    ours = graph_encode(enc, tf.constant(kp, tf.float32), tf.constant(vis))
    np.testing.assert_allclose(ours["heatmaps"], ref["heatmaps"], atol=1e-6)
    np.testing.assert_array_equal(
        ours["keypoint_weights"], ref["keypoint_weights"]
    )


@pytest.mark.parametrize(
    "cfg,match",
    [
        (dict(type="RandomFlip", direction="sideways"), "direction"),
        (dict(type="RandomFlip", prob=1.5), "prob"),
        (dict(type="TopdownAffine", input_size=(192,)), "input_size"),
        (dict(type="RandomBBoxTransform", scale_factor=(2, 1)), "scale"),
        (dict(type="RandomHalfBody", prob=2), "prob"),
        (dict(type="LoadImage", color_type="grayscale"), "color_type"),
        (dict(type="GetBBoxCenterScale", padding=0), "padding"),
        (dict(type="GenerateTarget", encoder=[]), "single encoder"),
    ],
)
def test_bad_arguments_raise_clear_errors(cfg, match):
    with pytest.raises((ValueError, TypeError), match=match):
        keraspose.build(cfg)

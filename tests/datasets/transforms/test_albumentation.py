"""Albumentation: native Blur / MedianBlur / CoarseDropout (RTMPose's)."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.datasets import CocoDataset  # noqa: E402
from keraspose.datasets.transforms import Albumentation  # noqa: E402
from keraspose.datasets.transforms import Compose  # noqa: E402
from keraspose.datasets.transforms import albumentation  # noqa: E402
from tests.helpers import run_object_test  # noqa: E402

box_blur = albumentation.box_blur
median_blur = albumentation.median_blur

RTMPOSE_ALBU = [
    dict(type="Blur", p=0.1),
    dict(type="MedianBlur", p=0.1),
    dict(
        type="CoarseDropout",
        max_holes=1,
        max_height=0.4,
        max_width=0.4,
        min_holes=1,
        min_height=0.2,
        min_width=0.2,
        p=1.0,
    ),
]


def _image(h=37, w=45, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _runner(t):
    """The transform's image output as a traced function of (img, seed)."""
    return tf.function(lambda img, s: t({"img": img}, s)["img"])


@pytest.mark.parametrize("ksize", [1, 2, 3, 4, 5, 6, 7, 8])
def test_box_blur_equals_cv2_blur(ksize):
    """Exact, including OpenCV's fixed-point rounding of 8-bit sums."""
    cv2 = pytest.importorskip("cv2")
    img = _image()
    ours = box_blur(tf.constant(img), ksize).numpy()
    np.testing.assert_array_equal(ours, cv2.blur(img, (ksize, ksize)))
    # BORDER_REFLECT_101 is OpenCV's default border.
    ref = cv2.blur(img, (ksize, ksize), borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("ksize", [3, 5, 7])
def test_median_blur_equals_cv2_median_blur(ksize):
    cv2 = pytest.importorskip("cv2")
    for img in (_image(), _image(9, 8, seed=1) // 64 * 64):  # + many ties
        ours = median_blur(tf.constant(img), ksize).numpy()
        np.testing.assert_array_equal(ours, cv2.medianBlur(img, ksize))


def test_blur_probability_and_kernel_choice():
    cv2 = pytest.importorskip("cv2")
    img = _image(16, 20)
    refs = {k: cv2.blur(img, (k, k)) for k in (3, 5, 7)}
    run = _runner(Albumentation([dict(type="Blur", p=0.3)]))
    kinds = []
    for i in range(200):
        out = run(tf.constant(img), tf.constant([i, 9], tf.int64)).numpy()
        match = [k for k, r in refs.items() if np.array_equal(out, r)]
        kinds.append(match[0] if match else 0)
        assert match or np.array_equal(out, img)
    kinds = np.array(kinds)
    assert 0.2 < np.mean(kinds > 0) < 0.4  # p = 0.3
    assert set(kinds[kinds > 0]) == {3, 5, 7}


def test_median_blur_probability():
    img = _image(12, 12)
    run = _runner(Albumentation([dict(type="MedianBlur", p=0.7)]))
    changed = [
        not np.array_equal(
            run(tf.constant(img), tf.constant([i, 4], tf.int64)), img
        )
        for i in range(100)
    ]
    assert 0.55 < np.mean(changed) < 0.85


def test_coarse_dropout_fractional_hole_within_bounds():
    h, w = 64, 80
    img = np.full((h, w, 3), 200, np.uint8)
    run = _runner(Albumentation(RTMPOSE_ALBU[2:]))
    sizes = []
    for i in range(60):
        out = run(tf.constant(img), tf.constant([i, 1], tf.int64)).numpy()
        hole = np.all(out == 0, axis=-1)
        assert np.all((out == 0) | (out == 200))
        ys, xs = np.nonzero(hole)
        hh, hw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert hole.sum() == hh * hw  # a single rectangle
        sizes.append((hh, hw))
    sizes = np.array(sizes)
    # int(size * U(0.2, 0.4))
    assert sizes[:, 0].min() >= int(0.2 * h)
    assert sizes[:, 0].max() <= int(0.4 * h)
    assert sizes[:, 1].min() >= int(0.2 * w)
    assert sizes[:, 1].max() <= int(0.4 * w)
    assert len(set(map(tuple, sizes))) > 20


def test_coarse_dropout_pixel_sizes_count_and_fill():
    img = np.full((30, 40, 3), 9, np.uint8)
    t = Albumentation(
        [
            dict(
                type="CoarseDropout",
                max_holes=3,
                min_holes=2,
                max_height=5,
                min_height=2,
                max_width=6,
                min_width=6,
                fill_value=[1, 2, 3],
                p=1.0,
            )
        ]
    )
    run = _runner(t)
    for i in range(30):
        out = run(tf.constant(img), tf.constant([i, 2], tf.int64)).numpy()
        filled = np.all(out == [1, 2, 3], axis=-1)
        assert np.all(filled | np.all(out == 9, axis=-1))
        assert 2 * 2 * 6 <= filled.sum() <= 3 * 5 * 6


def test_keypoints_untouched_deterministic_and_shapes():
    t = keraspose.build(dict(type="Albumentation", transforms=RTMPOSE_ALBU))
    img = tf.constant(_image(64, 48))
    kpts = tf.constant([[10.0, 12.0], [30.0, 40.0]])
    sample = {"img": img, "keypoints": kpts, "keypoints_visible": [1.0, 1.0]}
    seed = tf.constant([5, 6], tf.int64)
    out = t(dict(sample), seed)
    assert out["img"].dtype == tf.uint8 and out["img"].shape == (64, 48, 3)
    np.testing.assert_array_equal(out["keypoints"], kpts)
    np.testing.assert_array_equal(t(dict(sample), seed)["img"], out["img"])
    other = t(dict(sample), tf.constant([6, 6], tf.int64))["img"]
    assert not np.array_equal(other, out["img"])


def test_config_round_trip():
    img = tf.constant(_image(24, 20))
    seed = tf.constant([3, 1], tf.int64)
    cfg = dict(
        type="Albumentation",
        transforms=[
            dict(type="Blur", blur_limit=(3, 5), p=0.5),
            dict(type="MedianBlur", blur_limit=5, always_apply=True),
            dict(
                type="CoarseDropout",
                max_holes=2,
                max_height=0.3,
                max_width=0.3,
                fill_value=7,
                p=0.9,
            ),
        ],
        keymap={"img": "image"},
    )
    t = run_object_test(cfg, lambda t: t({"img": img}, seed)["img"])
    steps = t.get_config()["transforms"]
    assert [s["type"] for s in steps] == ["Blur", "MedianBlur", "CoarseDropout"]
    assert steps[1]["blur_limit"] == (3, 5) and steps[1]["always_apply"]
    assert steps[2]["min_height"] == 0.3  # None -> max_height


@pytest.mark.parametrize(
    "transforms,match",
    [
        ([dict(type="ChannelShuffle", p=0.1)], "Blur, CoarseDropout"),
        ([dict(type="OneOf", transforms=[])], "Supported"),
        ([dict(p=0.1)], "type"),
        ([dict(type="MedianBlur", blur_limit=(3, 6))], "odd"),
        ([dict(type="Blur", blur_limit=(5, 3))], "blur_limit"),
        ([dict(type="Blur", p=1.5)], "p"),
        ([dict(type="CoarseDropout", max_height=0.4, min_height=8)], "floats"),
        (
            [dict(type="CoarseDropout", max_height=1.5, max_width=0.5)],
            r"\[0, 1\)",
        ),
        ([dict(type="CoarseDropout", min_holes=3, max_holes=2)], "min_holes"),
        ([dict(type="CoarseDropout", max_height=4, min_height=5)], "height"),
    ],
)
def test_bad_configs_raise_clear_errors(transforms, match):
    with pytest.raises(ValueError, match=match):
        Albumentation(transforms)


def test_bad_keymap_and_arguments():
    with pytest.raises(ValueError, match="keymap"):
        Albumentation([dict(type="Blur")], keymap={"gt_seg": "mask"})
    with pytest.raises(TypeError, match="Blur"):
        Albumentation([dict(type="Blur", sigma=3)])
    with pytest.raises(TypeError, match="list"):
        Albumentation(dict(type="Blur"))


def test_works_on_a_lazily_decoded_image(coco_root):
    pipe = Compose(
        [
            dict(type="LoadImage"),
            dict(type="Albumentation", transforms=RTMPOSE_ALBU[2:]),
        ]
    )
    path = str(coco_root / "000000000785.jpg")
    out = pipe({"img_path": tf.constant(path)}, tf.constant([0, 1], tf.int64))
    h, w = out["img_shape"].numpy()
    assert out["img"].shape == (h, w, 3) and out["img"].dtype == tf.uint8
    assert np.all(out["img"].numpy() == 0, axis=-1).sum() >= int(0.2 * h) * int(
        0.2 * w
    )


def test_rtmpose_train_pipeline_on_coco(coco_root):
    """RTMPose-m's stage-1 train pipeline runs through to_tf_dataset."""
    codec = dict(
        type="SimCCLabel",
        input_size=(192, 256),
        sigma=(4.9, 5.66),
        simcc_split_ratio=2.0,
        normalize=False,
        use_dark=False,
    )
    pipeline = [
        dict(type="LoadImage"),
        dict(type="GetBBoxCenterScale"),
        dict(type="RandomFlip", direction="horizontal"),
        dict(type="RandomHalfBody"),
        dict(
            type="RandomBBoxTransform",
            scale_factor=[0.6, 1.4],
            rotate_factor=80,
        ),
        dict(type="TopdownAffine", input_size=codec["input_size"]),
        dict(type="mmdet.YOLOXHSVRandomAug"),
        dict(type="Albumentation", transforms=RTMPOSE_ALBU),
        dict(type="GenerateTarget", encoder=codec),
        dict(type="PackPoseInputs"),
    ]
    ds = CocoDataset(
        ann_file="test_coco.json", data_root=str(coco_root), pipeline=pipeline
    )

    def run():
        return list(ds.to_tf_dataset(batch_size=4, seed=3))

    first, second = run(), run()
    x, y = first[0]
    assert x["images"].shape[1:] == (256, 192, 3)
    assert x["images"].dtype == tf.uint8
    assert y["keypoint_x_labels"].shape[1:] == (17, 384)
    assert y["keypoint_y_labels"].shape[1:] == (17, 512)
    images = np.concatenate([np.asarray(b[0]["images"]) for b in first])
    again = np.concatenate([np.asarray(b[0]["images"]) for b in second])
    np.testing.assert_array_equal(images, again)  # deterministic per seed
    # CoarseDropout (p=1) zeroes a box of at least 0.2 x 0.2 of each crop.
    assert (np.all(images == 0, axis=-1).sum(axis=(1, 2)) >= 51 * 38).all()

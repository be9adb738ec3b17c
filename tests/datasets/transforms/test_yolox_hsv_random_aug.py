"""YOLOXHSVRandomAug: mmdet's HSV formula with OpenCV's 8-bit conversions."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.datasets.transforms import Compose  # noqa: E402
from keraspose.datasets.transforms import YOLOXHSVRandomAug  # noqa: E402
from keraspose.datasets.transforms import yolox_hsv_random_aug  # noqa: E402
from tests.helpers import run_object_test  # noqa: E402

apply_hsv_gains = yolox_hsv_random_aug.apply_hsv_gains
bgr_to_hsv_uint8 = yolox_hsv_random_aug.bgr_to_hsv_uint8
sample_hsv_gains = yolox_hsv_random_aug.sample_hsv_gains

DELTAS = (5, 30, 30)


def _colors(n=2**16, width=192, seed=0):
    """Random colours plus greys, pure hues and extremes, rows of ``width``."""
    rng = np.random.default_rng(seed)
    colors = [rng.integers(0, 256, (n, 3))]
    v = np.arange(256)
    colors.append(np.stack([v, v, v], -1))  # greys
    for c in range(3):  # one channel at 255, one ramping, one at 0
        for ramp in range(3):
            if ramp != c:
                x = np.zeros((256, 3), np.int64)
                x[:, c] = 255
                x[:, ramp] = v
                colors.append(x)
    colors = np.concatenate(colors).astype(np.uint8)
    rows = -(-len(colors) // width)
    pad = rows * width - len(colors)
    colors = np.concatenate([colors, colors[:pad]])
    return colors.reshape(rows, width, 3)


def _mmdet_reference(img, gains):
    """MMDetection's YOLOXHSVRandomAug.transform for fixed gains (cv2)."""
    cv2 = pytest.importorskip("cv2")
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + gains[0]) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] + gains[1], 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] + gains[2], 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)


def test_bgr_to_hsv_equals_opencv_exactly():
    cv2 = pytest.importorskip("cv2")
    img = _colors()
    ours = tf.stack(bgr_to_hsv_uint8(tf.constant(img)), axis=-1).numpy()
    np.testing.assert_array_equal(ours, cv2.cvtColor(img, cv2.COLOR_BGR2HSV))


@pytest.mark.parametrize(
    "gains",
    [(0, 0, 0), (4, 29, -29), (-4, -29, 29), (-3, 0, 17), (179, 255, -255)],
)
def test_fixed_gains_equal_mmdet_formula(gains):
    """Measured: max difference 0 on rows whose width is a multiple of
    OpenCV's SIMD block (192 here). OpenCV rounds (instead of truncating)
    the pixels of a row's scalar tail, so other widths may differ by 1."""
    pytest.importorskip("cv2")
    img = _colors(width=192)
    ours = apply_hsv_gains(tf.constant(img), tf.constant(gains)).numpy()
    diff = np.abs(ours.astype(int) - _mmdet_reference(img, gains))
    assert diff.max() <= 1
    assert np.mean(diff > 0) < 1e-3  # 0 on x86-64 opencv-python 4.11 / 5.0
    odd = img[:, :100].copy()  # a scalar tail: OpenCV's own rounding
    ours = apply_hsv_gains(tf.constant(odd), tf.constant(gains)).numpy()
    assert np.abs(ours.astype(int) - _mmdet_reference(odd, gains)).max() <= 1


def test_gains_deterministic_per_seed_and_in_range():
    draw = tf.function(lambda s: sample_hsv_gains(s, DELTAS))
    gains = np.stack(
        [draw(tf.constant([i, 3], tf.int64)).numpy() for i in range(400)]
    )
    again = draw(tf.constant([7, 3], tf.int64)).numpy()
    np.testing.assert_array_equal(gains[7], again)
    assert gains.dtype == np.int32
    # trunc(U(-1, 1) * delta): |gain| < delta.
    assert (np.abs(gains) < np.array(DELTAS)).all()
    zero = np.mean(gains == 0, axis=0)
    # Kept with probability 1/2 (plus the draws that truncate to 0).
    assert ((zero > 0.45) & (zero < 0.75)).all(), zero
    assert (gains.min(axis=0) < 0).all() and (gains.max(axis=0) > 0).all()
    assert len({tuple(g) for g in gains}) > 100


def test_transform_uses_the_drawn_gains_and_keeps_geometry():
    img = _colors(n=4000, width=48)
    kpts = tf.constant([[3.0, 4.0], [10.0, 20.0]])
    t = keraspose.build(dict(type="mmdet.YOLOXHSVRandomAug"))
    seed = tf.constant([11, 5], tf.int64)
    out = t({"img": tf.constant(img), "keypoints": kpts}, seed)
    assert out["img"].dtype == tf.uint8 and out["img"].shape == img.shape
    np.testing.assert_array_equal(out["keypoints"], kpts)
    expected = apply_hsv_gains(tf.constant(img), sample_hsv_gains(seed, DELTAS))
    np.testing.assert_array_equal(out["img"], expected)
    again = t({"img": tf.constant(img)}, seed)["img"]
    np.testing.assert_array_equal(out["img"], again)
    changed = sum(
        not np.array_equal(
            t({"img": tf.constant(img)}, tf.constant([i, 0], tf.int64))["img"],
            out["img"],
        )
        for i in range(5)
    )
    assert changed >= 3


def test_config_round_trip():
    img = tf.constant(_colors(n=500, width=32))
    seed = tf.constant([1, 2], tf.int64)
    t = run_object_test(
        dict(
            type="YOLOXHSVRandomAug",
            hue_delta=7,
            saturation_delta=20,
            value_delta=10,
        ),
        lambda t: t({"img": img}, seed)["img"],
    )
    assert t.get_config() == {
        "hue_delta": 7,
        "saturation_delta": 20,
        "value_delta": 10,
    }


def test_works_on_a_lazily_decoded_image(coco_root):
    pipe = Compose([dict(type="LoadImage"), dict(type="YOLOXHSVRandomAug")])
    path = str(coco_root / "000000000785.jpg")
    out = pipe({"img_path": tf.constant(path)}, tf.constant([0, 1], tf.int64))
    h, w = out["img_shape"].numpy()
    assert out["img"].shape == (h, w, 3) and out["img"].dtype == tf.uint8


def test_bad_arguments_and_dtype():
    with pytest.raises(ValueError, match="hue_delta"):
        YOLOXHSVRandomAug(hue_delta=-1)
    with pytest.raises(ValueError, match="value_delta"):
        YOLOXHSVRandomAug(value_delta="30")
    with pytest.raises(TypeError, match="uint8"):
        YOLOXHSVRandomAug()({"img": tf.zeros([4, 4, 3])}, tf.constant([0, 0]))

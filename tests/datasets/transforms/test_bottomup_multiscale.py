"""BottomupResize's image pyramid (``aug_scales``) and OpenCV-exact warp.

The pipeline's levels must equal MMPose's: the host
``keraspose.apis.inference.bottomup_resize`` is bit-identical to MMPose's
``BottomupResize`` (tests/apis/test_inference_bottomup.py), and the
pipeline reproduces OpenCV 4's matrix and fixed-point warp, so for the
same decoded JPEG the pixels are equal.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import keraspose  # noqa: E402
from keraspose.apis import topdown_crop  # noqa: E402
from keraspose.apis.inference import bottomup_resize  # noqa: E402
from keraspose.apis.inference import load_image  # noqa: E402
from keraspose.datasets.builder import build_dataloader  # noqa: E402
from keraspose.datasets.transforms import opencv_warp  # noqa: E402
from keraspose.datasets.transforms.bottomup_resize import aug_image_key  # noqa: E402
from keraspose.models.pose_estimators import bottomup  # noqa: E402
from tests.helpers import coco_bottomup_test_loader  # noqa: E402

CASES = [
    dict(
        input_size=(64, 64),
        size_factor=32,
        resize_mode="expand",
        aug_scales=[0.5, 1.5],
    ),
    dict(
        input_size=(64, 64),
        size_factor=32,
        resize_mode="fit",
        aug_scales=[1.5],
    ),
    dict(
        input_size=(96, 96),
        size_factor=32,
        resize_mode="expand",
        use_udp=True,
        aug_scales=[0.75],
    ),
]


def _loader(shared_data, batch_size=1, **resize):
    pipeline = [
        dict(type="LoadImage"),
        dict(type="BottomupResize", **resize),
        dict(type="PackPoseInputs"),
    ]
    return build_dataloader(
        coco_bottomup_test_loader(shared_data, pipeline, batch_size)
    )


def _decode(path):
    """The pipeline's decoder (tf.io, BGR), for bit-exact comparisons."""
    data = tf.io.read_file(path)
    img = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")
    return img.numpy()[..., ::-1]


def test_key_names_agree_with_the_estimator():
    assert aug_image_key(3) == bottomup.aug_image_key(3) == "aug_images_3"


@pytest.mark.parametrize("case", range(len(CASES)))
def test_pyramid_equals_host_resize(shared_data, case):
    resize = CASES[case]
    batch_size = 2 if resize["resize_mode"] == "fit" else 1
    loader, dataset = _loader(shared_data, batch_size, **resize)
    n = len(resize["aug_scales"])
    for b, x in enumerate(loader.take(2 // batch_size)):
        assert x["images"].dtype == tf.uint8
        for j in range(batch_size):
            path = dataset.data_list[b * batch_size + j]["img_path"]
            image = _decode(path)
            ref = bottomup_resize(image, **resize)
            assert len(ref["images"]) == n + 1
            for level, key in enumerate(
                ["images"] + [aug_image_key(i) for i in range(n)]
            ):
                ours = x[key][j].numpy()
                assert ours.dtype == np.uint8, key
                np.testing.assert_array_equal(
                    ours, ref["images"][level], err_msg=f"{key} {path}"
                )
            np.testing.assert_array_equal(
                x["input_center"][j], ref["input_center"]
            )
            np.testing.assert_array_equal(
                x["input_scale"][j], ref["input_scale"]
            )
            assert tuple(x["input_size"][j].numpy()) == ref["input_size"]
            # the API's own loader (OpenCV when installed): JPEG decoders
            # may differ by a grey level here and there
            api = bottomup_resize(load_image(path), **resize)["images"][-1]
            diff = np.abs(x[aug_image_key(n - 1)][j].numpy() - api.astype(int))
            assert diff.mean() < 0.5


def test_pyramid_not_packed_without_aug_scales(shared_data):
    loader, _ = _loader(shared_data, input_size=(64, 64), resize_mode="fit")
    x = next(iter(loader))
    assert not any(k.startswith("aug_images") for k in x)


def test_warp_matches_host_opencv4_arithmetic():
    rng = np.random.default_rng(0)
    for trial in range(6):
        src = rng.uniform(-20, 60, (3, 2)).astype(np.float32)
        dst = rng.uniform(-5, 40, (3, 2)).astype(np.float32)
        ref = topdown_crop.get_affine_transform(src, dst)
        mat = opencv_warp.get_affine_transform(src, dst).numpy()
        np.testing.assert_array_equal(mat, ref)
        image = rng.integers(0, 256, (23, 31, 3), dtype=np.uint8)
        ours = opencv_warp.warp_affine_opencv(image, mat, (19, 27)).numpy()
        expected = topdown_crop.warp_affine_linear(image, ref, (27, 19))
        np.testing.assert_array_equal(ours, expected, err_msg=str(trial))
        floats = image.astype(np.float32) / 7
        ours = opencv_warp.warp_affine_opencv(floats, mat, (19, 27)).numpy()
        expected = topdown_crop.warp_affine_linear(floats, ref, (27, 19))
        np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-5)
    # MMPose's rot-0 warp matrix, and collinear points give zeros
    center = np.array([160.5, 99.0], np.float32)
    scale = np.array([330.0, 205.0], np.float32)
    ref = topdown_crop.get_warp_matrix(center, scale, 0.0, (96, 64))
    mat = opencv_warp.get_warp_matrix(center, scale, tf.constant([96, 64]))
    np.testing.assert_array_equal(mat.numpy(), ref)
    flat = np.zeros((3, 2), np.float32)
    assert not opencv_warp.get_affine_transform(flat, flat).numpy().any()


def test_pad_value_fills_the_border():
    image = np.full((8, 8, 3), 100, np.uint8)
    mat = np.array([[0.5, 0.0, 4.0], [0.0, 0.5, 4.0]])  # 4-px border
    out = opencv_warp.warp_affine_opencv(image, mat, (12, 12), (1, 2, 3))
    out = out.numpy()
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3])
    np.testing.assert_array_equal(out[6, 6], [100, 100, 100])
    t = keraspose.build(
        dict(type="BottomupResize", input_size=(32, 32), pad_val=(5, 6, 7))
    )
    r = t({"img": tf.constant(np.full((10, 20, 3), 200, np.uint8))})
    np.testing.assert_array_equal(r["img"][0, 0], [5, 6, 7])
    np.testing.assert_array_equal(r["img"][16, 16], [200, 200, 200])

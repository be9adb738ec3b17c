"""inference_bottomup: MMPose's test-time BottomupResize (fixture from
tools/make_mmpose_bottomup_resize_fixtures.py) and the instances back in
image pixels."""

import json

import numpy as np
import pytest

from keraspose.apis import inference_bottomup
from keraspose.apis.inference import bottomup_resize
from tests.conftest import FIXTURES
from tests.models.pose_estimators.test_bottomup import M
from tests.models.pose_estimators.test_bottomup import tiny_model


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_bottomup_resize.npz"))


def test_bottomup_resize_equals_mmpose(fx):
    for case in fx["cases"]:
        kwargs = json.loads(str(fx[f"{case}_kwargs"]))
        out = bottomup_resize(fx["image"], **kwargs)
        levels = sorted(k for k in fx if k.startswith(f"{case}_img"))
        assert len(out["images"]) == len(levels)
        for level, key in zip(out["images"], levels):
            np.testing.assert_array_equal(level, fx[key], err_msg=case)
        for key in ("input_center", "input_scale"):
            np.testing.assert_array_equal(out[key], fx[f"{case}_{key}"])
        assert out["input_size"] == tuple(fx[f"{case}_input_size"])
    with pytest.raises(ValueError, match="multiple of size_factor"):
        bottomup_resize(fx["image"], (30, 32), resize_mode="fit")


def test_inference_bottomup_returns_image_pixels(fx):
    model = tiny_model()
    image = fx["image"]
    out = inference_bottomup(model, image, input_size=(64, 64))
    data = bottomup_resize(image, (64, 64), resize_mode="expand")
    x = {
        "images": data["images"][0][None],
        "input_center": data["input_center"][None],
        "input_scale": data["input_scale"][None],
        "input_size": np.array([data["input_size"]], np.float32),
    }
    full = model.predict_on_batch(x)
    mask = full["instance_mask"][0]
    assert mask.sum() == 1 and len(mask) == M
    np.testing.assert_allclose(out["keypoints"], full["keypoints"][0][mask])
    assert out["keypoints"].shape == (1, 3, 2)
    # back in the 61x47 image
    assert (out["keypoints"] >= -1).all()
    assert (out["keypoints"][..., 0] <= 62).all()
    with pytest.raises(ValueError, match="BottomupPoseEstimator"):
        inference_bottomup(object(), image)

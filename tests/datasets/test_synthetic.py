import numpy as np
import pytest

import keraspose
from tests.helpers import run_object_test


def test_synthetic_dataset_object():
    cfg = dict(
        type="SyntheticPoseDataset",
        num_samples=3,
        num_keypoints=4,
        input_size=(32, 40),
    )
    ds = run_object_test(cfg, lambda d: d.generate()["keypoints"])
    data = ds.generate()
    assert data["images"].dtype == np.uint8
    assert data["images"].shape == (3, 40, 32, 3)
    k = data["keypoints"]
    assert (k[..., 0] >= 0).all() and (k[..., 0] < 32).all()
    assert ds.metainfo["flip_indices"] == [0, 1, 2, 3]
    # back-projection relation between crop and original coordinates
    size = np.array([32, 40], "float32")
    orig = (
        k / size * data["input_scale"][:, None]
        + data["input_center"][:, None]
        - 0.5 * data["input_scale"][:, None]
    )
    np.testing.assert_allclose(orig, data["keypoints_original"], rtol=1e-5)


def test_synthetic_fit_data_and_errors():
    ds = keraspose.build(
        dict(
            type="SyntheticPoseDataset",
            num_samples=2,
            num_keypoints=3,
            input_size=(32, 32),
        )
    )
    codec = keraspose.build(
        dict(
            type="MSRAHeatmap",
            input_size=(32, 32),
            heatmap_size=(8, 8),
            sigma=1,
        )
    )
    x, y = ds.as_fit_data(codec)
    assert y["heatmaps"].shape == (2, 8, 8, 3)
    assert y["keypoint_weights"].shape == (2, 3)
    assert set(x) == {"images", "input_center", "input_scale"}
    with pytest.raises(ValueError, match="num_keypoints"):
        keraspose.build(dict(type="SyntheticPoseDataset", num_keypoints=0))

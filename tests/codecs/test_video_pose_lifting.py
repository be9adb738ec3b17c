import numpy as np
import pytest

import keraspose
from tests.codecs import lifting_fixture as lf
from tests.helpers import run_object_test
from tests.helpers import to_numpy

K = 6


@pytest.mark.parametrize("name", lf.cases("vid"))
def test_encode_matches_mmpose(name):
    lf.check_encode_case(name, video=True)


@pytest.mark.parametrize("name", lf.cases("viddec"))
def test_decode_matches_mmpose(name):
    lf.check_decode_case(name)


def test_object_round_trip_and_config():
    cfg, inputs, _ = lf.case("viddec_remove_root")
    codec = run_object_test(
        cfg,
        lambda c: c.decode(inputs["encoded"], inputs["target_root"]),
    )
    assert codec.auxiliary_encode_keys == (
        "lifting_target",
        "lifting_target_visible",
        "camera_param",
    )
    assert codec.target_keys == (
        "lifting_target_label",
        "lifting_target_weight",
        "trajectory_weights",
    )
    assert keraspose.to_config(codec)["zero_center"] is True


def test_multiple_target_decode_adds_each_frames_root():
    codec = keraspose.build(
        dict(type="VideoPoseLifting", num_keypoints=3, remove_root=True)
    )
    x = np.zeros((1, 2, 2, 3), "float32")
    roots = np.array([[[1.0, 1, 1], [2, 2, 2]]], "float32")  # (B, T, 3)
    kpts, scores = codec.decode(x, roots)
    kpts = to_numpy(kpts)
    assert kpts.shape == (1, 2, 3, 3) and tuple(scores.shape) == (1, 2, 3)
    np.testing.assert_array_equal(kpts[0, 0], np.ones((3, 3)))
    np.testing.assert_array_equal(kpts[0, 1], np.full((3, 3), 2.0))


def test_errors():
    codec = keraspose.build(dict(type="VideoPoseLifting", num_keypoints=3))
    args = dict(
        keypoints=np.zeros((2, 3, 2)),
        lifting_target=np.ones((1, 3, 3)),
        lifting_target_visible=np.ones((1, 3)),
    )
    with pytest.raises(ValueError, match="'w' and 'h'"):
        codec.encode(**args)
    with pytest.raises(ValueError, match="'w' and 'h'"):
        codec.encode(**args, camera_param=dict(w=10))
    normalize = keraspose.build(
        dict(type="VideoPoseLifting", num_keypoints=3, normalize_camera=True)
    )
    with pytest.raises(ValueError, match="'f' and 'c'"):
        normalize.encode(**args, camera_param=dict(w=10, h=10))
    with pytest.raises(ValueError, match="K > 2"):
        keraspose.build(
            dict(type="VideoPoseLifting", num_keypoints=5, root_index=2)
        ).encode(
            np.zeros((1, 2, 2)),
            lifting_target=np.ones((1, 2, 3)),
            camera_param=dict(w=10, h=10),
        )
    with pytest.raises(ValueError, match="remove_root"):
        keraspose.build(
            dict(type="VideoPoseLifting", num_keypoints=3, remove_root=True)
        ).encode(
            np.zeros((1, 3, 2)),
            lifting_target=np.ones((3, 3)),
            lifting_target_visible=np.ones(3),
            camera_param=dict(w=10, h=10),
        )

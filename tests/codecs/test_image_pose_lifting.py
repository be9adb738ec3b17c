import numpy as np
import pytest

import keraspose
from tests.codecs import lifting_fixture as lf
from tests.helpers import run_object_test
from tests.helpers import to_numpy

K = 6


@pytest.mark.parametrize("name", lf.cases("img"))
def test_encode_matches_mmpose(name):
    lf.check_encode_case(name, video=False)


@pytest.mark.parametrize("name", lf.cases("imgdec"))
def test_decode_matches_mmpose(name):
    lf.check_decode_case(name)


def test_object_round_trip_and_config():
    cfg, inputs, _ = lf.case("imgdec_norm_remove_root")
    codec = run_object_test(
        cfg,
        lambda c: c.decode(inputs["encoded"], inputs["target_root"]),
    )
    assert codec.auxiliary_encode_keys == (
        "lifting_target",
        "lifting_target_visible",
    )
    assert codec.target_keys == (
        "lifting_target_label",
        "lifting_target_weight",
        "trajectory_weights",
    )
    config = keraspose.to_config(codec)
    assert np.asarray(config["target_mean"]).shape == (K - 1, 3)
    assert config["root_index"] == [0]
    other = keraspose.build(
        dict(
            type="ImagePoseLifting",
            num_keypoints=K,
            additional_encode_keys=["camera_param"],
        )
    )
    assert other.auxiliary_encode_keys[-1] == "camera_param"
    # an instance's extra keys do not leak into other instances (MMPose's
    # class-level set does)
    assert "camera_param" not in codec.auxiliary_encode_keys
    run_object_test(
        keraspose.to_config(other),
        lambda c: c.decode(inputs["encoded"][:, :1]),
    )


def test_decode_batched_shapes_and_mixed_precision():
    codec = keraspose.build(
        dict(type="ImagePoseLifting", num_keypoints=K, remove_root=True)
    )
    x = np.ones((2, 4, K - 1, 3), "float32")
    roots = np.zeros((2, 4, 3), "float32")
    kpts, scores = codec.decode(x, roots)
    assert tuple(kpts.shape) == (2, 4, K, 3)
    assert tuple(scores.shape) == (2, 4, K)
    kpts, _ = codec.decode(np.ones((K - 1, 3), "float16"), np.ones((1, 3)))
    kpts = to_numpy(kpts)
    assert kpts.shape == (1, K, 3) and kpts.dtype == np.float32
    np.testing.assert_array_equal(kpts[0, 0], [1, 1, 1])
    np.testing.assert_array_equal(kpts[0, 1], [2, 2, 2])


def test_errors():
    with pytest.raises(TypeError, match="num_keypoints"):
        keraspose.build(dict(type="ImagePoseLifting", num_keypoints="17"))
    with pytest.raises(ValueError, match="root_index"):
        keraspose.build(
            dict(type="ImagePoseLifting", num_keypoints=3, root_index=3)
        )
    with pytest.raises(ValueError, match="keypoints_std"):
        keraspose.build(
            dict(
                type="ImagePoseLifting",
                num_keypoints=3,
                keypoints_mean=np.zeros((3, 2)),
            )
        )
    with pytest.raises(ValueError, match="2 rows"):
        keraspose.build(
            dict(
                type="ImagePoseLifting",
                num_keypoints=3,
                remove_root=True,
                target_mean=np.zeros((3, 3)),
                target_std=np.ones((3, 3)),
            )
        )
    codec = keraspose.build(dict(type="ImagePoseLifting", num_keypoints=3))
    with pytest.raises(ValueError, match="lifting_target"):
        codec.encode(np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match=r"\(T, K, D\)"):
        codec.encode(np.zeros((1, 1, 3, 2)), lifting_target=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="target_root"):
        codec.decode(np.zeros((2, 3, 3)), np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"\(B, K, C\)"):
        codec.decode(np.zeros((3,)))
    norm = keraspose.build(
        dict(
            type="ImagePoseLifting",
            num_keypoints=3,
            target_mean=np.zeros((3, 3)),
            target_std=np.ones((3, 3)),
        )
    )
    with pytest.raises(ValueError, match="target_mean"):
        norm.decode(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="target_mean"):
        norm.encode(
            np.zeros((1, 3, 2)),
            lifting_target=np.zeros((3, 3)),
            lifting_target_visible=np.ones(3),
        )

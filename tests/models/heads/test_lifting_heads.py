"""TemporalRegressionHead / TrajectoryRegressionHead (VideoPose3D)."""

import json

import numpy as np
import pytest

import keraspose
from keraspose import converters
from keraspose.models.heads.regression_heads.temporal_regression_head import (
    output_flip_indices,
)
from tests.conftest import FIXTURES
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

K = 4


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_tcn.npz"))


@pytest.mark.parametrize(
    "head_type, joints",
    [("TemporalRegressionHead", K), ("TrajectoryRegressionHead", 1)],
)
def test_lifting_head_layer(tmp_path, head_type, joints):
    run_layer_test(
        dict(
            type=head_type,
            in_channels=6,
            num_joints=joints,
            decoder=dict(type="VideoPoseLifting", num_keypoints=K),
        ),
        (np.random.default_rng(0).normal(size=(2, 1, 6)).astype("float32"),),
        tmp_path,
        expected_output_shape=(2, joints, 3),
    )


def test_multi_frame_outputs_follow_mmpose_reshape():
    """T' > 1: MMPose reshapes (B, K * 3, T') to (-1, K, 3)."""
    head = keraspose.build(
        dict(type="TemporalRegressionHead", in_channels=3, num_joints=2)
    )
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    out = to_numpy(head((x,)))
    conv = to_numpy(head.conv(x))  # (B, T', K * 3)
    expected = np.transpose(conv, (0, 2, 1)).reshape(-1, 2, 3)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert out.shape == (10, 2, 3)


@pytest.mark.parametrize("tag", ["loss_mse", "loss_mpjpe", "loss_traj"])
def test_head_losses_equal_mmpose(fx, tag):
    cfg = json.loads(str(fx[f"{tag}_cfg"]))
    head = keraspose.build(cfg)
    feat = np.transpose(fx["loss_feat"], (0, 2, 1))  # (B, 1, C)
    head.build((feat.shape,))
    prefix = f"{tag}_state/"
    converters.load_state_dict(
        head,
        {k[len(prefix) :]: v for k, v in fx.items() if k.startswith(prefix)},
    )
    targets = dict(
        lifting_target_label=fx["loss_labels"],  # (B, 1, K, 3): per sample
        lifting_target_weight=fx["loss_weights"],
        trajectory_weights=fx["loss_traj_weights"],
    )
    losses = to_numpy(head.loss((feat,), targets))
    names = head.log_names()
    assert sorted(losses) == sorted(names)
    for name in names:
        np.testing.assert_allclose(
            losses[name], fx[f"{tag}_{name}"], rtol=1e-5, atol=1e-6
        )
    # concatenated (B * 1, K, 3) targets give the same numbers
    flat = {k: v.reshape((-1,) + v.shape[2:]) for k, v in targets.items()}
    again = to_numpy(head.loss((feat,), flat))
    for name in names:
        np.testing.assert_allclose(again[name], losses[name], rtol=1e-6)


def test_predict_decodes_and_flips():
    head = keraspose.build(
        dict(
            type="TemporalRegressionHead",
            in_channels=6,
            num_joints=K - 1,
            decoder=dict(
                type="ImagePoseLifting",
                num_keypoints=K,
                root_index=0,
                remove_root=True,
            ),
        )
    )
    rng = np.random.default_rng(0)
    feats = (rng.normal(size=(2, 1, 6)).astype("float32"),)
    root = rng.normal(size=(2, 1, 3)).astype("float32")
    raw = to_numpy(head(feats))
    plain = to_numpy(head.predict(feats, target_root=root))
    assert plain["keypoints"].shape == (2, K, 3)
    np.testing.assert_allclose(plain["keypoints"][:, :1], root, atol=1e-6)
    np.testing.assert_allclose(plain["keypoints"][:, 1:], raw + root, atol=1e-6)
    rel = to_numpy(head.predict(feats))["keypoints"]
    np.testing.assert_allclose(rel, raw, atol=1e-6)
    # flip test with the same features twice: mirrored, swapped, averaged
    flip = [0, 2, 1, 3]  # input keypoints; the root (0) is removed
    out = to_numpy(
        head.predict(
            [feats, feats], dict(flip_test=True), flip, target_root=None
        )
    )["keypoints"]
    mirrored = raw[:, [1, 0, 2]] * np.array([-1.0, 1.0, 1.0], "float32")
    np.testing.assert_allclose(out, (raw + mirrored) / 2, atol=1e-6)


def test_output_flip_indices():
    class Codec:
        root_index = [1]
        remove_root = True

    assert output_flip_indices([0, 1, 3, 2], 4, None) == [0, 1, 3, 2]
    assert output_flip_indices([2, 1, 0, 3], 3, Codec()) == [1, 0, 2]
    with pytest.raises(ValueError, match="flip_indices has 4 entries"):
        output_flip_indices([0, 1, 3, 2], 2, Codec())


def test_head_errors():
    with pytest.raises(ValueError, match="multiple input"):
        keraspose.build(
            dict(type="TemporalRegressionHead", in_channels=[4], num_joints=2)
        )
    head = keraspose.build(
        dict(type="TemporalRegressionHead", in_channels=4, num_joints=2)
    )
    with pytest.raises(ValueError, match=r"\(B, T, 4\)"):
        head((np.zeros((1, 1, 5), "float32"),))
    with pytest.raises(ValueError, match="lifting_target_weight"):
        head.loss_by_outputs(
            np.zeros((1, 2, 3)), dict(lifting_target_label=np.zeros((1, 2, 3)))
        )
    with pytest.raises(ValueError, match="no decoder"):
        head.predict((np.zeros((1, 1, 4), "float32"),))

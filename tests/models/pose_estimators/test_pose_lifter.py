"""PoseLifter: MMPose parity of predict, fit / predict / .keras, flip test."""

import json
import os

import keras
import numpy as np
import pytest

import keraspose
from keraspose import converters
from keraspose.registry import to_config
from tests.conftest import FIXTURES
from tests.helpers import assert_allclose_tree

K, T = 4, 27
FLIP = [0, 2, 1, 3]
CODEC = dict(type="VideoPoseLifting", num_keypoints=K)


def tiny_lifter(traj=False, test_cfg=None, **tcn):
    cfg = dict(
        type="PoseLifter",
        backbone=dict(
            type="TCN",
            in_channels=K * 2,
            stem_channels=8,
            kernel_sizes=(3, 3, 3),
            dropout=0.0,
            **dict(dict(use_stride_conv=True), **tcn),
        ),
        head=dict(
            type="TemporalRegressionHead",
            in_channels=8,
            num_joints=K,
            loss=dict(type="MPJPELoss"),
            decoder=CODEC,
        ),
        test_cfg=test_cfg,
        metainfo=dict(flip_indices=FLIP),
    )
    if traj:
        cfg["traj_head"] = dict(
            type="TrajectoryRegressionHead",
            in_channels=8,
            num_joints=1,
            decoder=CODEC,
        )
    return keraspose.build(cfg)


def data(n=8, frames=T, seed=0):
    rng = np.random.default_rng(seed)
    x = dict(
        keypoints=rng.normal(size=(n, frames, K, 2)).astype("float32"),
        target_root=rng.normal(size=(n, 1, 3)).astype("float32"),
    )
    y = dict(
        lifting_target_label=rng.normal(size=(n, K, 3)).astype("float32"),
        lifting_target_weight=np.ones((n, K), "float32"),
        trajectory_weights=np.ones((n, K), "float32"),
    )
    return x, y


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_tcn.npz"))


@pytest.mark.parametrize("tag", ["predict_video", "predict_image"])
def test_predict_equals_mmpose(fx, tag):
    """MMPose's PoseLifter.predict with target_root in the metainfo."""
    cfg = json.loads(str(fx[f"{tag}_cfg"]))
    model = keraspose.build(cfg)
    x = np.transpose(fx[f"{tag}_input"], (0, 2, 1))  # (B, T, K * C)
    b, t, kc = x.shape
    model.build((None, t, kc // 2, 2))
    prefix = f"{tag}_state/"
    report = converters.load_state_dict(
        model,
        {k[len(prefix) :]: v for k, v in fx.items() if k.startswith(prefix)},
    )
    assert not report.missing and not report.unexpected
    inputs = dict(
        keypoints=x.reshape(b, t, kc // 2, 2),
        target_root=fx[f"{tag}_target_root"],
    )
    out = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(
        out["keypoints"], fx[f"{tag}_keypoints"], atol=1e-5, rtol=1e-5
    )
    np.testing.assert_allclose(out["keypoint_scores"], fx[f"{tag}_scores"])


def test_fit_predict_save_load(tmp_path):
    model = tiny_lifter(traj=True, test_cfg=dict(flip_test=True))
    x, y = data()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(x, y, batch_size=4, epochs=3, verbose=0).history
    for name in ("loss", "loss_pose3d", "mpjpe", "loss_traj", "mpjpe_traj"):
        assert np.all(np.isfinite(history[name])), name
    assert history["loss_pose3d"][-1] < history["loss_pose3d"][0]
    out = model.predict(x, batch_size=4, verbose=0)
    assert out["keypoints"].shape == (8, K, 3)
    assert out["keypoint_scores"].shape == (8, K)
    assert out["trajectory"].shape == (8, 1, 3)
    # a plain-tensor forward gives the raw (pose, trajectory) pair
    raw = model(x)
    assert tuple(raw[0].shape) == (8, K, 3) and tuple(raw[1].shape) == (8, 1, 3)

    clone = keraspose.build(to_config(model))
    assert to_config(clone) == to_config(model)
    path = os.path.join(tmp_path, "lifter.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert_allclose_tree(loaded.predict(x, verbose=0), out, atol=1e-5)
    # the optimizer state came back: training resumes
    loaded.fit(x, y, batch_size=4, epochs=1, verbose=0)


def test_flip_test_mirrors_inputs_and_outputs():
    """Flip test equals averaging the plain pass with the mirrored pass of
    mirrored inputs (x -> -x, left/right swapped) computed by hand."""
    model = tiny_lifter(use_stride_conv=False)
    x, _ = data(n=2)
    x.pop("target_root")
    plain = model.predict(x, verbose=0)["keypoints"]
    mirror = np.array([-1.0, 1.0], "float32")
    flipped_in = dict(keypoints=x["keypoints"][:, :, FLIP] * mirror)
    flipped = model.predict(flipped_in, verbose=0)["keypoints"]
    back = flipped[:, FLIP] * np.array([-1.0, 1.0, 1.0], "float32")
    model.test_cfg = dict(flip_test=True)
    model.make_predict_function(force=True)
    both = model.predict(x, verbose=0)["keypoints"]
    np.testing.assert_allclose(both, (plain + back) / 2, atol=1e-5)


def test_output_keypoint_indices_and_root():
    model = tiny_lifter(test_cfg=dict(output_keypoint_indices=[0, 2]))
    x, _ = data(n=2)
    out = model.predict(x, verbose=0)
    assert out["keypoints"].shape == (2, 2, 3)
    assert out["keypoint_scores"].shape == (2, 2)
    model.test_cfg = {}
    model.make_predict_function(force=True)
    rel = model.predict(dict(keypoints=x["keypoints"]), verbose=0)
    root = model.predict(x, verbose=0)
    np.testing.assert_allclose(
        root["keypoints"], rel["keypoints"] + x["target_root"], atol=1e-5
    )


def test_shared_backbone_trajectory_and_semi_loss_warning():
    with pytest.warns(UserWarning, match="semi_loss is not applied"):
        model = keraspose.build(
            dict(
                to_config(tiny_lifter(traj=True)),
                semi_loss=dict(type="SemiSupervisionLoss", joint_parents=[0]),
            )
        )
    assert model.share_backbone and model.with_traj and not model.causal
    x, _ = data(n=2)
    pose, traj = model(x)
    assert tuple(traj.shape) == (2, 1, 3)


def test_errors():
    with pytest.raises(ValueError, match="no data preprocessor"):
        keraspose.build(
            dict(
                to_config(tiny_lifter()),
                data_preprocessor=dict(type="PoseDataPreprocessor"),
            )
        )
    with pytest.raises(ValueError, match="only with a traj_head"):
        keraspose.build(
            dict(to_config(tiny_lifter()), traj_neck=dict(type="GAPNeck"))
        )
    model = tiny_lifter()
    with pytest.raises(ValueError, match=r"\(B, T, K, C\)"):
        model(dict(keypoints=np.zeros((1, T, K * 2), "float32")))
    with pytest.raises(ValueError, match="'keypoints' entry"):
        model(dict(images=np.zeros((1, T, K, 2), "float32")))
    with pytest.raises(ValueError, match="Training needs targets"):
        model.compute_loss(y=None)
    model = keraspose.build(dict(to_config(model), metainfo=None))
    model.test_cfg = dict(flip_test=True)
    with pytest.raises(ValueError, match="flip_indices"):
        model(dict(keypoints=np.zeros((1, T, K, 2), "float32")), mode="predict")

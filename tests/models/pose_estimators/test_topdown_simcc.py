"""A tiny top-down RTMPose-style model: ResNet + RTMCCHead + SimCCLabel."""

import os

import keras
import numpy as np
import pytest

import keraspose
from keraspose.datasets import SyntheticPoseDataset
from tests.helpers import imagenet_preprocessor
from tests.helpers import tiny_resnet

K = 5
SIZE = (64, 96)  # (w, h)
CODEC = dict(
    type="SimCCLabel",
    input_size=SIZE,
    sigma=(2.0, 2.5),
    simcc_split_ratio=2.0,
    normalize=False,
)
HEAD = dict(
    type="RTMCCHead",
    in_channels=64,
    out_channels=K,
    input_size=SIZE,
    in_featuremap_size=(SIZE[0] // 32, SIZE[1] // 32),
    simcc_split_ratio=2.0,
    final_layer_kernel_size=3,
    gau_cfg=dict(hidden_dims=32, s=16, act_fn="SiLU"),
    loss=dict(
        type="KLDiscretLoss",
        use_target_weight=True,
        beta=10.0,
        label_softmax=True,
    ),
    decoder=CODEC,
)


def tiny_model(head=HEAD, metainfo=None):
    return keraspose.build(
        dict(
            type="TopdownPoseEstimator",
            data_preprocessor=imagenet_preprocessor(),
            backbone=tiny_resnet(),
            head=head,
            metainfo=metainfo,
            test_cfg=dict(flip_test=True),
        )
    )


@pytest.fixture(scope="module")
def data():
    ds = SyntheticPoseDataset(num_samples=48, num_keypoints=K, input_size=SIZE)
    x, y = ds.as_fit_data(keraspose.build(CODEC))
    return ds, x, y


def test_topdown_rtmcc_trains_saves_reloads_and_predicts(data, tmp_path):
    ds, x, y = data
    assert y["keypoint_x_labels"].shape == (48, K, 128)
    assert y["keypoint_y_labels"].shape == (48, K, 192)
    model = tiny_model(metainfo=ds.metainfo)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
    assert {"loss", "loss_kpt", "acc_pose"} <= set(hist)
    assert all(np.isfinite(hist["loss"]))
    assert hist["loss"][-1] < hist["loss"][0]
    sub = {k: v[:16] for k, v in x.items()}
    preds = model.predict(sub, batch_size=16, verbose=0)
    assert preds["keypoints"].shape == (16, K, 2)
    assert preds["keypoint_scores"].shape == (16, K)
    path = os.path.join(tmp_path, "rtm.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    again = loaded.predict(sub, batch_size=16, verbose=0)
    for key in ("keypoints", "keypoint_scores"):
        np.testing.assert_allclose(again[key], preds[key], atol=1e-4)


def test_topdown_vis_head_around_rtmcc_head(data, tmp_path):
    ds, x, y = data
    head = dict(
        type="VisPredictHead",
        pose_cfg=dict(HEAD, decoder=dict(CODEC, decode_visibility=True)),
    )
    model = tiny_model(head=head, metainfo=ds.metainfo)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    logs = model.train_on_batch(
        {k: v[:16] for k, v in x.items()},
        {k: v[:16] for k, v in y.items()},
        return_dict=True,
    )
    assert {"loss_vis", "acc_vis", "loss_kpt", "acc_pose"} <= set(logs)
    assert all(np.isfinite(v) for v in logs.values())
    sub = {k: v[:4] for k, v in x.items()}
    preds = model.predict(sub, verbose=0)
    assert preds["keypoints_visible"].shape == (4, K)
    path = os.path.join(tmp_path, "vis.keras")
    model.save(path)
    again = keras.saving.load_model(path, compile=False).predict(sub, verbose=0)
    for key in ("keypoints", "keypoint_scores", "keypoints_visible"):
        np.testing.assert_allclose(again[key], preds[key], atol=1e-4)

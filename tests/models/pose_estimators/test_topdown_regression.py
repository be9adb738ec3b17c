"""Top-down estimators with regression heads (RLE, DSNT, DeepPose)."""

import os

import keras
import numpy as np
import pytest

import keraspose
from keraspose.datasets import SyntheticPoseDataset
from tests.helpers import imagenet_preprocessor
from tests.helpers import tiny_resnet
from tests.helpers import to_numpy

K = 5
SIZE = (64, 96)  # (w, h); the tiny ResNet's last feature map is 2 x 3
REG_CODEC = dict(type="RegressionLabel", input_size=SIZE)
IPR_CODEC = dict(
    type="IntegralRegressionLabel",
    input_size=SIZE,
    heatmap_size=(8, 12),
    sigma=1.0,
)
HEADS = {
    "rle": (
        dict(
            type="RLEHead",
            in_channels=64,
            num_joints=K,
            loss=dict(type="RLELoss", use_target_weight=True),
            decoder=REG_CODEC,
        ),
        REG_CODEC,
        dict(flip_test=True, shift_coords=True),
    ),
    "dsnt": (
        dict(
            type="DSNTHead",
            in_channels=64,
            in_featuremap_size=(2, 3),
            num_joints=K,
            deconv_out_channels=(16, 16),
            deconv_kernel_sizes=(4, 4),
            decoder=IPR_CODEC,
        ),
        IPR_CODEC,
        dict(flip_test=True, shift_coords=True, shift_heatmap=True),
    ),
}


def tiny_model(head, test_cfg, metainfo=None):
    return keraspose.build(
        dict(
            type="TopdownPoseEstimator",
            data_preprocessor=imagenet_preprocessor(),
            backbone=tiny_resnet(),
            head=head,
            metainfo=metainfo,
            test_cfg=test_cfg,
        )
    )


@pytest.fixture(scope="module")
def dataset():
    return SyntheticPoseDataset(
        num_samples=48, num_keypoints=K, input_size=SIZE
    )


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_fit_save_reload_predict(dataset, kind, tmp_path):
    head, codec, test_cfg = HEADS[kind]
    x, y = dataset.as_fit_data(keraspose.build(codec))
    model = tiny_model(head, test_cfg, dataset.metainfo)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    hist = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
    assert {"loss", "loss_kpt", "acc_pose"} <= set(hist)
    assert np.all(np.isfinite(hist["loss"]))
    assert hist["loss"][-1] < hist["loss"][0]
    preds = model.predict(x, batch_size=16, verbose=0)
    assert preds["keypoints"].shape == (48, K, 2)
    assert preds["keypoint_scores"].shape == (48, K)
    path = os.path.join(tmp_path, f"{kind}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    again = loaded.predict(x, batch_size=16, verbose=0)
    for key in ("keypoints", "keypoint_scores"):
        np.testing.assert_allclose(again[key], preds[key], atol=1e-4)
    # every weight (the RLE flow included) survives the round trip
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    if kind == "rle":
        # the flow trained with the model
        flow = model.head.loss_module.flow_model.flow_layers[0]
        assert np.any(to_numpy(flow.bias) != 0)


def test_dsnt_lambda_t_follows_the_epoch(dataset):
    head, codec, test_cfg = HEADS["dsnt"]
    x, y = dataset.as_fit_data(keraspose.build(codec))
    x, y = {k: v[:16] for k, v in x.items()}, {k: v[:16] for k, v in y.items()}
    model = tiny_model(dict(head, lambda_t=1), test_cfg, dataset.metainfo)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    set_epoch = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: model.head.set_epoch(epoch)
    )
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[set_epoch])
    assert float(to_numpy(model.head.current_epoch)) == 1.0
    late = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    coords, _ = model(x, training=False)
    smooth_l1 = keraspose.build(
        dict(type="SmoothL1Loss", use_target_weight=True)
    )
    expected = smooth_l1(coords, y["keypoint_labels"], y["keypoint_weights"])
    np.testing.assert_allclose(late["loss_kpt"], to_numpy(expected), rtol=1e-4)
    model.head.set_epoch(0)
    early = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert early["loss_kpt"] > late["loss_kpt"]


def test_vis_predict_head_around_regression_head(dataset):
    x, y = dataset.as_fit_data(keraspose.build(REG_CODEC))
    head = dict(
        type="VisPredictHead",
        pose_cfg=dict(
            type="RegressionHead",
            in_channels=64,
            num_joints=K,
            decoder=REG_CODEC,
        ),
    )
    model = tiny_model(
        head, dict(flip_test=True, shift_coords=True), dataset.metainfo
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = model.train_on_batch(
        {k: v[:16] for k, v in x.items()},
        {k: v[:16] for k, v in y.items()},
        return_dict=True,
    )
    assert {"loss_vis", "acc_vis", "loss_kpt", "acc_pose"} <= set(logs)
    assert all(np.isfinite(v) for v in logs.values())
    preds = model.predict({k: v[:4] for k, v in x.items()}, verbose=0)
    assert preds["keypoints"].shape == (4, K, 2)
    assert preds["keypoints_visible"].shape == (4, K)

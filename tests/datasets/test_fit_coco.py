"""A SimpleBaseline model trains on the real COCO sample through tf.data,
on whichever backend the suite runs (jax, tensorflow, torch)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras  # noqa: E402

import keraspose  # noqa: E402
from keraspose.datasets import CocoDataset  # noqa: E402

INPUT = (64, 96)
CODEC = dict(
    type="MSRAHeatmap", input_size=INPUT, heatmap_size=(16, 24), sigma=2
)

TRAIN_PIPELINE = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale"),
    dict(type="RandomFlip", direction="horizontal"),
    dict(type="RandomHalfBody"),
    dict(type="RandomBBoxTransform"),
    dict(type="TopdownAffine", input_size=INPUT),
    dict(type="PhotometricDistortion"),
    dict(type="GenerateTarget", encoder=CODEC),
    dict(type="PackPoseInputs"),
]
VAL_PIPELINE = [
    dict(type="LoadImage"),
    dict(type="GetBBoxCenterScale"),
    dict(type="TopdownAffine", input_size=INPUT),
    dict(type="PackPoseInputs"),
]


def simple_baseline(metainfo):
    return keraspose.build(
        dict(
            type="TopdownPoseEstimator",
            data_preprocessor=dict(
                type="PoseDataPreprocessor",
                mean=[123.675, 116.28, 103.53],
                std=[58.395, 57.12, 57.375],
                bgr_to_rgb=True,
            ),
            backbone=dict(
                type="ResNet", depth=18, base_channels=8, stem_channels=8
            ),
            head=dict(
                type="HeatmapHead",
                in_channels=64,
                out_channels=17,
                deconv_out_channels=(16, 16, 16),
                loss=dict(type="KeypointMSELoss", use_target_weight=True),
                decoder=CODEC,
            ),
            test_cfg=dict(
                flip_test=True, flip_mode="heatmap", shift_heatmap=True
            ),
            metainfo=metainfo,
        )
    )


def test_simplebaseline_fits_on_coco_pipeline(shared_data, tmp_path):
    root = str(shared_data / "coco")
    train = CocoDataset(
        ann_file="test_coco.json", data_root=root, pipeline=TRAIN_PIPELINE
    )
    model = simple_baseline(train.metainfo)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    loader = train.to_tf_dataset(batch_size=4, seed=0)
    history = model.fit(loader, epochs=2, verbose=0).history
    assert len(history["loss"]) == 2
    assert np.isfinite(history["loss"]).all()
    assert "acc_pose" in history

    val = CocoDataset(
        ann_file="test_coco.json",
        data_root=root,
        test_mode=True,
        pipeline=VAL_PIPELINE,
    )
    val_loader = val.to_tf_dataset(batch_size=4)
    pred = model.predict(val_loader, verbose=0)
    assert pred["keypoints"].shape == (len(val), 17, 2)
    path = tmp_path / "coco_model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, compile=False)
    again = reloaded.predict(val_loader, verbose=0)
    np.testing.assert_allclose(again["keypoints"], pred["keypoints"], atol=1e-3)
    np.testing.assert_allclose(
        again["keypoint_scores"], pred["keypoint_scores"], atol=1e-5
    )

"""A SimpleBaseline model trains on the real COCO sample through tf.data,
on whichever backend the suite runs (jax, tensorflow, torch)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

import keras  # noqa: E402

from keraspose.datasets import CocoDataset  # noqa: E402
from tests.models.pose_estimators.test_topdown import HEAD  # noqa: E402
from tests.models.pose_estimators.test_topdown import tiny_model  # noqa: E402

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
    """The foundation tests' tiny SimpleBaseline, with COCO's 17 keypoints."""
    head = dict(
        HEAD,
        out_channels=17,
        decoder=CODEC,
        loss=dict(type="KeypointMSELoss", use_target_weight=True),
    )
    return tiny_model(head=head, metainfo=metainfo)


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

"""RTMPose's config trains through the runner on the COCO sample.

MMPose's RTMPose-s config, shrunk to a tiny CSPNeXt and a 64x96 input: the
tf.data pipeline with YOLOXHSVRandomAug and Albumentation, SimCC targets,
AdamW with MMPose's schedule, the EMA hook (ExpMomentumEMA) and the
PipelineSwitchHook (switched after the first of two epochs), then
evaluation with CocoMetric on the reloaded checkpoint.
"""

import csv
import os

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("pycocotools")

import keras  # noqa: E402

from keraspose.apis import test as run_test  # noqa: E402
from keraspose.apis import train  # noqa: E402
from keraspose.apis.demo import config_path  # noqa: E402

RTMPOSE_S = (
    "body_2d_keypoint/rtmpose/coco/rtmpose-s_8xb256-420e_coco-256x192.py"
)


def tiny_rtmpose(data_root):
    codec = dict(
        type="SimCCLabel",
        input_size=(64, 96),
        sigma=(4.9, 5.66),
        simcc_split_ratio=2.0,
        normalize=False,
    )
    options = {
        "data_root": str(data_root) + "/",
        "train_cfg.max_epochs": 2,
        "train_cfg.val_interval": 1,
        "model.backbone.deepen_factor": 0.167,
        "model.backbone.widen_factor": 0.125,
        "model.head.in_channels": 128,
        "model.head.input_size": (64, 96),
        "model.head.in_featuremap_size": (2, 3),
        "model.head.gau_cfg.hidden_dims": 32,
        "model.head.gau_cfg.s": 16,
        "model.head.decoder": codec,
        "train_dataloader.batch_size": 8,
        "val_dataloader.batch_size": 8,
        "custom_hooks.1.switch_epoch": 1,
        "val_evaluator.ann_file": str(data_root / "test_coco.json"),
        "test_evaluator.ann_file": str(data_root / "test_coco.json"),
    }
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        options[f"{loader}.dataset.ann_file"] = "test_coco.json"
        options[f"{loader}.dataset.data_prefix"] = dict(img="")
    for prefix in (
        "train_dataloader.dataset.pipeline",
        "custom_hooks.1.switch_pipeline",
    ):
        options[f"{prefix}.5.input_size"] = (64, 96)
        options[f"{prefix}.8.encoder"] = codec
    for loader in ("val_dataloader", "test_dataloader"):
        options[f"{loader}.dataset.pipeline.2.input_size"] = (64, 96)
    return options


@pytest.mark.heavy
def test_rtmpose_trains_with_ema_and_pipeline_switch(shared_data, tmp_path):
    coco = shared_data / "coco"
    work_dir = str(tmp_path / "rtm")
    cfg = config_path(RTMPOSE_S)
    options = tiny_rtmpose(coco)
    model, history = train(cfg, work_dir, cfg_options=options, verbose=0)
    assert len(history["loss"]) == 2  # one epoch per pipeline
    assert np.all(np.isfinite(history["loss_kpt"]))
    assert "coco/AP" in history and "acc_pose" in history
    with open(os.path.join(work_dir, "log.csv")) as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1]
    # The checkpoint holds the EMA weights, which is what evaluation saw.
    last = os.path.join(work_dir, "last.keras")
    reloaded = keras.saving.load_model(last, compile=False)
    for a, b in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    metrics = run_test(cfg, last, cfg_options=options)
    assert metrics["coco/AP"] == pytest.approx(history["coco/AP"][-1], abs=1e-6)

"""``train`` / ``test`` / ``inference_topdown`` / the CLI on the COCO sample.

A tiny SimpleBaseline config trains for one epoch, is "interrupted", and
resumes for a second epoch from its ``last.keras``: the epoch counter, the
optimizer's iteration count (hence the LR schedule) and the logs continue.
"""

import csv
import json
import os

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("pycocotools")

import keras  # noqa: E402

import keraspose  # noqa: E402
from keraspose import cli  # noqa: E402
from keraspose.apis import inference_topdown  # noqa: E402
from keraspose.apis import load_config  # noqa: E402
from keraspose.apis import test as run_test  # noqa: E402
from keraspose.apis import train  # noqa: E402
from keraspose.apis.demo import config_path  # noqa: E402

SMALL = (
    "body_2d_keypoint/topdown_heatmap/coco/"
    "td-hm_res18-w16_1xb16-80e_coco-tiny-256x192.py"
)


def tiny_options(data_root, epochs):
    """The shipped small config shrunk to seconds per epoch."""
    codec = dict(
        type="MSRAHeatmap", input_size=(64, 96), heatmap_size=(16, 24), sigma=2
    )
    return {
        "data_root": str(data_root) + "/",
        "train_cfg.max_epochs": epochs,
        "train_cfg.val_interval": 1,
        "model.backbone.base_channels": 8,
        "model.backbone.stem_channels": 8,
        "model.head.in_channels": 64,
        "model.head.deconv_out_channels": (16, 16, 16),
        "model.head.decoder": codec,
        "train_dataloader.batch_size": 8,
        "train_dataloader.dataset.pipeline.2.input_size": (64, 96),
        "train_dataloader.dataset.pipeline.3.encoder": codec,
        "val_dataloader.dataset.pipeline.2.input_size": (64, 96),
        "test_dataloader.dataset.pipeline.2.input_size": (64, 96),
        "param_scheduler.1.end": 2,
        "param_scheduler.1.T_max": 2,
    }


def read_log(work_dir):
    with open(os.path.join(work_dir, "log.csv")) as f:
        return list(csv.DictReader(f))


def test_train_resume_test_infer(shared_data, tmp_path):
    coco = shared_data / "coco"
    work_dir = str(tmp_path / "run")
    cfg = config_path(SMALL)

    model, history = train(cfg, work_dir, cfg_options=tiny_options(coco, 1))
    with open(os.path.join(work_dir, "train_state.json")) as f:
        assert json.load(f)["epoch"] == 1
    assert "coco/AP" in history and "loss" in history
    steps = -(-14 // 8)
    assert int(model.optimizer.iterations.numpy()) == steps
    lr_after_one = float(
        keras.ops.convert_to_numpy(
            model.optimizer.learning_rate
            if not callable(model.optimizer.learning_rate)
            else model.optimizer.learning_rate(model.optimizer.iterations)
        )
    )

    # "Interrupted" after epoch 1; resume with the full run of 2 epochs.
    resumed, history = train(
        cfg, work_dir, resume=True, cfg_options=tiny_options(coco, 2)
    )
    assert list(history["coco/AP"]) and len(history["loss"]) == 1
    assert int(resumed.optimizer.iterations.numpy()) == 2 * steps
    assert np.isfinite(lr_after_one)
    rows = read_log(work_dir)
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    with open(os.path.join(work_dir, "train_state.json")) as f:
        state = json.load(f)
    assert state["epoch"] == 2 and state["save_best"] == "coco/AP"
    assert os.path.exists(os.path.join(work_dir, "best_coco_AP.keras"))
    with open(os.path.join(work_dir, "metrics.json")) as f:
        assert json.load(f)[-1]["epoch"] == 2

    # Nothing left to do: resuming a finished run trains no further.
    _, history = train(
        cfg, work_dir, resume=True, cfg_options=tiny_options(coco, 2)
    )
    assert history == {}

    # test: the reloaded checkpoint gives the same metrics as the callback.
    last = os.path.join(work_dir, "last.keras")
    metrics = run_test(cfg, last, cfg_options=tiny_options(coco, 2))
    assert set(metrics) >= {"coco/AP", "coco/AR"}
    with open(os.path.join(work_dir, "metrics.json")) as f:
        logged = json.load(f)[-1]
    assert metrics["coco/AP"] == pytest.approx(logged["coco/AP"], abs=1e-6)

    # inference on a whole image with boxes, and through the CLI.
    image = str(coco / "000000196141.jpg")
    loaded = keras.saving.load_model(last, compile=False)
    out = inference_topdown(loaded, image, [[100, 50, 300, 400, 0.9]])
    assert out["keypoints"].shape == (1, 17, 2)
    assert out["bbox_scores"].tolist() == [pytest.approx(0.9)]
    out_dir = tmp_path / "vis"
    assert cli.main(["infer", last, image, "--out", str(out_dir)]) == 0
    assert (out_dir / "000000196141.png").stat().st_size > 1000
    with open(out_dir / "predictions.json") as f:
        assert len(json.load(f)["000000196141.jpg"]["keypoints"]) == 1


def test_cli_test_with_bbox_file(shared_data, tmp_path):
    coco = shared_data / "coco"
    cfg = load_config(config_path(SMALL), tiny_options(coco, 1))
    model = keraspose.build(cfg.model.to_dict())
    path = str(tmp_path / "m.keras")
    model.save(path)
    options = [f"{k}={v!r}" for k, v in tiny_options(coco, 1).items()]
    code = cli.main(
        [
            "test",
            config_path(SMALL),
            path,
            "--bbox-file",
            str(coco / "test_coco_det_AP_H_56.json"),
            "--work-dir",
            str(tmp_path),
            "--cfg-options",
            *options,
        ]
    )
    assert code == 0
    with open(tmp_path / "test_metrics.json") as f:
        assert "coco/AP" in json.load(f)

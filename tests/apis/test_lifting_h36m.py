"""Pose lifting end to end on the Human3.6M sample of ``../shared/data/h36m``:
the shipped SimpleBaseline3D and VideoPose3D-27 configs train with
``keraspose.apis.train`` (``model.fit`` on the configs' tf.data pipelines),
reload from ``.keras`` with equal predictions, and evaluate with MPJPE in
millimetres through ``keraspose.apis.test`` and the ``keraspose`` CLI.

The sample has four annotated frames (one per video), so every window is a
padded single frame. The overfit test (slow: CI runs it on tensorflow, set
``KERASPOSE_SLOW_ALL_BACKENDS=1`` for every backend) trains SimpleBaseline3D
on them and reaches an MPJPE below 10 mm on the same frames.
"""

import json
import os
import time

import keras
import numpy as np
import pytest

pytest.importorskip("tensorflow")

from keraspose import cli  # noqa: E402
from keraspose.apis import load_config  # noqa: E402
from keraspose.apis import test as run_test  # noqa: E402
from keraspose.apis import train  # noqa: E402
from keraspose.apis.demo import config_path  # noqa: E402
from keraspose.datasets.builder import build_dataloader  # noqa: E402
from keraspose.utils.config import to_plain  # noqa: E402
from tests.helpers import BACKEND  # noqa: E402
from tests.helpers import assert_allclose_tree  # noqa: E402

IMAGE = "image_pose_lift/h36m/image-pose-lift_tcn_8xb64-200e_h36m.py"
VIDEO = (
    "video_pose_lift/h36m/video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py"
)
ALL = (
    IMAGE,
    VIDEO,
    "video_pose_lift/h36m/video-pose-lift_tcn-81frm-supv_8xb128-160e_h36m.py",
    "video_pose_lift/h36m/video-pose-lift_tcn-243frm-supv_8xb128-160e_h36m.py",
)
LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")
SAMPLE = "test_h36m_body3d.npz"


def path(name):
    return config_path("body_3d_keypoint/" + name)


def h36m_options(name, data_root, epochs=1, train_ann=SAMPLE, batch=4):
    """``--cfg-options`` that point a shipped config at the sample."""
    options = {
        "data_root": f"{data_root}/",
        "train_cfg.max_epochs": epochs,
        "train_cfg.val_interval": epochs,
        "randomness.seed": 0,
        "train_dataloader.batch_size": batch,
        "val_dataloader.batch_size": 4,
        "test_dataloader.batch_size": 4,
    }
    for loader in LOADERS:
        ann = train_ann if loader == "train_dataloader" else SAMPLE
        options[f"{loader}.dataset.ann_file"] = ann
        if name != IMAGE:
            options[f"{loader}.dataset.camera_param_file"] = os.path.join(
                data_root, "cameras.pkl"
            )
    return options


def as_cli(options):
    return [
        f"{k}={v!r}" if isinstance(v, list) else f"{k}={v}"
        for k, v in options.items()
    ]


def val_batch(name, options):
    """One packed validation batch ``x`` (string meta included)."""
    cfg = load_config(path(name), options)
    loader, _ = build_dataloader(to_plain(cfg.val_dataloader))
    x, _ = next(iter(loader))
    return {k: v.numpy() for k, v in x.items()}


@pytest.mark.parametrize("name", ALL)
def test_configs_report_mpjpe_in_millimetres(name):
    # MMPose's H3.6M annotations are in metres and its MPJPE reports them
    # as they are; the shipped configs scale to mm.
    cfg = load_config(path(name))
    for key in ("val_evaluator", "test_evaluator"):
        metrics = to_plain(cfg[key])
        assert [m["mode"] for m in metrics] == ["mpjpe", "p-mpjpe"]
        assert all(m["unit_scale"] == 1000 for m in metrics)


@pytest.mark.parametrize("name", [IMAGE, VIDEO])
def test_train_reload_and_test_on_h36m_sample(name, shared_data, tmp_path):
    data_root = str(shared_data / "h36m")
    options = h36m_options(name, data_root)
    work_dir = tmp_path / "work"
    model, history = train(
        path(name), work_dir=str(work_dir), cfg_options=options, verbose=0
    )
    assert np.isfinite(history["loss"]).all()
    assert sorted(history) == [
        "MPJPE",
        "P-MPJPE",
        "loss",
        "loss_pose3d",
        "mpjpe",
    ]
    # whole packed batches (string target_img_path) predict on any backend
    x = val_batch(name, options)
    assert x["target_img_path"].dtype == object
    want = model.predict(x, verbose=0)
    assert want["keypoints"].shape == (4, 17, 3)
    if name == IMAGE:  # the removed root joint comes back as the GT root
        np.testing.assert_allclose(
            want["keypoints"][:, 0], x["target_root"][:, 0], atol=1e-6
        )
    got = model.predict_on_batch(x)
    assert_allclose_tree(got, want, atol=1e-5, rtol=1e-5)

    loaded = keras.saving.load_model(work_dir / "last.keras")
    assert_allclose_tree(loaded.predict_on_batch(x), want, atol=1e-6)
    # `test` (MPJPE in mm) reproduces the evaluation after training
    metrics = run_test(path(name), loaded, cfg_options=options, verbose=0)
    assert list(metrics) == ["MPJPE", "P-MPJPE"]
    np.testing.assert_allclose(
        [metrics["MPJPE"], metrics["P-MPJPE"]],
        [history["MPJPE"][-1], history["P-MPJPE"][-1]],
        rtol=1e-5,
    )
    assert 10 < metrics["MPJPE"] < 5000  # untrained, in millimetres
    # the tf.data loader itself (strings included) predicts too
    cfg = load_config(path(name), options)
    loader, _ = build_dataloader(to_plain(cfg.val_dataloader))
    out = loaded.predict(loader, verbose=0)
    np.testing.assert_allclose(
        out["keypoints"], want["keypoints"], atol=1e-5, rtol=1e-5
    )


def test_cli_train_and_test_lifting_config(shared_data, tmp_path):
    options = as_cli(h36m_options(IMAGE, str(shared_data / "h36m")))
    work_dir = str(tmp_path / "cli")
    args = ["--work-dir", work_dir, "--cfg-options", *options]
    assert cli.main(["train", path(IMAGE), *args]) == 0
    with open(os.path.join(work_dir, "metrics.json")) as f:
        trained = json.load(f)[-1]
    best = os.path.join(work_dir, "best_MPJPE.keras")
    assert cli.main(["test", path(IMAGE), best, *args]) == 0
    with open(os.path.join(work_dir, "test_metrics.json")) as f:
        tested = json.load(f)
    np.testing.assert_allclose(tested["MPJPE"], trained["MPJPE"], rtol=1e-5)
    assert tested["P-MPJPE"] <= tested["MPJPE"]


@pytest.mark.heavy
@pytest.mark.skipif(
    BACKEND != "tensorflow"
    and not os.environ.get("KERASPOSE_SLOW_ALL_BACKENDS"),
    reason="slow; CI runs it on tensorflow (KERASPOSE_SLOW_ALL_BACKENDS=1)",
)
def test_simple_baseline3d_overfits_h36m_sample(shared_data, tmp_path):
    epochs = 60  # one step of the 4 frames each
    options = h36m_options(IMAGE, str(shared_data / "h36m"), epochs=epochs)
    options.update(
        {
            # memorising 4 frames: no dropout, and a decaying LR
            "model.backbone.dropout": 0.0,
            "param_scheduler": [
                dict(type="ExponentialLR", gamma=0.96, by_epoch=True)
            ],
            # no epoch_{n}.keras files (last.keras and the best only)
            "default_hooks.checkpoint.interval": 0,
        }
    )
    work_dir = tmp_path / "overfit"
    start = time.time()
    _, history = train(
        path(IMAGE), work_dir=str(work_dir), cfg_options=options, verbose=0
    )
    seconds = time.time() - start
    metrics = run_test(
        path(IMAGE),
        str(work_dir / "best_MPJPE.keras"),
        cfg_options=options,
        verbose=0,
    )
    print(
        f"{BACKEND}: MPJPE {metrics['MPJPE']:.3f} mm, P-MPJPE "
        f"{metrics['P-MPJPE']:.3f} mm after {epochs} epochs "
        f"({seconds:.0f} s); loss every 10 epochs",
        [round(v, 5) for v in history["loss"][::10]],
    )
    assert metrics["MPJPE"] < 10, (metrics, history)
    assert metrics["P-MPJPE"] <= metrics["MPJPE"] + 1e-6

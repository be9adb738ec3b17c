"""Bottom-up models (AE, DEKR) train on the shipped configs' pipelines.

The DEKR configs (COCO and CrowdPose) are loaded as shipped and shrunk:
128x128 inputs, 32x32 heatmaps, a one-stage ResNet (stride 4) instead of
HRNet-W32, tiny heads. AE uses the DEKR train pipeline with the AE codec
(MMPose's AE config ships an empty ``train_pipeline``) and the AE config's
head and ``test_cfg``. Each model takes a few ``fit`` steps on the
../shared/data samples, predicts (device and host stage, flip test, DEKR's
rescore net) on the val pipeline (batch 1, ``resize_mode='expand'``),
and predicts the same after a ``.keras`` round trip. ``keraspose train`` /
``keraspose test`` run on a tiny DEKR config with the bottom-up
``CocoMetric``.
"""

import functools
import json
import os

import keras
import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("pycocotools")

from keraspose import cli  # noqa: E402
from keraspose.apis import load_config  # noqa: E402
from keraspose.apis.demo import config_path  # noqa: E402
from keraspose.apis.runner import _compile  # noqa: E402
from keraspose.apis.runner import build_model  # noqa: E402
from keraspose.datasets.builder import build_dataloader  # noqa: E402

DEKR = {
    "coco": "body_2d_keypoint/dekr/coco/"
    "dekr_hrnet-w32_8xb10-140e_coco-512x512.py",
    "crowdpose": "body_2d_keypoint/dekr/crowdpose/"
    "dekr_hrnet-w32_8xb10-300e_crowdpose-512x512.py",
}
AE = (
    "body_2d_keypoint/associative_embedding/coco/"
    "ae_hrnet-w32_8xb24-300e_coco-512x512.py"
)
SIZE = (128, 128)
HEATMAP = (32, 32)
CHANNELS = 16
BACKBONE = dict(
    type="ResNet",
    depth=18,
    stem_channels=CHANNELS,
    base_channels=CHANNELS,
    num_stages=1,
    strides=(1,),
    dilations=(1,),
    out_indices=(0,),
)


def tiny_config(kind, name, shared_data, batch_size=2):
    """The shipped DEKR config of ``name``, shrunk; ``kind`` "ae" swaps in
    the AE config's codec, head and test_cfg."""
    root = str(shared_data / name) + "/"
    cfg = load_config(config_path(DEKR[name]), {"data_root": root}).to_dict()
    if kind == "dekr":
        # a lower root threshold, so the briefly trained model predicts
        # instances to compare
        codec = dict(
            cfg["codec"], input_size=SIZE, heatmap_size=HEATMAP, decode_thr=0.0
        )
        head = dict(
            cfg["model"]["head"],
            in_channels=CHANNELS,
            num_heatmap_filters=8,
            num_displacement_filters_per_keypoint=2,
            decoder=codec,
        )
        # the rescore net stays (random weights): DEKR's rescoring runs
        head["rescore_cfg"] = {
            k: v for k, v in head["rescore_cfg"].items() if k != "init_cfg"
        }
        test_cfg = cfg["model"]["test_cfg"]
    else:
        ae = load_config(config_path(AE)).to_dict()
        codec = dict(
            ae["codec"],
            input_size=SIZE,
            heatmap_size=HEATMAP,
            decode_keypoint_thr=0.0,
            decode_topk=4,
            decode_max_instances=6,
        )
        if name != "coco":
            codec.pop("decode_keypoint_order")  # COCO's 17 keypoints
        head = dict(
            ae["model"]["head"],
            in_channels=CHANNELS,
            num_keypoints=17 if name == "coco" else 14,
            decoder=dict(codec, heatmap_size=SIZE),
        )
        test_cfg = ae["model"]["test_cfg"]
    cfg["codec"] = codec
    cfg["model"] = dict(
        type="BottomupPoseEstimator",
        data_preprocessor=cfg["model"]["data_preprocessor"],
        backbone=BACKBONE,
        head=head,
        test_cfg=test_cfg,
    )
    train = cfg["train_dataloader"]["dataset"]["pipeline"]
    for step in train:
        if step["type"] == "BottomupRandomAffine":
            step["input_size"] = SIZE
        if step["type"] == "GenerateTarget":
            step["encoder"] = codec
    ann = f"test_{name}.json"
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        dataset = cfg[loader]["dataset"]
        dataset["ann_file"] = ann
        dataset["data_prefix"] = dict(img="")
        for step in dataset["pipeline"]:
            if step["type"] == "BottomupResize":
                step["input_size"] = SIZE
    for key in ("val_evaluator", "test_evaluator"):
        cfg[key]["ann_file"] = root + ann
    cfg["train_dataloader"]["batch_size"] = batch_size
    cfg["param_scheduler"] = []  # no 500-iteration warm-up
    cfg["train_cfg"] = dict(max_epochs=1, val_interval=1)
    cfg["randomness"] = dict(seed=1)
    return load_config(cfg)


def _check_fit_predict_reload(kind, name, shared_data, tmp_path, epochs):
    cfg = tiny_config(kind, name, shared_data)
    loader, train_set = build_dataloader(cfg.train_dataloader.to_dict(), seed=1)
    x, y = next(iter(loader))
    k = 17 if name == "coco" else 14
    if kind == "ae":
        assert tuple(y["keypoint_indices"].shape[2:]) == (k, 2)
    else:
        assert tuple(y["displacements"].shape) == (2, *HEATMAP, 2 * k)
    keras.utils.set_random_seed(1)
    model = build_model(cfg, train_set.metainfo)
    _compile(model, cfg, 2)
    logs = model.fit(loader, epochs=epochs, verbose=0).history
    assert all(np.all(np.isfinite(v)) for v in logs.values()), logs
    assert len(logs["loss"]) == epochs
    # A few more steps on one (cached) batch of the pipeline: the loss
    # goes down (over the randomly augmented epochs it is too noisy).
    one = loader.take(1).cache().repeat()
    losses = model.fit(one, epochs=4, steps_per_epoch=1, verbose=0)
    losses = losses.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses

    val, _ = build_dataloader(cfg.val_dataloader.to_dict())
    batches = [b for b in val]
    assert len(batches) == (4 if name == "coco" else 2)
    assert batches[0]["img_path"].dtype.name == "string"
    preds = model.predict(val, verbose=0)  # packed val batches, strings too
    n = len(batches)
    m = model.head.decoder.decode_max_instances
    assert preds["keypoints"].shape == (n, m, k, 2)
    assert preds["keypoint_scores"].shape == (n, m, k)
    assert preds["instance_mask"].any(axis=1).all(), preds["instance_mask"]
    # the keypoints are in original-image pixels
    widths = [int(b["ori_shape"][0][1]) for b in batches]
    kpts = preds["keypoints"]
    assert np.abs(kpts).max() < 4 * max(widths)
    one = model.predict_on_batch(batches[0])  # a whole packed batch
    for key in one:
        np.testing.assert_allclose(one[key], preds[key][:1], atol=1e-5)

    path = os.path.join(tmp_path, f"{kind}_{name}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    assert loaded.metainfo["skeleton_links"] == model.metainfo["skeleton_links"]
    # the first two images (one 'expand' size: one more compile)
    again = loaded.predict(val.take(2), verbose=0)
    assert sorted(again) == sorted(preds)
    for key in preds:
        np.testing.assert_allclose(
            again[key], preds[key][:2], rtol=1e-5, atol=1e-4, err_msg=key
        )
    return model, preds


@pytest.mark.parametrize("name", ["coco", "crowdpose"])
def test_ae_fit_predict_reload(name, shared_data, tmp_path):
    _check_fit_predict_reload("ae", name, shared_data, tmp_path, epochs=2)


@pytest.mark.heavy
@pytest.mark.parametrize("name", ["coco", "crowdpose"])
def test_dekr_fit_predict_reload(name, shared_data, tmp_path, monkeypatch):
    # records what the estimator hands the head's predict (at trace time)
    calls = []
    from keraspose.models.heads.hybrid_heads.dekr_head import DEKRHead

    original = DEKRHead.predict

    @functools.wraps(original)
    def spy(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DEKRHead, "predict", spy)
    model, _ = _check_fit_predict_reload(
        "dekr", name, shared_data, tmp_path, epochs=2
    )
    assert model.head.rescore_net is not None
    # DEKR's rescoring ran: the metainfo's skeleton reached the head
    links = model.metainfo["skeleton_links"]
    assert len(links) == (19 if name == "coco" else 15)
    assert calls and all(c.get("skeleton_links") == links for c in calls)


def test_skeleton_links_reach_heads_that_take_them(shared_data):
    cfg = tiny_config("dekr", "coco", shared_data)
    metainfo = dict(
        flip_indices=list(range(17)),
        skeleton_links=[(0, 1), (1, 2)],
    )
    model = build_model(cfg, metainfo)
    kwargs = model._head_kwargs((128, 96), None)
    assert kwargs == dict(input_size=(128, 96), skeleton_links=[[0, 1], [1, 2]])
    model.metainfo.pop("skeleton_links")
    assert "skeleton_links" not in model._head_kwargs((128, 96), None)
    ae = build_model(tiny_config("ae", "coco", shared_data), metainfo)
    assert "skeleton_links" not in ae._head_kwargs((128, 96), None)


@pytest.mark.heavy
def test_cli_train_test_bottomup(shared_data, tmp_path):
    cfg = tiny_config("dekr", "coco", shared_data, batch_size=4)
    path = str(tmp_path / "dekr_tiny.py")
    cfg.dump(path)
    work_dir = str(tmp_path / "run")
    assert cli.main(["train", path, "--work-dir", work_dir]) == 0
    with open(os.path.join(work_dir, "metrics.json")) as f:
        history = json.load(f)
    assert len(history) == 1 and "coco/AP" in history[0]
    ckpt = os.path.join(work_dir, "last.keras")
    assert os.path.exists(ckpt)
    code = cli.main(
        [
            "test",
            path,
            ckpt,
            "--work-dir",
            str(tmp_path),
            "--cfg-options",
            "test_dataloader.batch_size=1",
        ]
    )
    assert code == 0
    with open(tmp_path / "test_metrics.json") as f:
        metrics = json.load(f)
    assert metrics["coco/AP"] == pytest.approx(history[0]["coco/AP"])

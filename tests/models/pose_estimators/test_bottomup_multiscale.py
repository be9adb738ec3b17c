"""Multi-scale bottom-up test through the pipeline (issue 8).

A tiny associative-embedding model predicts with ``multiscale_test`` on
the val pipeline's batches (``BottomupResize(aug_scales=...)`` ->
``aug_images_*`` in ``x``) and through ``inference_bottomup``; the
pipeline's pyramid is bit-identical to the host resize, so both give the
same instances.
"""

import logging

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from keraspose.apis import inference_bottomup  # noqa: E402
from keraspose.apis.runner import build_model  # noqa: E402
from keraspose.apis.runner import pipeline_aug_scales  # noqa: E402
from keraspose.apis.runner import sync_aug_scales  # noqa: E402
from keraspose.datasets.builder import build_dataloader  # noqa: E402
from keraspose.evaluation.evaluator import model_input_keys  # noqa: E402
from keraspose.utils.config import Config  # noqa: E402
from tests.helpers import coco_bottomup_test_loader  # noqa: E402
from tests.helpers import imagenet_preprocessor  # noqa: E402

AUG_SCALES = [0.5, 1.5]
INPUT_SIZE = (64, 64)
TEST_CFG = dict(
    multiscale_test=True,
    flip_test=True,
    shift_heatmap=False,
    restore_heatmap_size=True,
    align_corners=False,
)


def _config(shared_data, aug_scales=AUG_SCALES, test_cfg=TEST_CFG):
    pipeline = [
        dict(type="LoadImage"),
        dict(
            type="BottomupResize",
            input_size=INPUT_SIZE,
            size_factor=32,
            resize_mode="expand",
            aug_scales=aug_scales,
        ),
        dict(type="PackPoseInputs"),
    ]
    loader = coco_bottomup_test_loader(shared_data, pipeline)
    codec = dict(
        type="AssociativeEmbedding",
        input_size=INPUT_SIZE,
        heatmap_size=INPUT_SIZE,  # restore_heatmap_size, as MMPose's AE
        decode_topk=5,
        decode_center_shift=0.5,
        decode_max_instances=5,
    )
    model = dict(
        type="BottomupPoseEstimator",
        data_preprocessor=imagenet_preprocessor(),
        backbone=dict(
            type="ResNet",
            depth=18,
            stem_channels=8,
            base_channels=8,
            num_stages=1,
            strides=(1,),
            dilations=(1,),
            out_indices=(0,),
        ),
        head=dict(
            type="AssociativeEmbeddingHead",
            in_channels=8,
            num_keypoints=17,
            tag_dim=1,
            deconv_out_channels=None,
            decoder=codec,
        ),
        test_cfg=dict(test_cfg),
    )
    return Config(dict(model=model, val_dataloader=loader))


def _numpy_batch(batch):
    return {k: v.numpy() for k, v in batch.items() if v.dtype != tf.string}


def test_build_model_copies_pipeline_aug_scales(shared_data, caplog):
    cfg = _config(shared_data)
    assert pipeline_aug_scales(cfg) == AUG_SCALES
    model = build_model(cfg)
    assert model.test_cfg["aug_scales"] == AUG_SCALES
    assert model_input_keys(model)[-2:] == ("aug_images_0", "aug_images_1")
    # the pipeline wins over a different test_cfg entry, with a warning
    with caplog.at_level(logging.WARNING, logger="keraspose"):
        test_cfg = sync_aug_scales(
            dict(multiscale_test=True, aug_scales=[2.0]), AUG_SCALES
        )
    assert test_cfg["aug_scales"] == AUG_SCALES
    assert "differs from the pipeline" in caplog.text
    # no multi-scale test (or no pipeline scales): nothing changes
    assert sync_aug_scales(dict(flip_test=True), AUG_SCALES) == dict(
        flip_test=True
    )
    assert sync_aug_scales(dict(multiscale_test=True), None) == dict(
        multiscale_test=True
    )
    single = _config(shared_data, aug_scales=None, test_cfg=dict())
    assert pipeline_aug_scales(single) is None
    assert "aug_scales" not in build_model(single).test_cfg


def test_multiscale_pipeline_equals_inference_bottomup(shared_data):
    cfg = _config(shared_data)
    loader, dataset = build_dataloader(cfg.to_dict()["val_dataloader"])
    model = build_model(cfg, dataset.metainfo)
    batches = [_numpy_batch(b) for b in loader.take(2)]
    keys = model_input_keys(model)
    kwargs = dict(
        input_size=INPUT_SIZE,
        size_factor=32,
        resize_mode="expand",
        aug_scales=AUG_SCALES,
    )
    path = dataset.data_list[0]["img_path"]
    inference_bottomup(model, path, **kwargs)  # builds and compiles
    # a head that finds people: strong random final-layer weights (the
    # MMPose init gives flat heatmaps below the keypoint threshold)
    rng = np.random.default_rng(0)
    for weight in model.head.weights:
        if weight.path.endswith("kernel"):
            weight.assign(rng.normal(0.0, 1.0, weight.shape).astype("float32"))
    for i, x in enumerate(batches):
        assert x["aug_images_0"].dtype == np.uint8
        assert x["aug_images_1"].shape[1:3] != x["images"].shape[1:3]
        ours = model.predict_on_batch({k: x[k] for k in keys})
        mask = ours["instance_mask"][0]
        assert mask.sum() > 0
        ref = inference_bottomup(
            model, dataset.data_list[i]["img_path"], **kwargs
        )
        assert len(ref["keypoints"]) == mask.sum()
        for key in ("keypoints", "keypoint_scores", "bbox_scores"):
            np.testing.assert_allclose(
                ours[key][0][mask], ref[key], rtol=1e-5, atol=1e-4, err_msg=key
            )
    # a single-scale model ignores the pyramid entries of the batch
    model.test_cfg["multiscale_test"] = False
    assert "aug_images_0" not in model_input_keys(model)


def test_multiscale_needs_the_pyramid(shared_data):
    model = build_model(_config(shared_data))
    x = dict(images=np.zeros((1, 64, 64, 3), np.uint8))
    with pytest.raises(ValueError, match="aug_images_0"):
        model.predict_on_batch(x)

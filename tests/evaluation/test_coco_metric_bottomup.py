"""CocoMetric on bottom-up predictions equals MMPose's (fixture from
tools/make_mmpose_bottomup_metric_fixtures.py), CrowdPose's
``keypoints_crowd`` included."""

import json

import numpy as np
import pytest

from keraspose.evaluation.metrics.coco_metric import CocoMetric
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "mmpose_bottomup_metric.npz"
META = {"coco.py": "coco", "crowdpose.py": "crowdpose"}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURE))


def _metric(fx, case, tmp_path):
    ann_file = tmp_path / f"{case}.json"
    ann_file.write_text(str(fx[f"{case}_gt"]))
    kwargs = json.loads(str(fx[f"{case}_kwargs"]))
    metric = CocoMetric(ann_file=str(ann_file), **kwargs)
    metric.dataset_meta = META[str(fx[f"{case}_meta"])]
    return metric, kwargs.get("prefix", "coco")


def _preds(fx, case, rows=None):
    keys = ("keypoints", "keypoint_scores", "instance_mask", "bbox_scores")
    preds = {k: fx[f"{case}_{k}"] for k in keys if f"{case}_{k}" in fx}
    img_id = fx[f"{case}_img_id"]
    if rows is not None:
        preds = {k: v[rows] for k, v in preds.items()}
        img_id = img_id[rows]
    return preds, {"img_id": img_id}


@pytest.mark.parametrize(
    "case", ["ae", "dekr", "default", "crowd", "crowd_orig"]
)
def test_bottomup_metric_equals_mmpose(fx, case, tmp_path):
    metric, prefix = _metric(fx, case, tmp_path)
    n = len(fx[f"{case}_img_id"])
    # one image per batch, as MMPose's bottom-up val loaders
    for i in range(n):
        metric.process(*_preds(fx, case, slice(i, i + 1)))
    results = metric.evaluate()
    names = [str(v) for v in fx[f"{case}_names"]]
    assert list(results) == [f"{prefix}/{name}" for name in names]
    np.testing.assert_allclose(
        list(results.values()), fx[f"{case}_stats"], atol=1e-9
    )


def test_bottomup_batches_and_checks(fx, tmp_path):
    metric, _ = _metric(fx, "ae", tmp_path)
    preds, inputs = _preds(fx, "ae")
    metric.process(preds, inputs)  # the whole batch at once
    np.testing.assert_allclose(
        list(metric.evaluate().values()), fx["ae_stats"], atol=1e-9
    )

    # bottom-up samples need only img_id
    class Dataset:
        metainfo = "coco"
        ann_file = None
        data_mode = "bottomup"
        data_list = [{"img_id": int(i)} for i in inputs["img_id"]]

    metric.set_dataset(Dataset())
    assert metric.required_keys == ("img_id",)
    # an image of the evaluated dataset that was not predicted: incomplete
    metric.process(*_preds(fx, "ae", slice(0, 2)))
    with pytest.raises(ValueError, match="not predicted"):
        metric.evaluate()
    Dataset.data_mode = "topdown"
    metric.set_dataset(Dataset())
    assert "bbox" in metric.required_keys
    with pytest.raises(ValueError, match=r"\(B, M, K, 2\)"):
        metric.process(
            dict(preds, keypoints=preds["keypoints"][:, :, 0]), inputs
        )
    with pytest.raises(ValueError, match="bbox_scores"):
        metric.process(
            dict(preds, bbox_scores=preds["bbox_scores"][:, :2]), inputs
        )


def test_keypoints_crowd_needs_crowd_index(fx, tmp_path):
    gt = json.loads(str(fx["crowd_gt"]))
    del gt["images"][0]["crowdIndex"]
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(gt))
    metric = CocoMetric(
        ann_file=str(path), iou_type="keypoints_crowd", use_area=False
    )
    metric.dataset_meta = "crowdpose"
    metric.process(*_preds(fx, "crowd"))
    with pytest.raises(ValueError, match="crowdIndex"):
        metric.evaluate()
    with pytest.raises(NotImplementedError, match="keypoints_wholebody"):
        CocoMetric(iou_type="keypoints_wholebody")

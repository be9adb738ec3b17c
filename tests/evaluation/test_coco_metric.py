import json
import logging
import types

import numpy as np
import pytest

import keraspose
from keraspose.datasets.metainfo import load_metainfo
from keraspose.datasets.transforms.pack_pose_inputs import DEFAULT_META_KEYS
from keraspose.evaluation import CocoMetric
from keraspose.evaluation.metrics.coco_metric import STATS_NAMES
from keraspose.registry import to_config
from tests.conftest import FIXTURES
from tests.helpers import run_object_test

FX = dict(np.load(FIXTURES / "mmpose_coco_metric.npz"))
CASES = FX["cases"].tolist()
PRED_KEYS = ("keypoints", "keypoint_scores")


@pytest.fixture(scope="module")
def gt_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coco_gt")
    paths = {}
    for key in FX:
        if key.startswith("gt_"):
            path = folder / f"{key}.json"
            path.write_text(str(FX[key]))
            paths[key[3:]] = str(path)
    return paths


def gt_json(name="coco"):
    return json.loads(str(FX[f"gt_{name}"]))


def meta_of(name):
    if name == "coco":
        return "coco"
    return json.loads(str(FX["meta_custom"]))


def prediction_set(name):
    prefix = f"preds_{name}_"
    arrays = {
        k[len(prefix) :]: v for k, v in FX.items() if k.startswith(prefix)
    }
    preds = {k: arrays[k] for k in PRED_KEYS}
    inputs = {k: v for k, v in arrays.items() if k not in PRED_KEYS}
    return preds, inputs


def feed(metric, preds, inputs, batch_size=7):
    n = len(inputs["id"])
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        metric.process(
            {k: v[sl] for k, v in preds.items()},
            {k: v[sl] for k, v in inputs.items()},
        )


def stats(result, prefix="coco"):
    return np.array([result[f"{prefix}/{k}"] for k in STATS_NAMES])


def case_metric(case, gt_files, **extra):
    kwargs = json.loads(str(FX[f"{case}_kwargs"]))
    metric = CocoMetric(
        ann_file=gt_files[str(FX[f"{case}_gt"])], **kwargs, **extra
    )
    metric.dataset_meta = meta_of(str(FX[f"{case}_meta"]))
    return metric


def run_case(metric, case, batch_size=7):
    metric.dataset_meta = meta_of(str(FX[f"{case}_meta"]))
    preds, inputs = prediction_set(str(FX[f"{case}_preds"]))
    feed(metric, preds, inputs, batch_size)
    return stats(metric.evaluate())


@pytest.mark.parametrize("case", CASES)
def test_equals_mmpose(case, gt_files, caplog):
    metric = case_metric(case, gt_files)
    with caplog.at_level(logging.INFO, logger="keraspose"):
        result = run_case(metric, case)
    np.testing.assert_allclose(result, FX[f"{case}_stats"], rtol=0, atol=1e-9)
    # MMPose's summary is logged.
    assert "Average Precision  (AP) @[ IoU=0.50:0.95" in caplog.text


def test_batching_does_not_matter(gt_files):
    expected = FX["multi_stats"]
    for batch_size in (1, 13, 1000):
        result = run_case(case_metric("multi", gt_files), "multi", batch_size)
        np.testing.assert_allclose(result, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("case", ["multi", "fallback"])
def test_results_json_equals_mmpose(case, gt_files, tmp_path):
    prefix = tmp_path / "out" / case
    metric = case_metric(case, gt_files, outfile_prefix=str(prefix))
    run_case(metric, case)
    with open(f"{prefix}.keypoints.json") as f:
        results = json.load(f)
    assert isinstance(results, list) and results
    keys = FX[f"{case}_res_keys"].tolist()
    k = load_metainfo("coco")["num_keypoints"]
    for res in results:
        assert sorted(res) == keys
        assert isinstance(res["image_id"], int)
        assert isinstance(res["category_id"], int)
        assert isinstance(res["score"], float)
        assert len(res["keypoints"]) == 3 * k
        if "bbox" in res:
            assert len(res["bbox"]) == 4
    for key in ("image_id", "category_id", "keypoints", "score", "bbox"):
        if f"{case}_res_{key}" in FX:
            ours = np.array([r[key] for r in results])
            np.testing.assert_array_equal(ours, FX[f"{case}_res_{key}"])


def test_ground_truth_as_predictions_gives_ap_1(gt_files):
    gt = gt_json()
    images = {img["id"]: img for img in gt["images"]}
    anns = [a for a in gt["annotations"] if a["num_keypoints"] > 0]
    kpts = np.array([a["keypoints"] for a in anns], np.float32)
    kpts = kpts.reshape(len(anns), 17, 3)
    bbox = np.array([a["bbox"] for a in anns], np.float32)
    bbox[:, 2:] += bbox[:, :2]
    preds = {
        "keypoints": kpts[..., :2],
        "keypoint_scores": np.ones((len(anns), 17), np.float32),
    }
    inputs = {
        "id": np.array([a["id"] for a in anns]),
        "img_id": np.array([a["image_id"] for a in anns]),
        "category_id": np.ones(len(anns), np.int64),
        "bbox": bbox,
        "bbox_score": np.ones(len(anns), np.float32),
        "input_scale": (bbox[:, 2:] - bbox[:, :2]) * 1.25,
    }
    assert set(inputs["img_id"].tolist()) == set(images)
    metric = CocoMetric(ann_file=gt_files["coco"])
    metric.dataset_meta = "coco"
    metric.process(preds, inputs)
    np.testing.assert_array_equal(stats(metric.evaluate()), np.ones(10))


def test_build_and_round_trips(gt_files):
    cfg = dict(type="CocoMetric", ann_file=gt_files["coco"], nms_thr=0.5)
    metric = keraspose.build(cfg)
    assert isinstance(metric, CocoMetric) and metric.nms_thr == 0.5
    assert to_config(metric)["ann_file"] == gt_files["coco"]
    # build / get_config / Keras serialization give the same numbers.
    run_object_test(cfg, lambda m: run_case(m, "multi_thr05"))
    kwargs = json.loads(str(FX["converter_kwargs"]))
    cfg = dict(type="CocoMetric", ann_file=gt_files["coco"], **kwargs)
    metric = run_object_test(cfg, lambda m: run_case(m, "converter"))
    np.testing.assert_allclose(
        run_case(metric, "converter"), FX["converter_stats"], atol=1e-9
    )


def test_evaluates_twice_with_same_numbers(gt_files):
    metric = case_metric("edge", gt_files)
    first = run_case(metric, "edge")
    second = run_case(metric, "edge")
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, FX["edge_stats"], rtol=0, atol=1e-9)


def test_defaults_and_required_keys():
    metric = CocoMetric()
    config = metric.get_config()
    assert config == dict(
        ann_file=None,
        use_area=True,
        iou_type="keypoints",
        score_mode="bbox_keypoint",
        keypoint_score_thr=0.2,
        nms_mode="oks_nms",
        nms_thr=0.9,
        format_only=False,
        pred_converter=None,
        gt_converter=None,
        outfile_prefix=None,
        prefix="coco",
    )
    assert set(CocoMetric.required_keys) <= set(DEFAULT_META_KEYS)


def _dataset(**kwargs):
    fields = dict(metainfo=load_metainfo("coco"), ann_file=None, bbox_file=None)
    fields.update(kwargs)
    return types.SimpleNamespace(**fields)


def test_set_dataset_takes_metainfo_and_ann_file(gt_files):
    metric = CocoMetric()
    metric.set_dataset(_dataset(ann_file=gt_files["coco"]))
    assert metric.dataset_meta["num_keypoints"] == 17
    result = run_case(metric, "gt_small")
    np.testing.assert_allclose(result, FX["gt_small_stats"], atol=1e-9)
    # The metric's own ann_file wins (as in MMPose).
    metric = CocoMetric(ann_file=gt_files["coco"])
    metric.set_dataset(_dataset(ann_file=gt_files["edge"]))
    result = run_case(metric, "gt_small")
    np.testing.assert_allclose(result, FX["gt_small_stats"], atol=1e-9)


def test_set_dataset_with_coco_dataset(gt_files):
    from keraspose.datasets import CocoDataset

    dataset = CocoDataset(
        ann_file=gt_files["coco"], test_mode=True, check_files=False
    )
    metric = CocoMetric()
    metric.set_dataset(dataset)
    cols = dataset.columns()
    preds = {
        "keypoints": cols["keypoints"],
        "keypoint_scores": np.ones(cols["keypoints"].shape[:2], np.float32),
    }
    inputs = {k: cols[k] for k in ("id", "img_id", "category_id", "bbox")}
    inputs["bbox_score"] = cols["bbox_score"]
    metric.process(preds, inputs)
    result = metric.evaluate()
    assert result["coco/AP"] == 1.0 and result["coco/AR"] == 1.0


def test_no_ground_truth_is_an_error():
    metric = CocoMetric()
    with pytest.raises(ValueError, match="ann_file"):
        metric.set_dataset(_dataset())
    metric = CocoMetric()
    metric.dataset_meta = "coco"
    preds, inputs = prediction_set("gt_small")
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match="no ground truth"):
        metric.evaluate()


def test_no_metainfo_is_an_error(gt_files):
    metric = CocoMetric(ann_file=gt_files["coco"])
    preds, inputs = prediction_set("gt_small")
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match="set_dataset"):
        metric.evaluate()


def test_area_zero_is_reported(gt_files, caplog):
    # (a) One annotation with area 0: warning naming it, MMPose's numbers.
    metric = case_metric("edge", gt_files)
    with caplog.at_level(logging.WARNING, logger="keraspose"):
        result = run_case(metric, "edge")
    assert "460541" in caplog.text and "area" in caplog.text
    np.testing.assert_allclose(result, FX["edge_stats"], rtol=0, atol=1e-9)
    # Every evaluated annotation with area 0: AP would be 0 -> error.
    gt = gt_json()
    for ann in gt["annotations"]:
        ann["area"] = 0
    path = gt_files["coco"].replace(".json", "_area0.json")
    with open(path, "w") as f:
        json.dump(gt, f)
    metric = CocoMetric(ann_file=path)
    with pytest.raises(ValueError, match=r"12 of 12 .*use_area=False"):
        run_case(metric, "gt_small")
    # use_area=False uses the boxes instead.
    metric = CocoMetric(ann_file=path, use_area=False)
    assert run_case(metric, "gt_small")[0] > 0.5


def test_missing_area_needs_use_area_false(gt_files, caplog):
    metric = CocoMetric(ann_file=gt_files["noarea"])
    with pytest.raises(ValueError, match=r"467657.*use_area=False"):
        run_case(metric, "noarea")
    # Where no prediction needs the OKS of those annotations (their image
    # 197388 has none), xtcocotools uses 0.53 * w * h for the area ranges.
    metric = CocoMetric(ann_file=gt_files["noarea"])
    metric.dataset_meta = "coco"
    preds, inputs = prediction_set("noarea")
    keep = inputs["img_id"] != 197388
    metric.process(
        {k: v[keep] for k, v in preds.items()},
        {k: v[keep] for k, v in inputs.items()},
    )
    with caplog.at_level(logging.WARNING, logger="keraspose"):
        assert 0 < metric.evaluate()["coco/AP"] < 1
    assert "197388" in caplog.text


def test_non_finite_predictions_warn(gt_files, caplog):
    preds, inputs = prediction_set("gt_small")
    preds = dict(preds, keypoints=preds["keypoints"].copy())
    preds["keypoints"][2, 3] = np.nan
    metric = _metric(gt_files)
    with caplog.at_level(logging.WARNING, logger="keraspose"):
        metric.process(preds, inputs)
    assert f"ids [{inputs['id'][2]}]" in caplog.text
    assert 0 < metric.evaluate()["coco/AP"] < 1


def test_metainfo_without_sigmas(gt_files):
    # (b) e.g. OneHand10K has no sigmas: suggest PCK / AUC / EPE.
    meta = load_metainfo("onehand10k")
    metric = CocoMetric(ann_file=gt_files["coco"])
    with pytest.raises(ValueError, match="PCKAccuracy, AUC or EPE"):
        metric.set_dataset(_dataset(metainfo=meta))
    metric = CocoMetric(ann_file=gt_files["coco"])
    metric.dataset_meta = meta
    preds, inputs = prediction_set("gt_small")
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match="no `sigmas`"):
        metric.evaluate()


def _metric(gt_files, **kwargs):
    metric = CocoMetric(ann_file=gt_files["coco"], **kwargs)
    metric.dataset_meta = "coco"
    return metric


def test_unknown_image_ids(gt_files):
    # (c) predictions of images the annotation file does not have.
    preds, inputs = prediction_set("multi")
    inputs = dict(inputs, img_id=inputs["img_id"].copy())
    inputs["img_id"][:3] = [5, 6, 7]
    metric = _metric(gt_files)
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match=r"3 predicted img_id.*\[5, 6, 7\]"):
        metric.evaluate()


def test_ids_that_do_not_match_their_images(gt_files):
    # (c) ground-truth boxes: ids are annotation ids of their images.
    preds, inputs = prediction_set("gt_small")
    inputs = dict(inputs, id=inputs["id"].copy())
    inputs["id"][[0, -1]] = inputs["id"][[-1, 0]]
    metric = _metric(gt_files)
    metric.set_dataset(_dataset(ann_file=gt_files["coco"]))
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match="an annotation of image"):
        metric.evaluate()
    # With a ground-truth-box dataset, an unknown id is an error too.
    metric.reset()
    inputs["id"] = np.arange(len(inputs["id"]))
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match="not an annotation id"):
        metric.evaluate()


def test_annotated_images_without_predictions(gt_files, caplog):
    # (c) ground-truth boxes: an image without predictions is an error.
    preds, inputs = prediction_set("gt_small")
    keep = inputs["img_id"] != 785
    preds = {k: v[keep] for k, v in preds.items()}
    inputs = {k: v[keep] for k, v in inputs.items()}
    metric = _metric(gt_files)
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match=r"img_ids \[785\]"):
        metric.evaluate()
    # Images outside the evaluated dataset (e.g. `indices`) only warn.
    metric.reset()
    records = [{"img_id": int(i)} for i in inputs["img_id"]]
    metric.set_dataset(_dataset(ann_file=gt_files["coco"], data_list=records))
    metric.process(preds, inputs)
    with caplog.at_level(logging.WARNING, logger="keraspose"):
        metric.evaluate()
    assert "785" in caplog.text
    # Detections: an image without detections only warns (missed people).
    caplog.clear()
    preds, inputs = prediction_set("det")
    keep = inputs["img_id"] != 785
    metric = _metric(gt_files)
    metric.process(
        {k: v[keep] for k, v in preds.items()},
        {k: v[keep] for k, v in inputs.items()},
    )
    with caplog.at_level(logging.WARNING, logger="keraspose"):
        metric.evaluate()
    assert "785" in caplog.text


def test_unknown_category(gt_files):
    preds, inputs = prediction_set("gt_small")
    metric = _metric(gt_files)
    metric.process(preds, dict(inputs, category_id=inputs["category_id"] + 1))
    with pytest.raises(ValueError, match="category_id"):
        metric.evaluate()


def test_missing_and_malformed_inputs(gt_files):
    preds, inputs = prediction_set("gt_small")
    metric = _metric(gt_files)
    no_id = {k: v for k, v in inputs.items() if k != "id"}
    with pytest.raises(ValueError, match=r"PackPoseInputs\(meta_keys"):
        metric.process(preds, no_id)
    with pytest.raises(ValueError, match="keypoint_scores"):
        metric.process({"keypoints": preds["keypoints"]}, inputs)
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        metric.process(dict(preds, keypoints=preds["keypoints"][0]), inputs)
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        bad = dict(preds, keypoint_scores=preds["keypoint_scores"][:, :3])
        metric.process(bad, inputs)
    with pytest.raises(ValueError, match="one value per instance"):
        metric.process(preds, dict(inputs, img_id=inputs["img_id"][:2]))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        metric.process(preds, dict(inputs, bbox=inputs["bbox"][:, :2]))
    with pytest.raises(TypeError, match="integer ids"):
        metric.process(preds, dict(inputs, id=inputs["id"] + 0.5))
    with pytest.raises(TypeError, match="dict"):
        metric.process(preds, list(inputs.values()))
    # Wrong number of keypoints for the metainfo.
    metric = CocoMetric(ann_file=gt_files["coco"])
    metric.dataset_meta = json.loads(str(FX["meta_custom"]))
    metric.process(preds, inputs)
    with pytest.raises(ValueError, match="17 keypoints but dataset"):
        metric.evaluate()


def test_bad_arguments(gt_files, tmp_path):
    with pytest.raises(ValueError, match="score_mode"):
        CocoMetric(score_mode="mean")
    with pytest.raises(ValueError, match="nms_mode"):
        CocoMetric(nms_mode="nms")
    with pytest.raises(NotImplementedError, match="keypoints_foot"):
        CocoMetric(iou_type="keypoints_foot")
    with pytest.raises(ValueError, match="outfile_prefix"):
        CocoMetric(format_only=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CocoMetric(ann_file=str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="mapping"):
        CocoMetric(pred_converter=dict(num_keypoints=17, mapping=[(0,)]))
    with pytest.raises(ValueError, match="has no 'images'|must be a"):
        path = tmp_path / "bad.json"
        path.write_text("[]")
        metric = CocoMetric(ann_file=str(path))
        metric.dataset_meta = "coco"
        preds, inputs = prediction_set("gt_small")
        metric.process(preds, inputs)
        metric.evaluate()


def test_format_only(gt_files, tmp_path):
    prefix = tmp_path / "submit" / "res"
    metric = _metric(gt_files, format_only=True, outfile_prefix=str(prefix))
    preds, inputs = prediction_set("multi")
    metric.process(preds, inputs)
    assert metric.evaluate() == {}
    with open(f"{prefix}.keypoints.json") as f:
        results = json.load(f)
    assert len(results) == len(FX["multi_res_score"])


def test_prefix(gt_files):
    metric = _metric(gt_files, prefix="val")
    preds, inputs = prediction_set("gt_small")
    metric.process(preds, inputs)
    result = metric.evaluate()
    assert sorted(result) == sorted(f"val/{k}" for k in STATS_NAMES)

"""NME metric against MMPose 1.3.2."""

import numpy as np
import pytest

from keraspose.datasets.metainfo import load_metainfo
from keraspose.evaluation import NME
from tests.evaluation import mmpose_metric_cases as cases
from tests.helpers import run_object_test

CASES = ["nme_wflw", "nme_idx", "nme_bbox", "nme_item"]


@pytest.mark.parametrize("case", CASES)
def test_matches_mmpose(case):
    got, want = cases.run(case), cases.expected(case)
    assert list(got) == list(want) == ["NME"]
    np.testing.assert_allclose(got["NME"], want["NME"], rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_config_and_serialization_round_trip(case):
    def evaluate(metric):
        return cases.feed(cases.set_meta(metric, case), case)

    run_object_test(cases.config(case), evaluate)


def test_default_indices_are_not_written_back():
    metric = NME("keypoint_distance")
    cases.set_meta(metric, "nme_wflw")
    cases.feed(metric, "nme_wflw")
    assert metric.get_config()["keypoint_indices"] is None
    assert NME.DEFAULT_KEYPOINT_INDICES["wflw"] == [60, 72]


def test_required_keys():
    assert NME("keypoint_distance").required_keys == (
        "keypoints",
        "keypoints_visible",
    )
    assert NME("use_norm_item", norm_item="bbox_size").required_keys[-1] == (
        "bbox"
    )
    assert NME("use_norm_item", "box_size").required_keys[-1] == "box_size"


def test_errors():
    with pytest.raises(ValueError, match="norm_mode"):
        NME("bbox")
    with pytest.raises(ValueError, match="norm_item"):
        NME("use_norm_item")
    with pytest.raises(ValueError, match="pair"):
        NME("keypoint_distance", keypoint_indices=[1, 2, 3])
    pred, inputs, _ = cases.arrays("nme_idx")
    metric = NME("keypoint_distance")
    metric.process({"keypoints": pred}, inputs)
    with pytest.raises(ValueError, match="dataset_name"):
        metric.evaluate()
    metric = NME("keypoint_distance", keypoint_indices=[0, 40])
    metric.dataset_meta = load_metainfo("coco")
    metric.process({"keypoints": pred}, inputs)
    with pytest.raises(ValueError, match="no keypoint 40"):
        metric.evaluate()
    metric = NME("use_norm_item", "box_size")
    with pytest.raises(ValueError, match=r"inputs\['box_size'\]"):
        metric.process({"keypoints": pred}, inputs)

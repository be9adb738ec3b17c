"""PCKAccuracy, MpiiPCKAccuracy and JhmdbPCKAccuracy against MMPose 1.3.2."""

import warnings

import numpy as np
import pytest

import keraspose
from keraspose.evaluation import JhmdbPCKAccuracy
from keraspose.evaluation import MpiiPCKAccuracy
from keraspose.evaluation import PCKAccuracy
from tests.evaluation import mmpose_metric_cases as cases
from tests.helpers import run_object_test

CASES = ["pck_bbox", "pck_all", "mpii", "mpii_degenerate", "jhmdb"]


def assert_matches(got, want):
    assert list(got) == list(want)
    np.testing.assert_allclose(
        list(got.values()), list(want.values()), rtol=1e-6
    )


@pytest.mark.parametrize("case", CASES)
def test_matches_mmpose(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pck_all: torso fallback warning
        got = cases.run(case)
    assert_matches(got, cases.expected(case))


def test_degenerate_cases_are_covered():
    want = cases.expected("mpii_degenerate")
    assert want["Head PCK"] == -100.0  # head top never visible
    assert cases.expected("jhmdb")["Head PCK"] == -1.0


def test_batching_does_not_matter():
    metric = keraspose.build(cases.config("mpii"))
    assert_matches(cases.feed(metric, "mpii", [1] * 14), cases.expected("mpii"))


def test_torso_fallback_warns():
    with pytest.warns(UserWarning, match="torso size < 1"):
        cases.run("pck_all")


@pytest.mark.parametrize("case", ["pck_all", "mpii", "jhmdb"])
def test_config_and_serialization_round_trip(case):
    def evaluate(metric):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cases.feed(metric, case)

    metric = run_object_test(cases.config(case, prefix="val"), evaluate)
    assert all(k.startswith("val/") for k in evaluate(metric))


def test_prefix_and_required_keys():
    metric = PCKAccuracy(thr=0.2, prefix="pck")
    assert metric.required_keys == ("keypoints", "keypoints_visible", "bbox")
    metric.process(
        {"keypoints": np.zeros((1, 2, 2))},
        {
            "keypoints": np.ones((1, 2, 2)),
            "keypoints_visible": np.ones((1, 2)),
            "bbox": np.array([[0.0, 0.0, 10.0, 10.0]]),
        },
    )
    assert metric.evaluate() == {"pck/PCK": 1.0}
    assert PCKAccuracy(norm_item=["head", "torso"]).required_keys == (
        "keypoints",
        "keypoints_visible",
        "head_size",
    )
    assert "head_size" in MpiiPCKAccuracy().required_keys
    assert PCKAccuracy.required_keys == MpiiPCKAccuracy().required_keys[:2] + (
        "bbox",
    )


def test_head_size_column_vector_accepted():
    pred, inputs, _ = cases.arrays("mpii")
    inputs = dict(inputs, head_size=inputs["head_size"][:, None])
    metric = MpiiPCKAccuracy()
    metric.process({"keypoints": pred}, inputs)
    assert_matches(metric.evaluate(), cases.expected("mpii"))


def _inputs(n=2, k=16):
    return {
        "keypoints": np.zeros((n, k, 2)),
        "keypoints_visible": np.ones((n, k)),
        "bbox": np.tile([0.0, 0.0, 10.0, 10.0], (n, 1)),
        "head_size": np.ones(n),
    }


def test_errors():
    with pytest.raises(ValueError, match="norm_item"):
        PCKAccuracy(norm_item="box")
    with pytest.raises(ValueError, match="'head'"):
        MpiiPCKAccuracy(norm_item="bbox")
    with pytest.raises(ValueError, match="'head' is not supported"):
        JhmdbPCKAccuracy(norm_item=["bbox", "head"])
    metric = PCKAccuracy()
    inputs = _inputs()
    del inputs["bbox"]
    with pytest.raises(ValueError, match=r"PCKAccuracy needs inputs\['bbox'\]"):
        metric.process({"keypoints": np.zeros((2, 16, 2))}, inputs)
    with pytest.raises(ValueError, match="PackPoseInputs"):
        metric.process({"keypoints": np.zeros((2, 16, 2))}, inputs)
    with pytest.raises(ValueError, match="'keypoints'"):
        metric.process({"heatmaps": np.zeros((2, 16, 2))}, _inputs())
    with pytest.raises(ValueError, match="same shape"):
        metric.process({"keypoints": np.zeros((2, 17, 2))}, _inputs())
    bad = dict(_inputs(), bbox=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"bbox'\] of shape"):
        metric.process({"keypoints": np.zeros((2, 16, 2))}, bad)
    bad = dict(_inputs(), keypoints_visible=np.ones((3, 16)))
    with pytest.raises(ValueError, match="keypoints_visible"):
        metric.process({"keypoints": np.zeros((2, 16, 2))}, bad)
    with pytest.raises(ValueError, match="16 keypoints"):
        MpiiPCKAccuracy().process(
            {"keypoints": np.zeros((2, 17, 2))}, _inputs(k=17)
        )
    with pytest.raises(ValueError, match="15 keypoints"):
        JhmdbPCKAccuracy().process(
            {"keypoints": np.zeros((2, 16, 2))}, _inputs()
        )
    with pytest.raises(ValueError, match="head_size"):
        MpiiPCKAccuracy().process(
            {"keypoints": np.zeros((2, 16, 2))},
            dict(_inputs(), head_size=np.ones(3)),
        )
    with pytest.raises(ValueError, match="torso"):
        PCKAccuracy(norm_item="torso").process(
            {"keypoints": np.zeros((2, 4, 2))}, _inputs(k=4)
        )
    with pytest.raises(ValueError, match="before any batch"):
        PCKAccuracy().evaluate()

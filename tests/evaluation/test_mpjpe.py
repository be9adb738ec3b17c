"""MPJPE metric against MMPose 1.3.2."""

import numpy as np
import pytest

import keraspose
from keraspose.evaluation import MPJPE
from tests.evaluation import mmpose_metric_cases as cases
from tests.helpers import run_object_test

CASES = ["mpjpe", "p_mpjpe", "n_mpjpe", "mpjpe_skip", "p_mpjpe_frames"]


def assert_matches(got, want):
    assert list(got) == list(want)
    np.testing.assert_allclose(
        list(got.values()), list(want.values()), rtol=1e-6
    )


@pytest.mark.parametrize("case", CASES)
def test_matches_mmpose(case):
    assert_matches(cases.run(case), cases.expected(case))


@pytest.mark.parametrize("case", ["mpjpe", "p_mpjpe_frames"])
def test_without_actions_reports_the_overall_error(case):
    got = cases.run(case, has_action=False)
    key = next(iter(cases.expected(case)))
    assert list(got) == [key]
    np.testing.assert_allclose(got[key], cases.expected(case)[key], rtol=1e-6)


def test_prediction_without_frame_axis_and_bytes_paths():
    pred, inputs, _ = cases.arrays("mpjpe")
    inputs = dict(
        inputs,
        target_img_path=np.array(
            [s.encode() for s in inputs["target_img_path"]]
        ),
        lifting_target_visible=inputs["lifting_target_visible"][..., 0],
    )
    metric = keraspose.build(cases.config("p_mpjpe"))
    metric.process({"keypoints": pred[:, 0]}, inputs)
    assert_matches(metric.evaluate(), cases.expected("p_mpjpe"))


@pytest.mark.parametrize("case", ["p_mpjpe", "mpjpe_skip"])
def test_config_and_serialization_round_trip(case):
    run_object_test(cases.config(case), lambda m: cases.feed(m, case))


def test_required_keys():
    assert MPJPE().required_keys == ("lifting_target", "lifting_target_visible")
    assert MPJPE(has_action=True).required_keys[-1] == "target_img_path"
    assert MPJPE(skip_list=["S9_Greeting"]).required_keys[-1] == (
        "target_img_path"
    )


def test_errors():
    pred, inputs, _ = cases.arrays("mpjpe")
    with pytest.raises(ValueError, match="mode"):
        MPJPE(mode="pa-mpjpe")
    with pytest.raises(ValueError, match="skip_list"):
        MPJPE(skip_list="S9_Greeting")
    no_paths = {k: v for k, v in inputs.items() if k != "target_img_path"}
    with pytest.raises(ValueError, match="target_img_path"):
        MPJPE(has_action=True).process({"keypoints": pred}, no_paths)
    with pytest.raises(ValueError, match="does not match"):
        MPJPE().process({"keypoints": pred[:, :, :16]}, no_paths)
    bad = dict(no_paths, lifting_target_visible=np.ones((12, 16)))
    with pytest.raises(ValueError, match="lifting_target_visible"):
        MPJPE().process({"keypoints": pred}, bad)
    bad = dict(inputs, target_img_path=np.array(["frame.jpg"] * 12))
    with pytest.raises(ValueError, match="action"):
        MPJPE(has_action=True).process({"keypoints": pred}, bad)
    metric = MPJPE(skip_list=["S9_Directions", "S11_Directions"])
    one = {k: v[:1] for k, v in inputs.items()}
    one["target_img_path"] = np.array(["S9_Directions.1_000001.jpg"])
    metric.process({"keypoints": pred[:1]}, one)
    with pytest.raises(ValueError, match="skipped"):
        metric.evaluate()
    metric = MPJPE()
    hidden = dict(no_paths, lifting_target_visible=np.zeros((12, 17)))
    metric.process({"keypoints": pred}, hidden)
    with pytest.raises(ValueError, match="no keypoint"):
        metric.evaluate()


@pytest.mark.parametrize("case", ["mpjpe", "p_mpjpe", "n_mpjpe"])
def test_unit_scale_reports_millimetres(case):
    # MMPose reports the data's unit (metres on Human3.6M); unit_scale=1000
    # gives millimetres for the overall and the per-action errors.
    got = cases.run(case, unit_scale=1000)
    want = {k: 1000 * v for k, v in cases.expected(case).items()}
    assert_matches(got, want)
    pred, inputs, _ = cases.arrays(case)
    metric = MPJPE(mode=cases.config(case)["mode"], unit_scale=1000)
    metric.process(
        {"keypoints": pred / 1000},
        dict(inputs, lifting_target=inputs["lifting_target"] / 1000),
    )
    key = next(iter(want))
    np.testing.assert_allclose(
        metric.evaluate()[key], cases.expected(case)[key], rtol=1e-6
    )


def test_unit_scale_config_round_trip_and_errors():
    run_object_test(
        cases.config("p_mpjpe", unit_scale=1000.0),
        lambda m: cases.feed(m, "p_mpjpe"),
    )
    assert MPJPE().unit_scale == 1.0
    for bad in (0, -1.0, "mm", True, float("nan")):
        with pytest.raises(ValueError, match="unit_scale"):
            MPJPE(unit_scale=bad)

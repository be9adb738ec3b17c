"""AUC and EPE metrics against MMPose 1.3.2."""

import numpy as np
import pytest

import keraspose
from keraspose.evaluation import AUC
from keraspose.evaluation import EPE
from tests.evaluation import mmpose_metric_cases as cases
from tests.helpers import run_object_test


@pytest.mark.parametrize("case", ["auc", "auc_10_7", "epe"])
def test_matches_mmpose(case):
    got, want = cases.run(case), cases.expected(case)
    assert list(got) == list(want)
    np.testing.assert_allclose(
        list(got.values()), list(want.values()), rtol=1e-6
    )


@pytest.mark.parametrize("case", ["auc_10_7", "epe"])
def test_config_and_serialization_round_trip(case):
    run_object_test(cases.config(case), lambda m: cases.feed(m, case))


def test_build_defaults():
    auc = keraspose.build(dict(type="AUC"))
    assert auc.get_config() == {
        "norm_factor": 30,
        "num_thrs": 20,
        "prefix": None,
    }
    assert keraspose.build(dict(type="EPE")).get_config() == {"prefix": None}
    assert (
        AUC.required_keys
        == EPE.required_keys
        == (
            "keypoints",
            "keypoints_visible",
        )
    )


def test_errors():
    with pytest.raises(ValueError, match="norm_factor"):
        AUC(norm_factor=0)
    with pytest.raises(ValueError, match="num_thrs"):
        AUC(num_thrs=0)
    with pytest.raises(ValueError, match=r"EPE needs inputs\['keypoints'\]"):
        EPE().process({"keypoints": np.zeros((1, 3, 2))}, {})
    with pytest.raises(ValueError, match="same shape"):
        AUC().process(
            {"keypoints": np.zeros((1, 3, 2))},
            {
                "keypoints": np.zeros((2, 3, 2)),
                "keypoints_visible": np.ones((2, 3)),
            },
        )

import numpy as np
import pytest

from keraspose.evaluation.functional import nearby_joints_nms
from keraspose.evaluation.functional.nms import nearby_joints_nms_arrays
from tests.conftest import FIXTURES

CASES = {
    "default": dict(score_per_joint=True),
    "dist02": dict(dist_thr=0.2, score_per_joint=True),
    "joints1": dict(
        dist_thr=0.1, num_nearby_joints_thr=1, score_per_joint=True
    ),
    "max3": dict(dist_thr=0.2, score_per_joint=True, max_dets=3),
    "instance_scores": dict(dist_thr=0.1, max_dets=4),
}


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_spr.npz"))


def _db(fx, per_joint):
    kpts, scores = fx["nms_kpts"], fx["nms_scores"]
    if per_joint:
        return [dict(keypoints=k, score=s) for k, s in zip(kpts, scores)]
    return [dict(keypoints=k, score=s.mean()) for k, s in zip(kpts, scores)]


@pytest.mark.parametrize("tag", sorted(CASES))
def test_equals_mmpose(fx, tag):
    cfg = CASES[tag]
    keep = nearby_joints_nms(_db(fx, cfg.get("score_per_joint")), **cfg)
    assert keep.dtype == np.intp
    np.testing.assert_array_equal(keep, fx[f"nms_{tag}_keep"])


def test_arrays_variant(fx):
    keep = nearby_joints_nms_arrays(
        fx["nms_kpts"], fx["nms_scores"].mean(1), dist_thr=0.2, max_dets=3
    )
    np.testing.assert_array_equal(keep, fx["nms_max3_keep"])


def test_edge_cases():
    assert nearby_joints_nms([]).tolist() == []
    point = np.zeros((3, 2))  # zero-size pose: its own group
    db = [dict(keypoints=point, score=0.5), dict(keypoints=point + 9, score=1)]
    assert nearby_joints_nms(db).tolist() == [1, 0]
    with pytest.raises(ValueError, match="dist_thr"):
        nearby_joints_nms(db, dist_thr=0)
    with pytest.raises(ValueError, match="num_nearby_joints_thr"):
        nearby_joints_nms(db, num_nearby_joints_thr=3)
    with pytest.raises(ValueError, match="'keypoints'"):
        nearby_joints_nms([dict(keypoints=point)])

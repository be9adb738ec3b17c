import numpy as np
import pytest

from keraspose.evaluation.functional import nms
from keraspose.evaluation.functional import oks_iou
from keraspose.evaluation.functional import oks_nms
from keraspose.evaluation.functional import soft_oks_nms
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def fx():
    return dict(np.load(FIXTURES / "mmpose_coco_metric.npz"))


def _db(fx, per_joint=False):
    return [
        dict(
            keypoints=fx["nms_kpts"][i],
            score=(fx["nms_joint_scores"] if per_joint else fx["nms_scores"])[
                i
            ],
            area=fx["nms_areas"][i],
        )
        for i in range(len(fx["nms_kpts"]))
    ]


def test_oks_iou_equals_mmpose(fx):
    flat = fx["nms_kpts"].reshape(len(fx["nms_kpts"]), -1)
    areas = fx["nms_areas"]
    ious = oks_iou(flat[0], flat[1:], areas[0], areas[1:])
    assert ious.dtype == np.float32
    np.testing.assert_array_equal(ious, fx["nms_oks_iou"])
    ious = oks_iou(
        flat[0], flat[1:], areas[0], areas[1:], fx["nms_sigmas"], 0.3
    )
    np.testing.assert_array_equal(ious, fx["nms_oks_iou_vis"])


@pytest.mark.parametrize(
    "name, fn, kwargs",
    [
        ("oks_thr09", oks_nms, dict(thr=0.9)),
        ("oks_thr05", oks_nms, dict(thr=0.5)),
        ("oks_thr03", oks_nms, dict(thr=0.3)),
        ("oks_sigmas_vis", oks_nms, dict(thr=0.5, vis_thr=0.3)),
        ("oks_per_joint", oks_nms, dict(thr=0.5, score_per_joint=True)),
        ("soft_thr03", soft_oks_nms, dict(thr=0.3)),
        ("soft_thr09_max5", soft_oks_nms, dict(thr=0.9, max_dets=5)),
        ("soft_per_joint", soft_oks_nms, dict(thr=0.5, score_per_joint=True)),
    ],
)
def test_oks_nms_equals_mmpose(fx, name, fn, kwargs):
    if name == "oks_sigmas_vis":
        kwargs = dict(kwargs, sigmas=fx["nms_sigmas"])
    keep = fn(_db(fx, kwargs.get("score_per_joint", False)), **kwargs)
    np.testing.assert_array_equal(keep, fx[f"nms_keep_{name}"])


@pytest.mark.parametrize("thr", [0.3, 0.7])
def test_box_nms_equals_mmpose(fx, thr):
    keep = nms(fx["nms_dets"], thr)
    name = f"box_thr{str(thr).replace('.', '')}"
    np.testing.assert_array_equal(keep, fx[f"nms_keep_{name}"])


def test_empty_and_single_inputs():
    for fn in (oks_nms, soft_oks_nms):
        keep = fn([], 0.9)
        assert keep.shape == (0,) and keep.dtype == np.intp
    assert nms(np.zeros((0, 5)), 0.5).shape == (0,)
    one = [dict(keypoints=np.ones((17, 3)), score=0.5, area=10.0)]
    assert oks_nms(one, 0.9).tolist() == [0]
    assert soft_oks_nms(one, 0.9).tolist() == [0]
    empty = oks_iou(np.ones(51), np.zeros((0, 51)), 1.0, np.zeros(0))
    assert empty.shape == (0,)


def test_oks_iou_properties():
    g = np.array([10.0, 10.0, 1.0, 20.0, 20.0, 1.0])
    sig = [0.1, 0.1]
    assert oks_iou(g, g[None], 100.0, np.array([100.0]), sig)[0] == 1.0
    far = g.copy()
    far[0::3] += 100
    assert oks_iou(g, far[None], 100.0, np.array([100.0]), sig)[0] < 1e-6
    # vis_thr leaves out keypoints; none left gives 0.
    hidden = g.copy()
    hidden[2::3] = 0
    ious = oks_iou(g, hidden[None], 100.0, np.array([100.0]), sig, 0.5)
    assert ious[0] == 0.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="one sigma per keypoint"):
        oks_iou(np.ones(6), np.ones((1, 6)), 1.0, np.ones(1))
    with pytest.raises(ValueError, match=r"\(N, K \* 3\)"):
        oks_iou(np.ones(6), np.ones((1, 9)), 1.0, np.ones(1), [0.1, 0.1])
    with pytest.raises(ValueError, match="a_d"):
        oks_iou(np.ones(6), np.ones((2, 6)), 1.0, np.ones(3), [0.1, 0.1])
    with pytest.raises(ValueError, match="'keypoints'"):
        oks_nms([dict(keypoints=np.ones((2, 3)), score=1.0)], 0.9)
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        nms(np.ones((3, 4)), 0.5)

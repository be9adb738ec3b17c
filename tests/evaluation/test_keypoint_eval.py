"""Keypoint functions against MMPose 1.3.2 (fixtures/mmpose_metrics.npz)."""

import numpy as np
import pytest

from keraspose.evaluation.functional import compute_similarity_transform
from keraspose.evaluation.functional import keypoint_auc
from keraspose.evaluation.functional import keypoint_epe
from keraspose.evaluation.functional import keypoint_mpjpe
from keraspose.evaluation.functional import keypoint_nme
from keraspose.evaluation.functional import keypoint_pck_accuracy
from keraspose.evaluation.functional.keypoint_eval import _calc_distances
from keraspose.evaluation.functional.keypoint_eval import _distance_acc
from tests.evaluation import mmpose_metric_cases

RTOL = 1e-6


@pytest.fixture(scope="module")
def fx():
    return mmpose_metric_cases.load()


def test_pck_accuracy():
    pred = np.array([[[0, 0], [1, 1], [10, 10]]], "float32")
    gt = np.array([[[0, 0], [0, 0], [0, 0]]], "float32")
    mask = np.array([[True, True, False]])
    acc, avg, cnt = keypoint_pck_accuracy(
        pred, gt, mask, 0.2, np.full((1, 2), 10.0)
    )
    np.testing.assert_allclose(acc, [1.0, 1.0, -1])
    assert avg == 1.0 and cnt == 2
    acc, avg, cnt = keypoint_pck_accuracy(
        pred, gt, mask, 0.1, np.full((1, 2), 10.0)
    )
    assert avg == 0.5


def test_pck_matches_mmpose(fx):
    args = fx["fn_pred"], fx["fn_gt"], fx["fn_mask"]
    for i, thr in enumerate(fx["fn_thrs"]):
        acc, avg, cnt = keypoint_pck_accuracy(*args, thr, fx["fn_norm"])
        np.testing.assert_allclose(acc, fx["fn_pck_acc"][i], rtol=RTOL)
        np.testing.assert_allclose(avg, fx["fn_pck_avg"][i], rtol=RTOL)
        assert cnt == fx["fn_pck_cnt"][i]
    # Keypoint 5 is never visible: MMPose's -1.
    assert (fx["fn_pck_acc"][:, 5] == -1).all()


def test_pck_threshold_ties_match_mmpose(fx):
    # Row 5 lies exactly at float32(0.7) times its norm factor, and
    # float32(0.7) < 0.7: MMPose (NumPy 1) compares in float32 and counts
    # it wrong, a float64 comparison (NumPy 2 with an np.float64 threshold)
    # would count it right. The port pins MMPose's float32 comparison.
    rows = slice(5, 6)
    args = fx["fn_pred"][rows], fx["fn_gt"][rows], fx["fn_mask"][rows]
    thr = np.float64(0.7)
    dist = _calc_distances(*args, fx["fn_norm"][rows])
    assert dist.dtype == np.float32 and dist.shape == (6, 1)
    assert (dist[:5, 0] < thr).all()  # the naive comparison
    assert [_distance_acc(d, thr) for d in dist[:5]] == [0.0] * 5
    acc = keypoint_pck_accuracy(*args, thr, fx["fn_norm"][rows])[0]
    np.testing.assert_array_equal(acc, [0, 0, 0, 0, 0, -1])
    assert fx["fn_thrs"][4] == thr  # and the whole table matches MMPose's


def test_pck_degenerate(fx):
    acc, avg, cnt = keypoint_pck_accuracy(
        fx["fn_pred"],
        fx["fn_gt"],
        np.zeros_like(fx["fn_mask"]),
        0.2,
        fx["fn_norm"],
    )
    np.testing.assert_array_equal(acc, fx["fn_pck_empty_acc"])
    assert (acc == -1).all()
    assert avg == fx["fn_pck_empty_avg"] == 0.0
    assert cnt == fx["fn_pck_empty_cnt"] == 0


def test_zero_and_negative_norm_factor():
    pred = np.zeros((3, 1, 2), np.float32)
    gt = np.full((3, 1, 2), 3.0, np.float32)
    mask = np.ones((3, 1), bool)
    norm = np.array([[0.0, 10.0], [-1.0, -1.0], [10.0, 10.0]], np.float32)
    dist = _calc_distances(pred, gt, mask, norm)
    assert dist[0, 0] == -1  # any zero factor: instance left out
    np.testing.assert_allclose(dist[0, 1], np.hypot(3, 3) / 1e6, rtol=RTOL)
    np.testing.assert_allclose(dist[0, 2], np.hypot(3, 3) / 10, rtol=RTOL)


def test_arguments_are_not_modified(fx):
    norm = fx["fn_norm"].copy()
    mask = fx["fn_mask"].copy()
    keypoint_pck_accuracy(fx["fn_pred"], fx["fn_gt"], mask, 0.2, norm)
    keypoint_nme(fx["fn_pred"], fx["fn_gt"], mask, norm)
    np.testing.assert_array_equal(norm, fx["fn_norm"])
    np.testing.assert_array_equal(mask, fx["fn_mask"])


def test_auc_matches_mmpose(fx):
    args = fx["fn_pred"], fx["fn_gt"], fx["fn_mask"]
    for norm_factor, num_thrs, want in zip(
        fx["fn_auc_norm"], fx["fn_auc_num_thrs"], fx["fn_auc"]
    ):
        got = keypoint_auc(*args, norm_factor, int(num_thrs))
        np.testing.assert_allclose(got, want, rtol=RTOL)
    # Integer norm factors (MMPose's default 30) give the same numbers.
    np.testing.assert_allclose(
        keypoint_auc(*args, 30), fx["fn_auc"][0], rtol=RTOL
    )


def test_nme_epe_match_mmpose(fx):
    args = fx["fn_pred"], fx["fn_gt"], fx["fn_mask"]
    np.testing.assert_allclose(
        keypoint_nme(*args, fx["fn_norm"]), fx["fn_nme"], rtol=RTOL
    )
    empty = np.zeros_like(fx["fn_mask"])
    assert keypoint_nme(*args[:2], empty, fx["fn_norm"]) == fx["fn_nme_empty"]
    assert fx["fn_nme_empty"] == 0.0
    np.testing.assert_allclose(keypoint_epe(*args), fx["fn_epe"], rtol=RTOL)
    np.testing.assert_allclose(
        keypoint_epe(fx["fn3d_pred"], fx["fn3d_gt"], fx["fn3d_mask"]),
        fx["fn_epe3d"],
        rtol=RTOL,
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mpjpe_matches_mmpose(fx, dtype):
    pred = fx["fn3d_pred"].astype(dtype)
    gt = fx["fn3d_gt"].astype(dtype)
    for i, alignment in enumerate(("none", "procrustes", "scale")):
        got = keypoint_mpjpe(pred, gt, fx["fn3d_mask"], alignment)
        np.testing.assert_allclose(got, fx[f"fn_mpjpe_{dtype}"][i], rtol=RTOL)


def test_similarity_transform_matches_mmpose(fx):
    got = compute_similarity_transform(fx["fn_sim_src"], fx["fn_sim_tgt"])
    np.testing.assert_allclose(got, fx["fn_sim_out"], rtol=RTOL, atol=1e-12)


def test_alignments_recover_transformed_poses():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(4, 17, 3))
    mask = np.ones((4, 17), bool)
    q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    q *= np.sign(np.linalg.det(q))
    moved = 1.7 * gt @ q.T + 3.0
    assert keypoint_mpjpe(moved, gt, mask) > 1.0
    assert keypoint_mpjpe(moved, gt, mask, "procrustes") < 1e-9
    assert keypoint_mpjpe(0.5 * gt, gt, mask, "scale") < 1e-12


def test_function_errors():
    pred = np.zeros((2, 3, 2))
    mask = np.ones((2, 3), bool)
    with pytest.raises(ValueError, match="same shape"):
        keypoint_pck_accuracy(pred, np.zeros((2, 4, 2)), mask, 0.1, [[1, 1]])
    with pytest.raises(ValueError, match=r"mask.*\(2, 3\)"):
        keypoint_epe(pred, pred, np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="norm_factor"):
        keypoint_nme(pred, pred, mask, np.ones((3, 2)))
    with pytest.raises(ValueError, match="alignment"):
        keypoint_mpjpe(pred, pred, mask, "rigid")
    with pytest.raises(ValueError, match="no keypoint"):
        keypoint_mpjpe(pred, pred, np.zeros((2, 3), bool))
    with pytest.raises(ValueError, match="D in"):
        keypoint_mpjpe(pred, pred, mask, "procrustes")
    with pytest.raises(ValueError, match=r"\(K, 3\)"):
        compute_similarity_transform(np.zeros((4, 2)), np.zeros((4, 2)))

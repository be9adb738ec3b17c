import numpy as np

from keraspose.evaluation.functional import keypoint_pck_accuracy


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

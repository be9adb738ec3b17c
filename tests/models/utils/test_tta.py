import numpy as np
import pytest

from keraspose.models.utils.tta import flip_heatmaps
from keraspose.models.utils.tta import flip_visibility
from tests.helpers import to_numpy


def _cl(x):
    return np.transpose(x, (0, 2, 3, 1))


@pytest.mark.parametrize("shift", [False, True])
def test_flip_heatmaps_matches_mmpose(mmpose_fixture, shift):
    f = mmpose_fixture
    out = flip_heatmaps(
        _cl(f["flip_input"]), list(f["flip_indices"]), "heatmap", shift
    )
    np.testing.assert_allclose(
        to_numpy(out), _cl(f[f"flip_heatmap_{int(shift)}"]), atol=1e-5
    )


def test_flip_udp_and_offset_match_mmpose(mmpose_fixture):
    f = mmpose_fixture
    idx = list(f["flip_indices"])
    out = flip_heatmaps(_cl(f["flip_udp_input"]), idx, "udp_combined", True)
    np.testing.assert_allclose(to_numpy(out), _cl(f["flip_udp"]), atol=1e-5)
    out = flip_heatmaps(_cl(f["flip_offset_input"]), idx, "offset", False)
    np.testing.assert_allclose(to_numpy(out), _cl(f["flip_offset"]), atol=1e-5)


def test_flip_errors():
    hm = np.zeros((1, 2, 2, 3), "float32")
    with pytest.raises(ValueError, match="Expected 3 flip_indices"):
        flip_heatmaps(hm, [0, 1])
    with pytest.raises(ValueError, match="flip_mode"):
        flip_heatmaps(hm, [0, 1, 2], flip_mode="bogus")
    vis = np.array([[0.1, 0.9]], "float32")
    np.testing.assert_allclose(
        to_numpy(flip_visibility(vis, [1, 0])), [[0.9, 0.1]]
    )

import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy

CFG = dict(
    type="PoseDataPreprocessor",
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
)


def test_preprocessor_component(tmp_path):
    x = (
        np.random.default_rng(0)
        .uniform(0, 255, size=(2, 6, 5, 3))
        .astype("float32")
    )
    run_layer_test(CFG, x, tmp_path, (2, 6, 5, 3), train=False)


def test_preprocessor_numbers_and_padding():
    x = (
        np.random.default_rng(0)
        .uniform(0, 255, size=(1, 5, 3, 3))
        .astype("float32")
    )
    pre = keraspose.build(dict(CFG, pad_size_divisor=4, pad_value=-1))
    y = to_numpy(pre(x))
    expected = (x[..., ::-1] - np.array(CFG["mean"])) / np.array(CFG["std"])
    np.testing.assert_allclose(y[:, :5, :3], expected, atol=1e-5)
    assert y.shape == (1, 8, 4, 3)
    assert (y[:, 5:] == -1).all()


def test_preprocessor_errors():
    pre = keraspose.build(CFG)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        pre(np.zeros((4, 4, 3), "float32"))
    with pytest.raises(ValueError, match="3 channels"):
        pre(np.zeros((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="both"):
        keraspose.build(dict(type="PoseDataPreprocessor", mean=[0, 0, 0]))

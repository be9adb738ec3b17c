import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy


def test_gap_neck_component(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 4, 3, 8)).astype("float32")
    layer = run_layer_test(dict(type="GlobalAveragePooling"), (x,), tmp_path)
    out = layer(x)
    np.testing.assert_allclose(to_numpy(out), x.mean(axis=(1, 2)), atol=1e-6)
    assert isinstance(layer([x, x]), list)


def test_gap_neck_bad_input():
    neck = keraspose.build(dict(type="GlobalAveragePooling"))
    with pytest.raises(ValueError, match="N, H, W, C"):
        neck(np.zeros((2, 8), "float32"))

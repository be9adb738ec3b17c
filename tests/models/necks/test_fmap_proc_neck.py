import numpy as np
import pytest

import keraspose
from tests.helpers import run_layer_test
from tests.helpers import to_numpy
from tests.models.necks.neck_fixtures import check_mmpose_forward
from tests.models.necks.neck_fixtures import fixture_tags


def _feats(*shapes):
    rng = np.random.default_rng(0)
    return tuple(rng.normal(size=s).astype("float32") for s in shapes)


def test_fmap_proc_component(tmp_path):
    feats = _feats((2, 7, 5, 2), (2, 4, 3, 3), (2, 2, 2, 4))
    cfg = dict(
        type="FeatureMapProcessor",
        select_index=(0, 2),
        concat=True,
        scale_factor=1.5,
        apply_relu=True,
    )
    run_layer_test(cfg, feats, tmp_path, (2, 10, 7, 6))


def test_fmap_proc_single_tensor_component(tmp_path):
    (x,) = _feats((2, 5, 3, 2))
    cfg = dict(type="FeatureMapProcessor", scale_factor=2.0)
    run_layer_test(cfg, x, tmp_path, (2, 10, 6, 2))


@pytest.mark.parametrize("tag", fixture_tags("fmp_"))
def test_fmap_proc_matches_mmpose(tag):
    check_mmpose_forward(tag)


def test_fmap_proc_shapes_and_defaults():
    neck = keraspose.build(dict(type="FeatureMapProcessor"))
    feats = _feats((1, 4, 4, 2), (1, 2, 2, 3))
    out = neck(feats)
    assert isinstance(out, tuple) and len(out) == 2
    np.testing.assert_array_equal(to_numpy(out[1]), feats[1])
    shape = neck.compute_output_shape(((None, 4, 4, 2), (None, 2, 2, 3)))
    assert shape == ((None, 4, 4, 2), (None, 2, 2, 3))
    neck = keraspose.build(
        dict(type="FeatureMapProcessor", select_index=-1, scale_factor=0.5)
    )
    assert neck.compute_output_shape(((None, 4, 4, 2), (None, 3, 5, 3))) == (
        (None, 1, 2, 3),
    )


def test_fmap_proc_bad_arguments():
    with pytest.raises(ValueError, match="scale_factor"):
        keraspose.build(dict(type="FeatureMapProcessor", scale_factor=0))
    with pytest.raises(ValueError, match="select_index"):
        keraspose.build(dict(type="FeatureMapProcessor", select_index=()))
    neck = keraspose.build(dict(type="FeatureMapProcessor", select_index=2))
    with pytest.raises(ValueError, match="select_index=\\(2,\\)"):
        neck(_feats((1, 4, 4, 2), (1, 2, 2, 3)))
